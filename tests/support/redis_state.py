"""Everything a Redis holds, as plain data, so a test can say "nothing changed".

Keys are found with SCAN, which on a Redis Cluster visits every master (redis-py's
`scan_iter`); KEYS and DBSIZE there answer for one node only.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from dialogs.store.keys import AGENDA_SHARDS, QUEUE_SHARDS, Keys, agenda_shard


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
            # bookkeeping (seen times), and a worker coming to a shard makes its stream, empty,
            # with the group: neither is data anyone stored.
            entries = await redis.xrange(key)
            if entries:
                state[key] = ("stream", entries)
        else:
            state[key] = (kind, await redis.dump(key))
    return state


def agenda_key(item: str, prefix: str = "tb") -> str:
    """The agenda's due set an item is scheduled in (its shard's)."""
    return Keys(prefix).agenda_due(agenda_shard(item))


def agenda_keys(prefix: str = "tb") -> list[str]:
    """Every due set of the agenda: each shard's, and the unsharded one of before."""
    return [Keys(prefix).agenda_due(shard) for shard in (*range(AGENDA_SHARDS), None)]


async def agenda_entries(redis: Redis, prefix: str = "tb") -> list[tuple[str, float]]:
    """Every item on the agenda, in every due set, with its score (ms)."""
    found: list[tuple[str, float]] = []
    for key in agenda_keys(prefix):
        found += await redis.zrange(key, 0, -1, withscores=True)
    return found


async def queue_pending(redis: Redis, prefix: str = "tb") -> int:
    """Delivery entries read by a worker and not yet acknowledged, over every shard's stream."""
    keys, total = Keys(prefix), 0
    for shard in (*range(QUEUE_SHARDS), None):
        if await redis.exists(keys.job_stream(shard)):
            total += int((await redis.xpending(keys.job_stream(shard), "senders"))["pending"])
    return total


async def queue_idle(redis: Redis, prefix: str = "tb") -> bool:
    """The delivery queue has nothing left to do: no entry on any shard's stream, read or not (a
    worker deletes an entry once done with it, a second send included), none taken and not yet
    acknowledged, and no retry waiting on any shard's due set."""
    keys = Keys(prefix)
    for shard in (*range(QUEUE_SHARDS), None):
        if await redis.xlen(keys.job_stream(shard)) or await redis.zcard(keys.jobs_due(shard)):
            return False
    return await queue_pending(redis, prefix) == 0
