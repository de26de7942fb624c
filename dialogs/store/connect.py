"""One way to get a Redis client: a real server from REDIS_URL (one node, or any node of a Redis
Cluster), or the in-process emulation.

On a cluster the client is redis-py's `RedisCluster`: it reads the slot map from the node named,
sends each command to the master of its key's slot, follows MOVED and ASK, and reads the map
again when a master fails over. It offers the same commands as `Redis`; the store code is typed
against `Redis` and the contract suite (tests/store/, tests/boards/…) runs the same tests on a
single node, a real three-master cluster and the emulation. What differs is said where it matters:
`is_cluster` for the few places that must know (a pipeline of scripts, the health probe).
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .cluster import GatedCluster
from .durable import WaitingRedis
from .gate import FairPool

MAX_CONNECTIONS = 64  # per bot process (on a cluster: per node); REDIS_MAX_CONNECTIONS
# Seconds a turn waiting for a connection goes on waiting with nobody's command finishing, before
# "not saved": however long the queue, a turn waits while it moves (gate.py).
POOL_WAIT = 5.0
# What a Redis command can fail with: redis-py's own errors, the network's, and on a cluster the
# client's (RedisClusterException, such as "cannot be connected", is not a RedisError).
REDIS_FAILURES: tuple[type[Exception], ...] = (RedisError, RedisClusterException, OSError)

# On a cluster, how often a command is tried again after a lost connection or a slot that moved
# (the client reads the slot map again in between): a master's failover takes a second or two.
CLUSTER_RETRIES = 4

# What every client of ours asks of its connections, on one node or a cluster: text replies, and
# timeouts short enough that a lost Redis is "not saved" in seconds, not a hung turn.
CLIENT_OPTIONS: dict[str, Any] = {
    "decode_responses": True,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "health_check_interval": 15,
}


def connect(
    url: str | None,
    *,
    cluster: bool = False,
    wait_replicas: int = 0,
    max_connections: int = MAX_CONNECTIONS,
) -> Redis:
    """`wait_replicas`: REDIS_WAIT_REPLICAS, the replicas each scripted write waits for
    (dialogs/store/durable.py); 0, as by default, waits for none. `max_connections`:
    REDIS_MAX_CONNECTIONS, this process's connections to Redis (on a cluster, to each node)."""
    if not url:
        import fakeredis  # only a local run without Redis needs it

        return fakeredis.FakeAsyncRedis(
            decode_responses=True,
            connection_pool_class=BlockingConnectionPool,
            max_connections=max_connections,
            timeout=POOL_WAIT,
        )
    if cluster:
        return connect_cluster(url, wait_replicas, max_connections)
    # A fair pool: a burst of turns waits its turn for a connection instead of failing with
    # "Too many connections" (the default pool's answer beyond 100) or being overtaken (the
    # blocking pool's way), and Redis sees a bounded number of clients per bot process.
    pool = FairPool.from_url(
        url,
        max_connections=max_connections,
        stall=POOL_WAIT,
        **CLIENT_OPTIONS,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    client = cast(WaitingRedis, WaitingRedis.from_pool(pool))  # from_pool makes a `cls`
    client.wait_replicas = wait_replicas
    return client


def connect_cluster(
    url: str, wait_replicas: int = 0, max_connections: int = MAX_CONNECTIONS
) -> Redis:
    """A client of the cluster `url` names one node of (it finds the others itself)."""
    client = cast(
        GatedCluster,
        GatedCluster.from_url(
            url,
            limit=max_connections,
            wait=POOL_WAIT,
            **CLIENT_OPTIONS,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), retries=CLUSTER_RETRIES),
        ),
    )
    client.wait_replicas = wait_replicas
    # The same commands as a Redis client's (see the module's docstring): typed as one.
    return cast(Redis, client)


def is_cluster(redis: Any) -> bool:
    return isinstance(redis, RedisCluster)
