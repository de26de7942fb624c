"""Turn cost: trustboard's rating turn against today's SDKs' echo samples and the protocol's floor,
all in one sitting.

N simulated users at once (200 by default) each post 17 turns through /api/messages, with replies
at one local fake connector. Trustboard's users start the governance framework and rate all 16
elements from the cards (Action.Execute, 300 characters of evidence each; a real redis-server as
the store). The baselines get the same number of users and turns, each a text message:

- floor: a bare aiohttp handler that parses the activity and posts one reply with a shared
  session (bench/baselines/floor.py);
- agents: the Microsoft 365 Agents SDK's echo sample (bench/baselines/agents_echo.py);
- teams: the Teams SDK for Python's echo sample (bench/baselines/teams_echo.py);
- botbuilder: botbuilder's echo sample (bench/echo_bot.py).

The SDK samples run in virtualenvs of their own (bench/baselines/venvs.py). Every bot runs once per
repetition, in an order that rotates between repetitions, so a noisy moment on the shared machine
falls on different bots; every ratio is taken within one repetition, and reported as the median
with the min–max spread across repetitions. CPU per turn is the bot process's user + system time
over the run (from /proc), divided by its turns.

    .venv/bin/python -m bench.turns [--users 200] [--repeat 3] [--bots floor,trustboard,…]
                                                                            (scripts/bench turns)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.baselines import venvs
from bench.common import (
    ECHO_COMMAND,
    REPO_ROOT,
    Poster,
    Timings,
    echo_user,
    save,
    session,
    table,
    trustee_chat,
    walkthrough,
)
from tests.support.activities import Chat
from tests.support.bot_process import BOT_COMMAND, BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.redis_server import RedisServer

TURNS_PER_USER = 17  # "start governance" and 16 ratings
WARM_UP_USERS = 10
BOTS = ("floor", "trustboard", "agents", "teams", "botbuilder")
BASELINES = "bench/baselines"

Play = Callable[[Poster, Chat], Awaitable[None]]


def command(name: str) -> list[str]:
    if name == "floor":
        return [sys.executable, str(REPO_ROOT / BASELINES / "floor.py")]
    if name == "botbuilder":
        return ECHO_COMMAND
    if name == "trustboard":
        return list(BOT_COMMAND)
    script = REPO_ROOT / BASELINES / f"{name}_echo.py"
    return [str(venvs.python_for(name)), str(script)]


def environment(name: str, redis_url: str) -> dict[str, str]:
    if name == "trustboard":
        return {"REDIS_URL": redis_url}
    if name == "agents":  # the sample's anonymous local mode (no app registration)
        return {"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "true"}
    if name == "teams":  # likewise: the SDK's switch for a local run without credentials
        return {"DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS": "true"}
    return {}


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(
    bot: BotProcess, connector: FakeConnector, users: int, first: int, play: Play
) -> dict[str, Any]:
    """`users` users at once, each playing their turns in order; every turn timed."""
    timings = Timings()
    async with session(users) as http:
        poster = Poster(bot, http, timings)
        chats = [trustee_chat(connector, first + i) for i in range(users)]
        cpu = cpu_seconds(bot.pid)
        started = time.perf_counter()
        await asyncio.gather(*(play(poster, chat) for chat in chats))
        timings.wall = time.perf_counter() - started
        cpu = cpu_seconds(bot.pid) - cpu
    connector.clear()
    figures = timings.figures()
    figures["cpu_ms_per_turn"] = round(cpu * 1000 / max(timings.turns, 1), 2)
    return figures


def player(name: str, connector: FakeConnector) -> Play:
    if name != "trustboard":
        return echo_turns

    async def play(poster: Poster, chat: Chat) -> None:
        await walkthrough(poster, connector, chat, finish=False)

    return play


async def echo_turns(poster: Poster, chat: Chat) -> None:
    await echo_user(poster, chat, TURNS_PER_USER)


async def main(users: int, repeat: int, bots: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch, RedisServer(Path(scratch)) as redis:
        async with FakeConnector() as connector:
            processes: dict[str, BotProcess] = {}
            try:
                for name in bots:
                    bot = BotProcess(environment(name, redis.url), command=command(name))
                    processes[name] = await asyncio.to_thread(bot.start)
                    await run(bot, connector, WARM_UP_USERS, 0, player(name, connector))
                repetitions = []
                for rep in range(repeat):
                    order = bots[rep % len(bots) :] + bots[: rep % len(bots)]
                    figures = {}
                    for name in order:
                        first = 100_000 * (rep + 1)
                        play = player(name, connector)
                        figures[name] = await run(processes[name], connector, users, first, play)
                    repetitions.append({"order": order, "bots": figures})
            finally:
                for bot in processes.values():
                    bot.cleanup()
    return {
        "setup": {"users": users, "turns_per_user": TURNS_PER_USER, "repeat": repeat},
        "repetitions": repetitions,
        "summary": summarise(repetitions, bots),
    }


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def summarise(repetitions: list[dict[str, Any]], bots: list[str]) -> dict[str, Any]:
    keys = ("turns_per_s", "p50_ms", "p99_ms", "cpu_ms_per_turn")
    per_bot = {
        name: {k: spread([r["bots"][name][k] for r in repetitions]) for k in keys} for name in bots
    }
    ratios: dict[str, Any] = {}
    if "trustboard" in bots:
        for name in bots:
            if name == "trustboard":
                continue
            ratios[name] = {k: ratio(repetitions, name, k) for k in keys}
    return {"bots": per_bot, "trustboard_vs": ratios, "targets": targets(ratios)}


def ratio(repetitions: list[dict[str, Any]], name: str, key: str) -> dict[str, float] | None:
    """Trustboard's figure over `name`'s, within each repetition. CPU time is counted in clock
    ticks (10 ms): a tiny run can leave a bot at none, and that repetition has no ratio (None if
    none has)."""
    values = [
        r["bots"]["trustboard"][key] / r["bots"][name][key]
        for r in repetitions
        if r["bots"][name][key]
    ]
    return spread(values) if values else None


def targets(ratios: dict[str, Any]) -> dict[str, Any]:
    """Issue 17's targets, each from the median of the same-run ratios."""
    met: dict[str, Any] = {}
    if "agents" in ratios:
        met["throughput >= 2x agents"] = _median(ratios["agents"]["turns_per_s"])
        met["p99 <= 0.5x agents"] = _median(ratios["agents"]["p99_ms"])
    if "floor" in ratios:
        met["cpu per turn <= 2x floor"] = _median(ratios["floor"]["cpu_ms_per_turn"])
    return met


