"""Whether REDIS_URL names the kind of Redis that REDIS_CLUSTER says, checked as the bot starts.

A single-node client pointed at a cluster node can save only the keys whose slot that node
serves: some trustees would be welcomed and others told "not saved", and the agenda and delivery
loops would spin on MOVED errors. A cluster client pointed at a single server fails on its first
command. Either way the bot refuses to start, saying which setting to change. A node tells which
it is in `INFO cluster` (`cluster_enabled:1` on a cluster node).

A Redis that cannot be reached at start-up cannot be asked: the bot starts (as it does on one
node), `/healthz` says the store is unreachable, and the question is asked again at the next start.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from dialogs.store.connect import REDIS_FAILURES

from .config import ConfigError, Settings

log = logging.getLogger("trustboard.store")

NOT_FLAGGED = (
    "REDIS_URL names a node of a Redis Cluster (its INFO says cluster_enabled:1), but "
    "REDIS_CLUSTER is not set: set REDIS_CLUSTER=1, so that each key goes to the master that "
    "holds it."
)
NOT_A_CLUSTER = (
    "REDIS_CLUSTER=1, but REDIS_URL names a Redis that is not part of a cluster (its INFO says "
    "cluster_enabled:0): unset REDIS_CLUSTER, or point REDIS_URL at a node of the cluster."
)


async def cluster_enabled(url: str, timeout: float = 5.0) -> bool | None:
    """What the node `url` names says of itself; None if it cannot be asked."""
    client = Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        info = await client.info("cluster")
    except REDIS_FAILURES:
        return None
    finally:
        await client.aclose()
    return str(info.get("cluster_enabled", "0")) == "1"


async def check(settings: Settings) -> None:
    """Raise ConfigError if REDIS_URL and REDIS_CLUSTER disagree about the store."""
    if not settings.redis_url:
        return
    enabled = await cluster_enabled(settings.redis_url)
    if enabled is None:
        log.warning("could not ask Redis whether it is a cluster node: it did not answer")
        return
    if enabled != settings.redis_cluster:
        problem = NOT_A_CLUSTER if settings.redis_cluster else NOT_FLAGGED
        raise ConfigError(f"Cannot start trustboard:\n- {problem}")
