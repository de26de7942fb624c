"""Opening a big round: the clerk's click on Open the round, with every invitation queued in it.

A board of `--trustees` trustees and a clerk, stored through the board store on a throwaway
redis-server (deploy/redis.conf). The board desk, built as bot/root.py builds it but with a
recording fake of Teams (its roster the board's members, so the refresh at opening changes
nothing) and the real outbox behind `OutboxMailer`, handles the clerk's `round.open` click from
their 1:1 chat: the round is opened by its script, its deadline and reminder go on the agenda,
one delivery job per trustee is queued in the outbox, the channel's notice is queued, the board
card is refreshed and the clerk's round card rendered. No delivery worker runs: this is the
click alone, which Teams gives 5 seconds before it tells the clerk something went wrong.

Each repetition opens a round on a board of its own. Reported: the click's wall time (median,
min, max over repetitions), the part of it spent queueing the invitations (`Mailer.queue`),
the jobs queued, and Redis commands per click (INFO commandstats, commands inside scripts
counted too). Target: at most 0.5 s for 1,000 trustees.

    .venv/bin/python -m bench.opening                   (scripts/bench opening)
    .venv/bin/python -m bench.opening --trustees 200 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.common import RESULTS, table, write
from bench.delivery import command_counts, iso, member, tenant_id
from bot.delivery import Outbox
from bot.mailer import OutboxMailer
from dialogs.boards.agenda import Agenda
from dialogs.boards.desk import Desk
from dialogs.boards.model import CLERK, Board
from dialogs.boards.payloads import RoundOpen
from dialogs.boards.ports import RosterMember
from dialogs.boards.rules import RoundRules
from dialogs.boards.store import BoardStore
from dialogs.messages import Action, Place, Turn
from dialogs.state import Who
from dialogs.store import Keys, Store, connect
from frameworks import load_all
from tests.support.activities import channel
from tests.support.desk_fakes import RecordingTeams
from tests.support.redis_server import RedisServer

FRAMEWORK = "cst-trust-governance"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
TARGET_S = 0.5
MESSAGE = "Please complete this before our December meeting; your answers are saved as you go."


class TimedMailer(OutboxMailer):
    """The outbox's mailer, timing its `queue` calls (the invitations)."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__(outbox)
        self.queue_s = 0.0
        self.queued = 0

    async def queue(self, *args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            await super().queue(*args, **kwargs)
        finally:
            self.queue_s += time.perf_counter() - started
            self.queued += len(args[4])


async def board_of(boards: BoardStore, number: int, trustees: int) -> tuple[Board, RecordingTeams]:
    """A board with a clerk and `trustees` trustees, stored; a Teams fake whose roster they are."""
    tenant = tenant_id(1)
    team = channel(f"Opening bench {number}")
    assert team.team_id is not None
    clerk = member(f"Clerk of opening board {number}", CLERK)
    people = [member(f"Trustee {n} of opening board {number}") for n in range(1, trustees + 1)]
    now = iso(datetime.now(UTC))
    fields = {"name": f"Opening Trust {number}", "service_url": SERVICE_URL, "channel": team.id}
    await boards.ensure(tenant, team.team_id, now, fields)
    await boards.claim_clerk(tenant, team.team_id, clerk, (clerk, *people))
    board = await boards.board(tenant, team.team_id)
    assert board is not None and len(board.trustees) == trustees
    teams = RecordingTeams()
    teams.rosters[board.id] = [RosterMember(m.teams_id, m.key, m.name) for m in (clerk, *people)]
    return board, teams


def click(board: Board, elements: Sequence[int]) -> Turn:
    """The clerk's Open the round, on the form in their 1:1 chat."""
    clerk = board.clerks[0]
    deadline = (datetime.now(UTC) + timedelta(days=14)).date().isoformat()
    data = RoundOpen.model_validate({"b": board.id, "fw": FRAMEWORK}).pack()
    # The form's inputs, as Teams merges them into the button's data.
    data.update(elements=",".join(str(n) for n in elements), deadline=deadline, message=MESSAGE)
    place = Place(
        kind="personal",
        conversation=f"a:1-{clerk.teams_id}",
        service_url=SERVICE_URL,
        sender_id=clerk.teams_id,
        reply_to="form-activity",
    )
    who = Who(board.tenant, clerk.key, clerk.name)
    return Turn(who, datetime.now(UTC), action=Action(RoundOpen.verb, data), place=place)


async def one(redis: Redis, number: int, trustees: int) -> dict[str, Any]:
    frameworks = load_all()
    boards = BoardStore(redis)
    board, teams = await board_of(boards, number, trustees)
    mailer = TimedMailer(Outbox(redis))
    desk = Desk(
        boards, Store(redis, Keys()), frameworks, teams, mailer, Agenda(redis), rules=RoundRules()
    )
    turn = click(board, [e.number for e in frameworks[FRAMEWORK].elements])
    before = await command_counts(redis)
    started = time.perf_counter()
    reply = await desk.handle(turn)
    took = time.perf_counter() - started
    commands = await command_counts(redis) - before
    await desk.settle()
    shown = [reply.replace, *reply.send]
    text = json.dumps([getattr(m, "content", getattr(m, "text", "")) for m in shown])
    if "Round opened" not in text:
        raise RuntimeError("the round did not open: " + text[:3000])
    return {
        "click_s": took,
        "queue_s": mailer.queue_s,
        "queued": mailer.queued,
        "redis_commands": sum(commands.values()),
    }


async def main(trustees: int, repeat: int) -> dict[str, Any]:
    runs = []
    with tempfile.TemporaryDirectory() as scratch, RedisServer(Path(scratch)) as server:
        redis = connect(server.url)
        try:
            await one(redis, 0, min(trustees, 20))  # warm: scripts loaded, imports done
            for number in range(1, repeat + 1):
                runs.append(await one(redis, number, trustees))
        finally:
            await redis.aclose()
    clicks = [r["click_s"] for r in runs]
    queues = [r["queue_s"] for r in runs]
    return {
        "setup": {"trustees": trustees, "repeat": repeat, "target_s": TARGET_S},
        "load_average": os.getloadavg()[0],
        "runs": [
            {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in runs
        ],
        "click_s": summary(clicks),
        "queue_s": summary(queues),
        "redis_commands_per_click": int(statistics.median(r["redis_commands"] for r in runs)),
        "jobs_queued": runs[0]["queued"] if runs else 0,
    }


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def report(result: dict[str, Any]) -> None:
    setup = result["setup"]
    print(f"setup: {json.dumps(setup)}; load average {result['load_average']:.1f}")
    rows = [
        [
            n,
            r["queued"],
            f"{r['queue_s']:.3f}",
            f"{r['click_s']:.3f}",
            r["redis_commands"],
        ]
        for n, r in enumerate(result["runs"], start=1)
    ]
    print(table(rows, ["run", "jobs queued", "queueing s", "click s", "Redis commands"]))
    click_s, queue_s = result["click_s"], result["queue_s"]
    print()
    print(
        f"opening a round of {setup['trustees']} trustees: the click took {click_s['median']} s "
        f"at the median ({click_s['min']}-{click_s['max']}), {queue_s['median']} s of it "
        f"queueing the invitations; {result['redis_commands_per_click']} Redis commands "
        f"(target <= {TARGET_S} s)"
    )


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.opening", description=__doc__.split("\n")[0])
    parser.add_argument("--trustees", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "opening.json")
    return parser.parse_args(argv)


def cli(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = arguments(argv)
    if args.trustees < 1 or args.repeat < 1:
        raise SystemExit("need at least one trustee and one repetition")
    result = asyncio.run(main(args.trustees, args.repeat))
    path = write(args.out, result)
    report(result)
    print(f"(written to {path})")
    return result


if __name__ == "__main__":
    cli()
