"""Pacing under Teams' limits, shared by every process through Redis.

Each send first takes a slot in two sliding logs (sorted sets of send times in the last window):
the tenant's (about 30 a second per app per tenant) and the recipient's 1:1 chat (7 a second per
conversation). A 429 with Retry-After holds the whole tenant back for that long. One script
checks the hold and checks and fills both logs, so no window of `window` seconds ever holds more
than the limit, however many processes send. Server time is used, so skewed clocks do not matter.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis

from dialogs.store.keys import Keys

# KEYS: tenant log, recipient log, tenant hold. ARGV: tenant limit, recipient limit, window ms,
# slot id. Returns 0 when a slot was taken, else how many ms to wait before asking again.
_TAKE = """
local held = redis.call('PTTL', KEYS[3])
if held > 0 then return held end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[3])
local wait = 0
for i = 1, 2 do
  local limit = tonumber(ARGV[i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  if count >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], count - limit, count - limit, 'WITHSCORES')
    local free_at = tonumber(oldest[2]) + window + 1
    if free_at - now > wait then wait = free_at - now end
  end
end
if wait > 0 then return wait end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now, ARGV[4])
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


@dataclass(frozen=True)
class Pace:
    # Messages per window per app per tenant. Teams allows about 50 requests a second per app per
    # tenant, and a message to a new 1:1 chat is two requests (create the chat, then post): 25
    # keeps under it (bench/delivery.py met 429s at 30 and more).
    per_tenant: int = 25
    per_conversation: int = 7  # messages per window to one chat
    window: float = 1.0  # seconds

    def __post_init__(self) -> None:
        if self.per_tenant < 1 or self.per_conversation < 1 or self.window <= 0:
            raise ValueError("pace limits must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Pace:
        """DELIVERY_PER_TENANT and DELIVERY_PER_CONVERSATION, messages a second."""
        env = os.environ if env is None else env
        return cls(
            per_tenant=int(env.get("DELIVERY_PER_TENANT", "") or cls.per_tenant),
            per_conversation=int(env.get("DELIVERY_PER_CONVERSATION", "") or cls.per_conversation),
        )


class RateLimiter:
    def __init__(self, redis: Redis, keys: Keys, pace: Pace) -> None:
        self.keys = keys
        self.pace = pace
        self._take = redis.register_script(_TAKE)
        self._hold = redis.register_script(_HOLD)

    async def try_take(self, tenant_id: str, recipient_id: str) -> float:
        """Take a slot now (returns 0) or learn how many seconds until one may be free."""
        keys = [
            self.keys.tenant_rate(tenant_id),
            self.keys.recipient_rate(tenant_id, recipient_id),
            self.keys.tenant_hold(tenant_id),
        ]
        args: list[int | float | str] = [
            self.pace.per_tenant,
            self.pace.per_conversation,
            int(self.pace.window * 1000),
            secrets.token_hex(8),
        ]
        return int(await self._take(keys=keys, args=args)) / 1000

    async def hold(self, tenant_id: str, seconds: float) -> None:
        """Send nothing more to this tenant for `seconds`: Teams said 429 with Retry-After, and
        its throttle is per app per tenant, so the tenant's other jobs must wait too."""
        if seconds > 0:
            await self._hold(keys=[self.keys.tenant_hold(tenant_id)], args=[int(seconds * 1000)])

    async def take(self, tenant_id: str, recipient_id: str) -> None:
        """Wait for a slot. A little jitter keeps waiting workers from asking in lockstep."""
        while (wait := await self.try_take(tenant_id, recipient_id)) > 0:
            await asyncio.sleep(wait + random.uniform(0, 0.02))
