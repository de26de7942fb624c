"""Wait for a bot's background work to end, so that a test can say "nothing changed".

After a turn, work it set going goes on writing to Redis for a while: the clerk's round card is
refreshed a second after answers arrive (its lease key, its `card_stale` mark), a round's steps
still to do (`todo:<step>` fields, their lease key) are carried on, and each delivery job is
settled and then its work item taken off the outbox's stream. A snapshot of Redis taken while any
of that is under way differs from the next one with no click in between, so a test comparing
Redis before and after a refused click first waits for `quiet`:

    before = await quiet_state(bot, redis)
    ...                                             # the click that must change nothing
    assert await quiet_state(bot, redis) == before  # what the click set going has ended too

Quiet means: no card refresh waiting or under way in the bot (`Desk.settle`, for a `BotApp`), no
round with a step to do, a card marked stale or a lease held, and every delivery job in a final
state with nothing left on the stream. Work of the agenda's that comes due later (a deadline, a
reminder) is not waited for: it is due hours or days after the test.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from redis.asyncio import Redis

from bot.app import DESK
from bot.delivery.jobs import FINAL_STATES

from .bot_app import BotApp
from .bot_http import BotHttp
from .redis_state import every_key, everything

ROUND = re.compile(r"\}:round:[0-9a-f]{12}$")
ROUND_LEASE = re.compile(r"\}:round:[0-9a-f]{12}:(card|steps)$")
JOB = re.compile(r"\}:dq:job:[^:]+$")
STREAM = re.compile(r":\{dq\}:stream$")
PACING = ":{dq:t:"  # the delivery pacing logs, which expire by themselves


async def busy(bot: BotHttp, redis: Redis) -> list[str]:
    """What is still under way: one line per thing (empty when quiet)."""
    if isinstance(bot, BotApp):
        await bot.app[DESK].settle()
    found: list[str] = []
    for key in await every_key(redis):
        if ROUND_LEASE.search(key):
            found.append(f"lease held: {key}")
        elif ROUND.search(key):
            fields = await redis.hkeys(key)
            found += [f"{key}: {f}" for f in fields if f.startswith("todo:") or f == "card_stale"]
        elif JOB.search(key):
            state = await redis.hget(key, "state")
            if state not in FINAL_STATES:
                found.append(f"delivery job {state}: {key}")
        elif STREAM.search(key) and await redis.xlen(key):
            found.append(f"work items on the stream: {key}")
    return found


async def quiet(bot: BotHttp, redis: Redis, timeout: float = 30.0) -> None:
    """Wait until the bot's background work has ended (see the module's docstring)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while found := await busy(bot, redis):
        if loop.time() > deadline:
            raise AssertionError(f"background work still under way after {timeout} s: {found}")
        await asyncio.sleep(0.05)


async def quiet_state(bot: BotHttp, redis: Redis) -> dict[str, Any]:
    """Everything in Redis but the pacing logs, once the bot's background work has ended."""
    await quiet(bot, redis)
    return {k: v for k, v in (await everything(redis)).items() if PACING not in k}


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each key whose value differs between two snapshots, with its value before and after."""
    keys = sorted(set(before) | set(after))
    return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}
