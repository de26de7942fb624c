"""Timed work (a reminder, a round closing) done once, by one process, even across restarts.

Sorted sets, `<prefix>:{agenda:<n>}:due` for n in 0..AGENDA_SHARDS-1, map each item (an opaque
string the round logic builds, e.g. "remind|<tenant>|<board>|<round>" with its parts
percent-encoded) to the time it is due, in milliseconds; an item's shard follows from its text
(`agenda_shard`), so it is always in the same one, and on a Redis Cluster the shards' tags put
the timed work of every tenant on every master rather than on one. Every process polls `claim()`,
which looks at every shard (a read-only script each) for the earliest due items of all, then, in
one script for each shard holding some of them, takes them and moves each to "now + lease", so
no other process takes it while it is being worked on, and a process that dies
mid-way loses nothing: its items fall due again when the lease runs out. When the work is done,
`done()` removes the item, unless it was scheduled anew meanwhile (a clerk moved the deadline), in
which case the new time stands. The unsharded set of before, `<prefix>:{agenda}:due`, is claimed
from too (what an older version scheduled is done), and `schedule` and `cancel` take an item out
of it, but nothing is added there.

All times are Redis server time (`TIME` inside the scripts), so processes with skewed clocks agree.

A lease score is never a whole millisecond, and a scheduled time always is, so a lease can never
be mistaken for a time somebody scheduled (see _CLAIM). A small counter beside each due set,
`<prefix>:{agenda:<n>}:claims`, makes each claim's lease score its own.

What is not guaranteed: work that outlives its lease (or a crash after the work and before
`done`) is done again by whoever claims the item next. Work done here should be idempotent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from ..store.keys import AGENDA_SHARDS, Keys, Shard, agenda_shard
from ..store.store import stored

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: due set, claim counter. ARGV: lease ms, limit. Returns {lease score, item, item, ...}.
# The lease score is "now + lease" plus a fraction of a millisecond that differs from one claim to
# the next (k/256, k from 1 to 255: exact in a double for centuries yet), so it is never a whole
# millisecond (the time of a `schedule`), and two claims of one item hold different scores even
# when it was handed back or rescheduled and claimed again within one millisecond (a repeat would
# take 255 claims within that millisecond).
_CLAIM = (
    _NOW_MS
    + """
local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
if #items == 0 then return {'0'} end
local fraction = (redis.call('INCR', KEYS[2]) % 255 + 1) / 256
local score = string.format('%.8f', now + tonumber(ARGV[1]) + fraction)
for _, item in ipairs(items) do
  redis.call('ZADD', KEYS[1], score, item)
end
return {score, unpack(items)}
"""
)

# KEYS: due set. ARGV: limit. Returns {item, score, item, score, ...}: the earliest due, without
# claiming them (a claim looks at every shard first, to take the earliest of all).
_PEEK = (
    _NOW_MS
    + """
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0,
  tonumber(ARGV[1]))
"""
)

# KEYS: due set. ARGV: item, lease score. Removes the item if it still holds that lease.
_DONE = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

# KEYS: due set. ARGV: item, lease score. Makes a leased item due now, if it still holds that lease.
_RELEASE = (
    _NOW_MS
    + """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  return 1
