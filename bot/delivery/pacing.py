"""Pacing under Teams' limits, shared by every process through Redis.

Teams counts requests, not messages: 50 a second per app per tenant, "all requests subject to
the same policy", so opening a 1:1 chat (create-conversation) and posting into it each count.
So each request takes a slot, just before it is made, in sliding logs (sorted sets of the
times slots were taken within the last window): the tenant's, and, for a post, the
recipient's 1:1 chat's (7 a second per conversation). A 429 with Retry-After holds the whole
tenant back for that long. One script checks the hold and checks and fills the logs, so no
window of `window` seconds ever holds more than the limit, however many processes send. Server
time is used, so skewed clocks do not matter.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from dialogs.store.keys import Keys

# KEYS: tenant hold, then one or two logs (the tenant's, the recipient's). ARGV: window ms, slot
# id, then each log's limit. Returns 0 when a slot was taken, else how many ms to wait before
# asking again (negative when it is only the recipient's log that is full).
_TAKE = """
local held = redis.call('PTTL', KEYS[1])
if held > 0 then return held end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local wait, tenant_full = 0, false
for i = 2, #KEYS do
  local limit = tonumber(ARGV[i + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local free_at = tonumber(oldest[2]) + window + 1
    if free_at - now > wait then wait = free_at - now end
    if i == 2 then tenant_full = true end
  end
end
-- Negative: only the recipient's chat is full, and the tenant's other requests may go meanwhile.
if wait > 0 then return tenant_full and wait or -wait end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[i], window * 2)
end
return 0
"""

# KEYS: tenant hold. ARGV: ms. Lengthens the hold, never shortens it.
_HOLD = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""

# What a wait for a slot calls now and then: the attempt keeps its lease meanwhile.
Waiting = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Pace:
    # Requests per window per app per tenant: opening a 1:1 chat and posting each take one.
    per_tenant: int = 50  # Teams allows 50 requests a second
    per_conversation: int = 7  # posts per window into one chat
    # Teams counts a second; the slots are counted over a little longer. A slot is taken just
    # before its request, but a request reaches Teams some milliseconds after its slot, more
    # when the machine is busy, and a window's worth of slots freed at once goes out at once:
    # requests drifting apart by up to the extra 60 ms still keep within Teams' second
    # (bench/delivery.py: 47 slots a second with no margin met 429s).
    window: float = 1.06  # seconds

    def __post_init__(self) -> None:
        if self.per_tenant < 1 or self.per_conversation < 1 or self.window <= 0:
            raise ValueError("pace limits must be positive")

    @property
    def spacing(self) -> float:
        """The least time between two of a tenant's slots taken by one process (seconds): a
        quarter of an even spread, so a window's slots go out over a quarter of it rather than
        all at once (a burst reaches Teams bunched, and one late request of it is a 429)."""
        return self.window / self.per_tenant / 4


class RateLimiter:
    def __init__(self, redis: Redis, keys: Keys, pace: Pace) -> None:
        self.keys = keys
        self.pace = pace
        self._take = redis.register_script(_TAKE)
        self._hold = redis.register_script(_HOLD)
        # In each process the requests for one tenant queue here, and only the first asks Redis:
        # many sends waiting for the tenant's next window would otherwise all ask at once
        # (Redis commands for nothing) and none would be served in the order it came.
        self._queues: dict[str, asyncio.Lock] = {}

    async def try_take(self, tenant_id: str, recipient_id: str | None) -> float:
        """Take a slot now (returns 0) or learn how many seconds until one may be free
        (negative: only the recipient's chat is full). With no recipient (opening a chat) only
        the tenant's log counts."""
        keys = [self.keys.tenant_hold(tenant_id), self.keys.tenant_rate(tenant_id)]
        args: list[int | float | str] = [
            int(self.pace.window * 1000),
            secrets.token_hex(8),
            self.pace.per_tenant,
        ]
        if recipient_id is not None:
            keys.append(self.keys.recipient_rate(tenant_id, recipient_id))
            args.append(self.pace.per_conversation)
        return int(await self._take(keys=keys, args=args)) / 1000

    async def hold(self, tenant_id: str, seconds: float) -> None:
        """Send nothing more to this tenant for `seconds`: Teams said 429 with Retry-After, and
        its throttle is per app per tenant, so the tenant's other jobs must wait too."""
        if seconds > 0:
            await self._hold(keys=[self.keys.tenant_hold(tenant_id)], args=[int(seconds * 1000)])

    async def take(
        self, tenant_id: str, recipient_id: str | None, waiting: Waiting | None = None
    ) -> None:
        """Wait for a slot, in turn with this process's other requests for the tenant, telling
        `waiting` how long each wait is. The next in turn asks `spacing` after a slot is given.
        A little jitter keeps processes from asking in lockstep."""
        queue = self._queues.setdefault(tenant_id, asyncio.Lock())
        while True:
            await queue.acquire()
            try:
                while (wait := await self.try_take(tenant_id, recipient_id)) > 0:
                    await self._wait(wait, waiting)  # the tenant's turn: the rest wait behind
            except BaseException:
                queue.release()
                raise
            if wait == 0:
                asyncio.get_running_loop().call_later(self.pace.spacing, queue.release)
                return
            queue.release()
            await self._wait(-wait, waiting)  # their chat is full: others go first meanwhile

    @staticmethod
    async def _wait(seconds: float, waiting: Waiting | None) -> None:
        if waiting is not None:
            await waiting(seconds)
        await asyncio.sleep(seconds + random.uniform(0, min(0.02, seconds / 4)))
