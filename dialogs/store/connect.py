"""One way to get a Redis client: a real server from REDIS_URL, or the in-process emulation."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

MAX_CONNECTIONS = 64  # per bot process
POOL_WAIT = 5.0  # seconds a turn waits for a free connection before "not saved"


def connect(url: str | None) -> Redis:
    if not url:
        import fakeredis  # only a local run without Redis needs it

        return fakeredis.FakeAsyncRedis(
            decode_responses=True,
            connection_pool_class=BlockingConnectionPool,
            max_connections=MAX_CONNECTIONS,
            timeout=POOL_WAIT,
        )
    # A blocking pool: a burst of turns waits briefly for a connection instead of failing with
    # "Too many connections" (the default pool's answer beyond 100), and Redis sees a bounded
    # number of clients per bot process.
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_WAIT,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return Redis.from_pool(pool)