def _median(found: dict[str, float] | None) -> float | None:
    return found["median"] if found else None


def cell(s: dict[str, float] | None) -> str:
    return f"{s['median']} ({s['min']}–{s['max']})" if s else "–"


def report(result: dict[str, Any]) -> None:
    summary = result["summary"]
    rows = []
    for name, f in summary["bots"].items():
        errors = sum(r["bots"][name]["errors"] for r in result["repetitions"])
        rows.append(
            [
                name,
                errors,
                cell(f["turns_per_s"]),
                cell(f["p50_ms"]),
                cell(f["p99_ms"]),
                cell(f["cpu_ms_per_turn"]),
            ]
        )
    header = ["bot", "errors", "turns/s", "p50 ms", "p99 ms", "CPU ms/turn"]
    print(f"{result['setup']['users']} users × {TURNS_PER_USER} turns, ", end="")
    print(f"{result['setup']['repeat']} repetitions: median (min–max)")
    print(table(rows, header))
    print()
    rows = [
        [
            name,
            cell(r["turns_per_s"]),
            cell(r["p50_ms"]),
            cell(r["p99_ms"]),
            cell(r["cpu_ms_per_turn"]),
        ]
        for name, r in summary["trustboard_vs"].items()
    ]
    print("trustboard ÷ each bot, within each repetition: median (min–max)")
    print(table(rows, ["vs", "turns/s", "p50", "p99", "CPU/turn"]))
    print()
    for target, value in summary["targets"].items():
        shown = f"{value}x" if value is not None else "no figure (too little CPU to count)"
        print(f"{target}: {shown}")


def cli(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="scripts/bench turns", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--bots", default=",".join(BOTS), help="comma-separated, of " + ",".join(BOTS)
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON path (bench/results/turns.json)"
    )
    args = parser.parse_args(argv)
    bots = [b for b in args.bots.split(",") if b]
    unknown = set(bots) - set(BOTS)
    if unknown:
        parser.error(f"unknown bots: {', '.join(sorted(unknown))}")
    outcome = asyncio.run(main(args.users, args.repeat, bots))
    path = save("turns", outcome, args.out)
    report(outcome)
    print(f"(written to {path})")
    return outcome


if __name__ == "__main__":
    cli(sys.argv[1:])
