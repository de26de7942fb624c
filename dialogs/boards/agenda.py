"""Timed work (a reminder, a round closing) done once, by one process, even across restarts.

One Redis sorted set, `<prefix>:{agenda}:due`, maps each item (an opaque string the round logic
builds, e.g. "remind|<tenant>|<board>|<round>" with its parts percent-encoded) to the time it is
due, in milliseconds. Every process polls `claim()`: one script takes the items that are due and
moves each to "now + lease", so no other process takes it while it is being worked on, and a
process that dies mid-way loses nothing: its items fall due again when the lease runs out. When
the work is done, `done()` removes the item, unless it was scheduled anew meanwhile (a clerk moved
the deadline), in which case the new time stands.

All times are Redis server time (`TIME` inside the scripts), so processes with skewed clocks agree.

A lease score is never a whole millisecond, and a scheduled time always is, so a lease can never
be mistaken for a time somebody scheduled (see _CLAIM). A small counter beside the set,
`<prefix>:{agenda}:claims`, makes each claim's lease score its own.

What is not guaranteed: work that outlives its lease (or a crash after the work and before
`done`) is done again by whoever claims the item next. Work done here should be idempotent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from ..store.keys import Keys
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
    """An item taken from the agenda; `token_score` is the lease it holds (ms, server time)."""

    item: str
    token_score: float

    @property
    def lease_until(self) -> datetime:
        return datetime.fromtimestamp(math.floor(self.token_score) / 1000, UTC)


class Agenda:
    def __init__(self, redis: Redis, prefix: str = "tb") -> None:
        self.redis = redis
        keys = Keys(prefix)
        self.key = keys.agenda_due()
        self.counter = keys.agenda_claims()
        self._claim = redis.register_script(_CLAIM)
        self._done = redis.register_script(_DONE)
        self._release = redis.register_script(_RELEASE)

    async def schedule(self, item: str, at: datetime) -> None:
        """Due at `at` (timezone-aware); an item already on the agenda moves to the new time."""
        _check_item(item)
        score = _to_ms(at)
        await stored(lambda: self.redis.zadd(self.key, {item: score}))

    async def cancel(self, item: str) -> None:
        await stored(lambda: self.redis.zrem(self.key, item))

    async def due_at(self, item: str) -> datetime | None:
        """When the item is due; while it is claimed, when its lease runs out. None if absent."""
        score = await stored(lambda: self.redis.zscore(self.key, item))
        if score is None:
            return None
        return datetime.fromtimestamp(math.floor(float(score)) / 1000, UTC)

    async def claim(self, lease: float = 60.0, limit: int = 20) -> list[Claim]:
        """Take up to `limit` due items, earliest first, for `lease` seconds."""
        lease_ms = int(lease * 1000)
        if lease_ms < 1 or limit < 1:
            raise ValueError("lease and limit must be positive")
        keys = [self.key, self.counter]
        score, *items = await self._claim(keys=keys, args=[lease_ms, limit])
        token = float(score)
        return [Claim(_text(item), token) for item in items]

    async def done(self, claim: Claim) -> bool:
        """Remove a finished item; False if it was scheduled anew (or cancelled) meanwhile, or
        its lease ran out and someone else claimed it."""
        args = [claim.item, repr(claim.token_score)]
        return bool(await self._done(keys=[self.key], args=args))

    async def release(self, claim: Claim) -> bool:
        """Give an item back unworked, due at once, so it need not wait for its lease to end."""
        args = [claim.item, repr(claim.token_score)]
        return bool(await self._release(keys=[self.key], args=args))

    async def size(self) -> int:
        return int(await self.redis.zcard(self.key))


def _to_ms(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        # A naive time means whatever the host's zone is; processes on other hosts would differ.
        raise ValueError("agenda times must be timezone-aware")
    # Integer arithmetic: at.timestamp() * 1000 can land a hair below a whole millisecond.
    return (at - EPOCH) // timedelta(milliseconds=1)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _check_item(item: str) -> None:
    if not isinstance(item, str) or not item:
        raise ValueError("an agenda item must be a non-empty string")