end
return 0
"""
)


@dataclass(frozen=True)
class Claim:
    """An item taken from the agenda; `token_score` is the lease it holds (ms, server time),
    `shard` the due set it was taken from."""

    item: str
    token_score: float
    shard: Shard = None

    @property
    def lease_until(self) -> datetime:
        return datetime.fromtimestamp(math.floor(self.token_score) / 1000, UTC)


SHARDS: tuple[Shard, ...] = (*range(AGENDA_SHARDS), None)  # None: the set of before, last


class Agenda:
    def __init__(self, redis: Redis, prefix: str = "tb") -> None:
        self.redis = redis
        self.keys = Keys(prefix)
        self._peek = redis.register_script(_PEEK)
        self._claim = redis.register_script(_CLAIM)
        self._done = redis.register_script(_DONE)
        self._release = redis.register_script(_RELEASE)

    def key_of(self, item: str) -> str:
        """The due set an item is scheduled in."""
        return self.keys.agenda_due(agenda_shard(item))

    def due_keys(self) -> list[str]:
        """Every due set a claim looks at, the unsharded one of before last."""
        return [self.keys.agenda_due(shard) for shard in SHARDS]

    async def schedule(self, item: str, at: datetime) -> None:
        """Due at `at` (timezone-aware); an item already on the agenda moves to the new time."""
        _check_item(item)
        score, key, before = _to_ms(at), self.key_of(item), self.keys.agenda_due(None)
        await stored(lambda: self.redis.zadd(key, {item: score}))
        await stored(lambda: self.redis.zrem(before, item))  # if an older version put it there

    async def cancel(self, item: str) -> None:
        key, before = self.key_of(item), self.keys.agenda_due(None)
        await stored(lambda: self.redis.zrem(key, item))
        await stored(lambda: self.redis.zrem(before, item))

    async def due_at(self, item: str) -> datetime | None:
        """When the item is due; while it is claimed, when its lease runs out. None if absent."""
        key, before = self.key_of(item), self.keys.agenda_due(None)
        score = await stored(lambda: self.redis.zscore(key, item))
        if score is None:
            score = await stored(lambda: self.redis.zscore(before, item))
        if score is None:
            return None
        return datetime.fromtimestamp(math.floor(float(score)) / 1000, UTC)

    async def claim(self, lease: float = 60.0, limit: int = 20) -> list[Claim]:
        """Take up to `limit` due items, earliest first across every shard, for `lease` seconds.

        Every shard is looked at first (one read-only script each); then each shard holding some
        of the earliest `limit` gives that many up in one claim. An item another process took
        meanwhile is simply not in this claim."""
        lease_ms = int(lease * 1000)
        if lease_ms < 1 or limit < 1:
            raise ValueError("lease and limit must be positive")
        due: list[tuple[float, str, Shard]] = []
        for shard in SHARDS:
            found = await self._peek(keys=[self.keys.agenda_due(shard)], args=[limit])
            due += [(float(score), _text(item), shard) for item, score in _pairs(found)]
        earliest = sorted(due, key=lambda d: d[0])[:limit]
        rank = {item: n for n, (_, item, _) in enumerate(earliest)}
        wanted: dict[Shard, int] = {}
        for _, _, shard in earliest:
            wanted[shard] = wanted.get(shard, 0) + 1
        claimed: list[Claim] = []
        for shard, count in wanted.items():
            keys = [self.keys.agenda_due(shard), self.keys.agenda_claims(shard)]
            score, *items = await self._claim(keys=keys, args=[lease_ms, count])
            claimed += [Claim(_text(item), float(score), shard) for item in items]
        return sorted(claimed, key=lambda claim: rank.get(claim.item, limit))

    async def done(self, claim: Claim) -> bool:
        """Remove a finished item; False if it was scheduled anew (or cancelled) meanwhile, or
        its lease ran out and someone else claimed it."""
        args = [claim.item, repr(claim.token_score)]
        return bool(await self._done(keys=[self.keys.agenda_due(claim.shard)], args=args))

    async def release(self, claim: Claim) -> bool:
        """Give an item back unworked, due at once, so it need not wait for its lease to end."""
        args = [claim.item, repr(claim.token_score)]
        return bool(await self._release(keys=[self.keys.agenda_due(claim.shard)], args=args))

    async def size(self) -> int:
        return sum([int(await self.redis.zcard(key)) for key in self.due_keys()])


def _to_ms(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        # A naive time means whatever the host's zone is; processes on other hosts would differ.
        raise ValueError("agenda times must be timezone-aware")
    # Integer arithmetic: at.timestamp() * 1000 can land a hair below a whole millisecond.
    return (at - EPOCH) // timedelta(milliseconds=1)


def _pairs(flat: list[Any]) -> list[tuple[Any, Any]]:
    return list(zip(flat[::2], flat[1::2], strict=True))


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _check_item(item: str) -> None:
    if not isinstance(item, str) or not item:
        raise ValueError("an agenda item must be a non-empty string")
