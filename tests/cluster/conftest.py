"""The bot on the session's Redis Cluster (three masters, tests/support/redis_cluster.py): served
in-process with REDIS_CLUSTER=1 and REDIS_URL naming one node, the cluster emptied first."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import pytest
from redis.asyncio import Redis

from dialogs.store import connect
from tests.support.bot_app import BotApp, StartBot

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}


@pytest.fixture
async def cluster_client(redis_cluster_url: str) -> AsyncIterator[Redis]:
    """A cluster client of the session's cluster, emptied before the test."""
    client = connect(redis_cluster_url, cluster=True)
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()


def on_cluster(url: str, env: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
    return {"REDIS_URL": url, "REDIS_CLUSTER": "1", **FAST, **(env or {})}


@pytest.fixture
async def cluster_bot_with(
    cluster_client: Redis, redis_cluster_url: str
) -> AsyncIterator[StartBot]:
    """`await start(env, **seams)`: a bot on the cluster (as `bot_app_with` on one node)."""
    started: list[BotApp] = []

    async def start(env: Mapping[str, str | None] | None = None, **seams: object) -> BotApp:
        bot = BotApp(on_cluster(redis_cluster_url, env), **seams)  # type: ignore[arg-type]
        started.append(await bot.start())
        return bot

    try:
        yield start
    finally:
        for bot in reversed(started):
            await bot.stop()


@pytest.fixture
async def cluster_bot(cluster_bot_with: StartBot) -> BotApp:
    return await cluster_bot_with()
