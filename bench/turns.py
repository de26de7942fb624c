"""Turn cost: trustboard against the stock botbuilder echo bot, in the same run.

N simulated trustees in parallel (50, then 200) each start the governance framework and rate all
16 elements from the cards (Action.Execute, 300 characters of evidence each) through
/api/messages, with a real redis-server as the store and replies at a local fake connector. The
echo bot gets the same number of users and turns. Every figure is reported as a ratio to the
echo bot's, measured in the same run, because these machines are shared and noisy.

    .venv/bin/python -m bench.turns            (scripts/bench turns)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.common import (
    ECHO_COMMAND,
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
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.redis_server import RedisServer

TURNS_PER_USER = 17  # "start governance" and 16 ratings
WARM_UP_USERS = 10


Play = Callable[[Poster, Chat], Awaitable[None]]


async def run(
    bot: BotProcess, connector: FakeConnector, users: int, first: int, play: Play
) -> Timings:
    """`users` trustees at once, each playing their turns in order; every turn timed."""
    timings = Timings()
    async with session(users) as http:
        poster = Poster(bot, http, timings)
        chats = [trustee_chat(connector, first + i) for i in range(users)]
        started = time.perf_counter()
        await asyncio.gather(*(play(poster, chat) for chat in chats))
        timings.wall = time.perf_counter() - started
    return timings


async def main(sizes: list[int]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch, RedisServer(Path(scratch)) as redis:
        async with FakeConnector() as connector:
            ours = await asyncio.to_thread(BotProcess({"REDIS_URL": redis.url}).start)
            echo = await asyncio.to_thread(BotProcess({}, command=ECHO_COMMAND).start)
            try:
                await run(echo, connector, WARM_UP_USERS, 0, echo_turns)
                await run(ours, connector, WARM_UP_USERS, 0, our_turns(connector))
                results = []
                for index, users in enumerate(sizes):
                    first = 1000 * (index + 1)
                    base = await run(echo, connector, users, first, echo_turns)
                    mine = await run(ours, connector, users, first, our_turns(connector))
                    connector.clear()
                    results.append(compare(users, base, mine))
            finally:
                ours.cleanup()
                echo.cleanup()
    return {"runs": results}


async def echo_turns(poster: Poster, chat: Chat) -> None:
    await echo_user(poster, chat, TURNS_PER_USER)


def our_turns(connector: FakeConnector) -> Play:
    async def play(poster: Poster, chat: Chat) -> None:
        await walkthrough(poster, connector, chat, finish=False)

    return play


def compare(users: int, base: Timings, mine: Timings) -> dict[str, Any]:
    b, m = base.figures(), mine.figures()
    return {
        "users": users,
        "echo": b,
        "trustboard": m,
        "p50_ratio": round(m["p50_ms"] / b["p50_ms"], 2),
        "p99_ratio": round(m["p99_ms"] / b["p99_ms"], 2),
        "throughput_ratio": round(m["turns_per_s"] / b["turns_per_s"], 2),
    }


def report(result: dict[str, Any]) -> None:
    rows = []
    for run in result["runs"]:
        for name in ("echo", "trustboard"):
            f = run[name]
            rows.append(
                [
                    run["users"],
                    name,
                    f["turns"],
                    f["errors"],
                    f["p50_ms"],
                    f["p99_ms"],
                    f["turns_per_s"],
                ]
            )
    print(table(rows, ["users", "bot", "turns", "errors", "p50 ms", "p99 ms", "turns/s"]))
    print()
    for run in result["runs"]:
        print(
            f"{run['users']} users: p50 {run['p50_ratio']}x, p99 {run['p99_ratio']}x, "
            f"throughput {run['throughput_ratio']}x the echo bot's "
            "(targets: <= 0.5x, <= 0.5x, >= 2x)"
        )


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [50, 200]
    outcome = asyncio.run(main(sizes))
    path = save("turns", outcome)
    report(outcome)
    print(
        f"(written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path})"
    )
