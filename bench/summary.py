"""The round summary: aggregating a closed round and rendering its card, against one echo turn.

A board's round of 20 trustees × 16 elements (300 characters of evidence on every answer, 19
finished, 1 still in progress when the round closes), and a view over 5 such boards (100
trustees' answers in one summary and one card: there is no cross-board view in trustboard yet,
so this measures `summarise` and `round_summary_card` at that size). Two paths:

- compute: `summarise` + `round_summary_card` from answers already in memory (for one board, the
  channel's anonymous card and the chair's card of an attributed round, with names);
- with Redis: the data stored through the real stores (BoardStore for the board and its round,
  Store for each trustee's answers, the round closed and the answers locked as closing does),
  then `RoundService.read` and `summary_card` (every invited trustee's answers read once from a
  real redis-server, then the card) against a throwaway redis-server from deploy/redis.conf. The
  5-board view reads each board's answers with `Reader.answers`, then summarises them
  together.

Each is timed many times and its median is divided by the median latency of one echo turn: the
stock botbuilder echo bot (bench/echo_bot.py) answering one user's messages one at a time over
HTTP, replying through the same local fake connector, measured in the same run (before and after
the summaries). Card size is the card's JSON as it travels (non-ASCII escaped); Teams refuses
messages over about 28 KB and trustboard's own budget is 27,000 bytes.

    .venv/bin/python -m bench.summary            (scripts/bench summary)
    .venv/bin/python -m bench.summary --repeat 5 --echo-turns 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis.utils import HIREDIS_AVAILABLE

from bench.common import ECHO_COMMAND, RESULTS, Poster, Timings, echo_user, session, table, write
from bench.delivery import BenchBoard, bench_board, iso, store_board, tenant_id
from bot.teams import message as card_message
from dialogs.boards.desk import Desk
from dialogs.boards.store import BoardStore
from dialogs.messages import Card
from dialogs.rounds import Response, RoundSettings, round_summary_card, summarise
from dialogs.state import Answer, Who, round_scope
from dialogs.store import Store, connect
from frameworks import RATING_CODES, Framework, load_all
from tests.support.activities import Chat, user
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.redis_server import RedisServer

FRAMEWORK = "cst-trust-governance"
TRUSTEES = 20
BOARDS_IN_VIEW = 5
IN_PROGRESS = 1  # trustees still answering when the round closes
EVIDENCE_CHARS = 300
TEAMS_LIMIT = 28 * 1024  # bytes: Teams refuses larger messages ("about 28 KB")
CARD_BUDGET = 27_000  # trustboard's own budget (dialogs/cards/render.py)
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
NOTES = (
    "Minutes of the March and June meetings show the board discussed this with the accounting "
    "officer; the audit and risk committee asked for a deep dive, which is booked for the "
    "autumn term. Trustees challenged the executive on the evidence behind the last report, and "
    "the clerk keeps an action log. We have not yet tested this against recent decisions, and "
    "the skills audit shows gaps in this area that the nominations committee is addressing. "
)


# ---- answers -----------------------------------------------------------------------------------


def evidence(trustee: int, element: int) -> str:
    """300 characters that differ from one trustee and element to the next."""
    text = f"Trustee {trustee}, element {element}: " + NOTES * 2
    return text[:EVIDENCE_CHARS]


def ratings(board: int, trustees: int, elements: Sequence[int]) -> dict[tuple[int, int], str]:
    """A board that mostly agrees, leans Amber, and differs by two steps on a few elements, so
    the card has priorities (R/AR board ratings and "views differ" flags) to fill with notes."""
    pick = random.Random(board)
    found = {}
    for n in elements:
        centre = pick.choice([0, 1, 1, 2, 2, 3])  # R, AR, AG, G
        for t in range(1, trustees + 1):
            step = centre + pick.choice([-1, 0, 0, 0, 1])
            found[(t, n)] = RATING_CODES[max(0, min(3, step))]
    return found


def responses(item: BenchBoard, number: int, framework: Framework, now: str) -> list[Response]:
    elements = item.round.elements
    rated = ratings(number, len(item.trustees), elements)
    found = []
    for t, trustee in enumerate(item.trustees, start=1):
        answers = {n: Answer(rated[(t, n)], evidence(t, n), now) for n in elements}
        finished = t <= len(item.trustees) - IN_PROGRESS
        found.append(Response(trustee.key, trustee.name, answers, finished))
    return found


# ---- the compute path --------------------------------------------------------------------------


def compute(
    framework: Framework, boards: Sequence[tuple[BenchBoard, list[Response]]], attributed: bool
) -> Card:
    """What closing does once the answers are read: summarise, then render the card."""
    rnd = boards[0][0].round
    everyone = [r for _, found in boards for r in found]
    invited = sum(len(item.trustees) for item, _ in boards)
    settings = RoundSettings(attributed=attributed, min_responses=rnd.min_responses)
    summary = summarise(framework, rnd.elements, everyone, invited, settings)
    name = boards[0][0].board.name if len(boards) == 1 else f"{len(boards)} boards of the trust"
    return round_summary_card(summary, name, rnd.closed or rnd.deadline, "execute")


# ---- the path with Redis -----------------------------------------------------------------------


async def store_round(
    desk: Desk, item: BenchBoard, found: list[Response], framework: Framework, now: str
) -> BenchBoard:
    """The board, its round and every trustee's answers through the real stores, as a trustee's
    turns leave them (one assessment each, scoped to the round); then the round closes and its
    answers are locked, as `RoundService.close` does. Returns the board with the closed round."""
    await store_board(desk.boards, item)
    board, rnd = item.board, item.round
    extra = {
        "elements": ",".join(str(n) for n in rnd.elements),
        "round": rnd.id,
        "board": board.id,
        "board_name": board.name,
        "deadline": rnd.deadline,
    }
    for response in found:
        who = Who(board.tenant, response.trustee_id, response.name)
        assessment_id = await desk.store.open_assessment(
            who, framework.id, framework.version, now, scope=round_scope(rnd.id), extra=extra
        )
        fields = {"updated": now, "cursor": "0"}
        for n, answer in response.answers.items():
            fields.update({f"r:{n}": answer.rating or "", f"e:{n}": answer.evidence, f"t:{n}": now})
        await desk.store.update(who, assessment_id, fields)
        if response.finished:
            assessment = await desk.store.assessment(who, assessment_id)
            assert assessment is not None
            await desk.store.finish(who, assessment, now)
    await desk.boards.close_round(board.tenant, board.id, rnd.id, now, item.clerk.key)
    closed = await desk.boards.round(board.tenant, board.id, rnd.id)
    assert closed is not None and not closed.is_open
    await desk.rounds.read_locked(board, closed)
    return BenchBoard(board, closed)


async def with_redis(
    desk: Desk, framework: Framework, boards: Sequence[BenchBoard], attributed: bool
) -> Card:
    """The summary card as the bot makes it when a round closes: answers read from Redis."""
    if len(boards) == 1:
        item = boards[0]
        reading = await desk.rounds.read(item.board, item.round)
        return await desk.rounds.summary_card(reading, attributed)
    # A view over several boards: each board's answers read as a round's reading does, then one
    # summary over all of them.
    found = await asyncio.gather(*(desk.rounds.reader.answers(b.board, b.round) for b in boards))
    everyone = [
        Response(m.key, m.name, answers[m.key].answers, answers[m.key].finished is not None)
        for item, answers in zip(boards, found, strict=True)
        for m in item.round.invited
        if m.key in answers
    ]
    rnd = boards[0].round
    invited = sum(len(b.round.invited) for b in boards)
    settings = RoundSettings(attributed=attributed, min_responses=rnd.min_responses)
    summary = summarise(framework, rnd.elements, everyone, invited, settings)
    name = f"{len(boards)} boards of the trust"
    return round_summary_card(summary, name, rnd.closed or rnd.deadline, "execute")


# ---- timing ------------------------------------------------------------------------------------


async def timed(make: Callable[[], Awaitable[Card]], repeat: int) -> tuple[list[float], Card]:
    card = await make()  # warm: templates compiled, scripts loaded, connections open
    found = []
    for _ in range(repeat):
        started = time.perf_counter()
        card = await make()
        found.append(time.perf_counter() - started)
    return found, card


async def echo_turns(turns: int) -> list[float]:
    """Latency of one echo turn: one user, one message at a time, over HTTP, replies at the
    fake connector; ten turns first to warm up."""
    async with FakeConnector() as connector:
        echo = await asyncio.to_thread(BotProcess({}, command=ECHO_COMMAND).start)
        try:
            async with session(1) as http:
                warm = Poster(echo, http, Timings())
                chat = Chat(service_url=connector.url, user=user("Bench echo user"))
                await echo_user(warm, chat, 10)
                timings = Timings()
                await echo_user(Poster(echo, http, timings), chat, turns)
        finally:
            echo.cleanup()
    if timings.errors:
        raise RuntimeError(f"the echo bot failed {timings.errors} turns")
    return timings.latencies


def card_size(card: Card) -> dict[str, int]:
    return {
        "card_bytes": len(json.dumps(card.content).encode()),
        "message_bytes": len(json.dumps(card_message(card)).encode()),
    }


async def main(repeat: int, turns: int) -> dict[str, Any]:
    framework = load_all()[FRAMEWORK]
    now = iso(datetime.now(UTC))
    tenant = tenant_id(1)
    boards = [
        bench_board(n, tenant, TRUSTEES, SERVICE_URL, framework, chair=True, label="summary board")
        for n in range(1, BOARDS_IN_VIEW + 1)
    ]
    data = [(item, responses(item, n, framework, now)) for n, item in enumerate(boards, 1)]
    echo = await echo_turns(turns)
    rows: list[dict[str, Any]] = []

    async def measure(path: str, view: str, attributed: bool, make: Any) -> None:
        found, card = await timed(make, repeat)
        rows.append(
            {
                "path": path,
                "view": view,
                "attributed": attributed,
                "median_ms": round(1000 * statistics.median(found), 2),
                "max_ms": round(1000 * max(found), 2),
                **card_size(card),
            }
        )

    async def pure(chosen: list[tuple[BenchBoard, list[Response]]], attributed: bool) -> Card:
        return compute(framework, chosen, attributed)

    one = f"1 board, {TRUSTEES} trustees"
    five = f"{BOARDS_IN_VIEW} boards, {BOARDS_IN_VIEW * TRUSTEES} trustees"
    await measure("compute", one, False, lambda: pure(data[:1], False))
    await measure("compute", one, True, lambda: pure(data[:1], True))
    await measure("compute", five, False, lambda: pure(data, False))

    with tempfile.TemporaryDirectory() as scratch, RedisServer(Path(scratch)) as server:
        redis = connect(server.url)
        try:
            await redis.flushall()
            # Only the stores are used on this path: no Teams, mailer or agenda.
            desk = Desk(BoardStore(redis), Store(redis), {framework.id: framework}, *[None] * 3)
            closed = [await store_round(desk, item, found, framework, now) for item, found in data]

            async def read(chosen: list[BenchBoard]) -> Card:
                return await with_redis(desk, framework, chosen, False)

            await measure("redis", one, False, lambda: read(closed[:1]))
            await measure("redis", five, False, lambda: read(closed))
        finally:
            await redis.aclose()

    echo += await echo_turns(turns)  # the baseline after the summaries too, against drift
    echo_ms = 1000 * statistics.median(echo)
    for row in rows:
        row["ratio_to_echo_turn"] = round(row["median_ms"] / echo_ms, 2)
    return {
        "echo_turn_ms": {
            "median": round(echo_ms, 2),
            "p90": round(1000 * statistics.quantiles(echo, n=10)[-1], 2),
            "turns": len(echo),
        },
        "repeat": repeat,
        "redis_py_parser": "hiredis" if HIREDIS_AVAILABLE else "python (no hiredis)",
        "evidence_chars": EVIDENCE_CHARS,
        "card_limits": {"teams_bytes": TEAMS_LIMIT, "trustboard_budget_bytes": CARD_BUDGET},
        "runs": rows,
        "worst_ratio_to_echo_turn": max(r["ratio_to_echo_turn"] for r in rows),
        "largest_card_bytes": max(r["card_bytes"] for r in rows),
    }


def report(result: dict[str, Any]) -> None:
    echo = result["echo_turn_ms"]
    rows = [
        [
            r["path"],
            r["view"],
            "attributed" if r["attributed"] else "anonymous",
            r["median_ms"],
            r["max_ms"],
            r["ratio_to_echo_turn"],
            f"{r['card_bytes']:,}",
        ]
        for r in result["runs"]
    ]
    header = ["path", "view", "card", "median ms", "max ms", "x echo turn", "card bytes"]
    print(table(rows, header))
    print()
    print(f"redis-py reply parser: {result['redis_py_parser']}")
    print(
        f"one echo turn: median {echo['median']} ms (p90 {echo['p90']} ms, {echo['turns']} turns)"
    )
    print(
        f"largest card {result['largest_card_bytes']:,} bytes (target <= {TEAMS_LIMIT:,}, "
        f"trustboard's budget {CARD_BUDGET:,})"
    )
    print(
        f"summary (aggregate + card), worst case: {result['worst_ratio_to_echo_turn']}x one echo "
        "turn (target <= 1)"
    )


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.summary", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed runs of each summary")
    parser.add_argument("--echo-turns", type=int, default=50, help="echo turns, before and after")
    parser.add_argument("--out", type=Path, default=RESULTS / "summary.json")
    return parser.parse_args(argv)


def cli(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = arguments(argv)
    result = asyncio.run(main(max(1, args.repeat), max(2, args.echo_turns)))
    path = write(args.out, result)
    report(result)
    print(f"(written to {path})")
    return result


if __name__ == "__main__":
    cli()
