"""Everything a Redis holds, as plain data, so a test can say "nothing changed"."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis


async def everything(redis: Redis) -> dict[str, Any]:
    """Each key with its value: hashes as dicts, sorted sets as (member, score) lists."""
    state: dict[str, Any] = {}
    for key in sorted(await redis.keys("*")):
        kind = await redis.type(key)
        if kind == "hash":
            state[key] = await redis.hgetall(key)
        elif kind == "zset":
            state[key] = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            # Entries only: a delivery worker reading an empty stream changes its group's
            # bookkeeping (seen times), which is not data anyone stored.
            state[key] = ("stream", await redis.xrange(key))
        else:
            state[key] = (kind, await redis.dump(key))
    return state
