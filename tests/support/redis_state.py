"""Everything a Redis holds, as plain data, so a test can say "nothing changed".

Keys are found with SCAN, which on a Redis Cluster visits every master (redis-py's
`scan_iter`); KEYS and DBSIZE there answer for one node only.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis


async def every_key(redis: Redis, pattern: str = "*") -> list[str]:
    """Every key matching `pattern`, sorted: on one node, a cluster or the emulation alike."""
    return sorted([str(key) async for key in redis.scan_iter(match=pattern, count=1000)])


async def everything(redis: Redis) -> dict[str, Any]:
    """Each key with its value: hashes as dicts, sorted sets as (member, score) lists."""
    state: dict[str, Any] = {}
    for key in await every_key(redis):
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
