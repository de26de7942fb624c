"""What `GET /healthz` reports: whether the store accepts a write now, and how the background
loops of this process are doing.

A PING is not enough: a Redis at `maxmemory` with `noeviction` (deploy/redis.conf) answers PING
and refuses every write, and so does a replica. So the probe writes a short-lived key of this
process's own (`Keys.health`) and reads the outcome: accepted, full, read-only, or no answer.
The reasons are our own words, never Redis's message.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError, ReadOnlyError, ResponseError

from dialogs.store.connect import REDIS_FAILURES

from .background import Loop

PROBE_TIMEOUT = 3.0  # seconds: a health check answers promptly, whatever Redis does
PROBE_TTL_MS = 30_000  # the probe's key outlives the probe by this much, then Redis drops it

OK = "ok"
FULL = "full"
READ_ONLY = "read-only"
UNREACHABLE = "unreachable"
REFUSING = "refusing writes"
CLUSTER_DOWN = "cluster down"

REASONS = {
    FULL: "Redis is full (maxmemory reached with noeviction) and refuses every write: nothing "
    "can be saved. Give it more memory, or delete data it no longer needs.",
    READ_ONLY: "Redis is a read-only replica and refuses every write: point REDIS_URL at the "
    "primary.",
    UNREACHABLE: "Redis cannot be reached: nothing can be saved until it answers.",
    REFUSING: "Redis refuses writes (see its own log for why): nothing can be saved.",
    CLUSTER_DOWN: "The Redis Cluster is down or not every slot is served (a master failed and no "
    "replica has taken over yet, or slots are unassigned): the people and boards whose keys lie "
    "in those slots cannot save until it is ok again.",
}


@dataclass(frozen=True)
class StoreHealth:
    state: str  # ok, full, read-only, unreachable, refusing writes; on a cluster, cluster down
    cluster: dict[str, Any] | None = None  # on a cluster: what its masters say (cluster_health)

    @property
    def ok(self) -> bool:
        return self.state == OK

    @property
    def reason(self) -> str:
        return REASONS.get(self.state, "")


def process_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def store_health(redis: Redis, key: str, timeout: float = PROBE_TIMEOUT) -> StoreHealth:
    """Write `key` (short-lived) and say what became of the write."""
    try:
        async with asyncio.timeout(timeout):
            return StoreHealth(await write_state(redis, key))
    except TimeoutError:
        return StoreHealth(UNREACHABLE)


async def write_state(redis: Redis, key: str) -> str:
    """What became of one short-lived write of `key`: ok, full, read-only, refusing, unreachable."""
    try:
        await redis.set(key, str(time.time()), px=PROBE_TTL_MS)
    except OutOfMemoryError:
        return FULL
    except ReadOnlyError:
        return READ_ONLY
    except ResponseError:
        # Such as MISCONF (it cannot persist to disk) or NOPERM: it answers, and refuses.
        return REFUSING
    except REDIS_FAILURES:
        return UNREACHABLE
    return OK


def report(
    store_kind: str, store: StoreHealth, loops: Sequence[Loop], now: float | None = None
) -> dict[str, Any]:
    """The body of `/healthz`."""
    now = time.time() if now is None else now
    body: dict[str, Any] = {
        "status": "ok" if store.ok else "unavailable",
        "store": store_kind,
        "store_state": store.state,
    }
    if not store.ok:
        body["reason"] = store.reason
    if store.cluster is not None:
        body["cluster"] = store.cluster
    body["loops"] = [_loop(loop, now) for loop in loops]
    return body


def _loop(loop: Loop, now: float) -> dict[str, Any]:
    progressed = loop.progressed
    return {
        "loop": loop.kind,
        "name": loop.name,
        "running": loop.running,
        "last_progress": None
        if progressed is None
        else datetime.fromtimestamp(progressed, UTC).isoformat(timespec="milliseconds"),
        "seconds_since_progress": None if progressed is None else round(now - progressed, 1),
    }
