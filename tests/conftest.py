"""Shared fixtures: a throwaway Redis, clients and stores on it, a fake Bot Connector, and the
bot served in-process on them (`bot_app`, `bot_app_with`; see tests/support/bot_app.py).

The Redis on 6379 of this machine is never used: `redis_url` starts a server of our own on a free
port, and `redis_cluster` a Redis Cluster of our own (three masters; see
tests/support/redis_cluster.py), so flushing them between tests harms nobody. The `redis` and
`store` fixtures run each contract test on all three stores: one node ("redis"), the cluster
("cluster") and the in-process emulation ("embedded").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping

import pytest
from redis.asyncio import Redis

from dialogs.store import Store, connect
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector
from tests.support.redis_cluster import RedisCluster
from tests.support.redis_server import RedisServer, RedisServerError

STORE_BACKENDS = ["redis", "cluster", "embedded"]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a `redis-server` started for this test session (127.0.0.1, free port)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except RedisServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A Redis Cluster of three masters started for this test session (127.0.0.1, free ports)."""
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"), masters=3)
    try:
        cluster.start()
    except RedisServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def redis_cluster_url(redis_cluster: RedisCluster) -> str:
    """One node of the session's cluster: a client given it finds the others."""
    return redis_cluster.url


def backend_client(request: pytest.FixtureRequest) -> Redis:
    """A client of the store `request.param` names, as the bot would make it."""
    if request.param == "redis":
        return connect(request.getfixturevalue("redis_url"))
    if request.param == "cluster":
        return connect(request.getfixturevalue("redis_cluster_url"), cluster=True)
    return connect(None)


# The kinds of test (pyproject.toml's markers) whose modules each take tens of seconds.
LONG_KINDS = ("benchmark", "image", "npm", "browser", "soak")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In pytest-xdist's workers (scripts/test), the modules of the long kinds come first, so
    that none of them is started late by one worker while the others sit idle: scripts/test
    hands modules out in this order (--no-loadscope-reorder). A run in one process keeps
    pytest's own order."""
    if not hasattr(config, "workerinput"):
        return
    long = {item.path for item in items if any(item.get_closest_marker(k) for k in LONG_KINDS)}
    items.sort(key=lambda item: item.path not in long)  # stable: each module's order is kept


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked `also_on_cluster` runs twice where it uses the bot's Redis: on one node and
    on the session's cluster (see `redis_kind`)."""
    if "redis_kind" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "also_on_cluster"
    ):
        metafunc.parametrize("redis_kind", ["redis", "cluster"], indirect=True)


@pytest.fixture
def redis_kind(request: pytest.FixtureRequest) -> str:
    """Which Redis `redis_client` and the bots of `bot_app_with` use: "redis" (one node), or
    "cluster" for a test marked `also_on_cluster`, in its second run."""
    return str(getattr(request, "param", "redis"))


@pytest.fixture
def bot_redis(redis_kind: str, request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings that point a bot at that Redis."""
    if redis_kind == "cluster":
        return {"REDIS_URL": request.getfixturevalue("redis_cluster_url"), "REDIS_CLUSTER": "1"}
    return {"REDIS_URL": request.getfixturevalue("redis_url")}


@pytest.fixture
async def redis_client(bot_redis: dict[str, str]) -> AsyncIterator[Redis]:
    """A client of the throwaway server (or cluster: see `redis_kind`), emptied before the test."""
    if "REDIS_CLUSTER" in bot_redis:
        client = connect(bot_redis["REDIS_URL"], cluster=True)
    else:
        client = Redis.from_url(bot_redis["REDIS_URL"], decode_responses=True)
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=STORE_BACKENDS)
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    """The throwaway redis-server ("redis"), cluster ("cluster") or the in-process emulation
    ("embedded"), emptied first."""
    client = backend_client(request)
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """The store on the real throwaway server ("redis"), cluster ("cluster") or the in-process
    emulation ("embedded").

    The embedded backend does not need redis-server, so it runs even where that is missing.
    """
    client = backend_client(request)
    await client.flushall()  # the real servers are ours; an embedded one is fresh anyway
    subject = Store(client)
    try:
        yield subject
    finally:
        await subject.close()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    """A fake Bot Connector on 127.0.0.1; use `connector.url` as the activities' serviceUrl.

    A call to a route it does not know fails the test at teardown, so a wrong URL is visible.
    """
    async with FakeConnector() as fake:
        yield fake
    if fake.unknown:
        pytest.fail(f"calls to unknown connector routes: {fake.unknown}", pytrace=False)


@pytest.fixture
async def bot_app_with(redis_client: Redis, bot_redis: dict[str, str]) -> AsyncIterator[StartBot]:
    """Start bots in-process on the throwaway redis-server (emptied first), stopped after the test:

        bot = await bot_app_with({"DELIVERY_CLAIM_IDLE": "2"}, teams=recording_teams)

    The mapping is added to the environment, as for a `BotProcess`; keyword arguments go to
    `BotApp` (create_app's seams: teams, sender, timing).
    """
    started: list[BotApp] = []

    async def start(env: Mapping[str, str | None] | None = None, **seams: object) -> BotApp:
        bot = BotApp({**bot_redis, **(env or {})}, **seams)  # type: ignore[arg-type]
        started.append(await bot.start())
        return bot

    try:
        yield start
    finally:
        for bot in reversed(started):
            await bot.stop()


@pytest.fixture
async def bot_app(bot_app_with: StartBot) -> BotApp:
    """The bot served in-process on the throwaway redis-server, as `python -m bot` would run."""
    return await bot_app_with()
