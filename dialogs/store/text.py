"""Redis replies as the text they are.

Every client the bot makes (dialogs/store/connect.py) decodes replies (`decode_responses`), so a
reply is `str`; redis-py's types cannot know that and say `bytes | str` for every command. These
few typed calls are where the bot says so, once, instead of a cast at each call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT, KeyT, StreamIdT


async def get(redis: Redis, key: str) -> str | None:
    return cast(str | None, await redis.get(key))


async def hget(redis: Redis, key: str, field: str) -> str | None:
    return cast(str | None, await redis.hget(key, field))


async def hgetall(redis: Redis, key: str) -> dict[str, str]:
    return cast(dict[str, str], await redis.hgetall(key))


async def hset(redis: Redis, key: str, fields: Mapping[str, str]) -> int:
    """Set several fields of a hash at once."""
    return await redis.hset(key, mapping=mapping(fields))


def mapping(fields: Mapping[str, str]) -> dict[FieldT, EncodableT]:
    """Fields as redis-py types a hash's mapping (for HSET in a pipeline)."""
    return {name: value for name, value in fields.items()}


async def smembers(redis: Redis, key: str) -> set[str]:
    return cast(set[str], await redis.smembers(key))


async def zrange(redis: Redis, key: str, start: int = 0, end: int = -1) -> list[str]:
    return cast(list[str], await redis.zrange(key, start, end))


StreamEntries = list[tuple[str, dict[str, str] | None]]  # id, fields (None once deleted)


async def xreadgroup(
    redis: Redis, group: str, consumer: str, stream: str, count: int, block_ms: int | None = None
) -> StreamEntries:
    """New entries of one stream for one consumer of a group (the RESP2 reply, unwrapped);
    `block_ms` None answers at once, with what there is."""
    streams: dict[KeyT, StreamIdT] = {stream: ">"}
    answer = await redis.xreadgroup(group, consumer, streams, count=count, block=block_ms)
    replies = cast(list[tuple[str, StreamEntries]], answer or [])
    return [entry for _, entries in replies for entry in entries]
