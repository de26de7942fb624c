"""A cluster as Azure runs one: TLS only (`rediss://`, the cluster bus and replication too) and a
password. REDIS_URL names one node, with the password and the authority to trust; the bot finds
the other nodes and reaches each the same way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dialogs.store import connect
from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat, user
from tests.support.bot_app import BotApp
from tests.support.fake_connector import FakeConnector
from tests.support.redis_cluster import RedisCluster
from tests.support.redis_server import RedisServerError
from tests.support.redis_state import every_key

PASSWORD = "correct horse: battery/staple"  # characters a URL must percent-encode


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    cluster = RedisCluster(
        Path(tmp_path_factory.mktemp("tls-cluster")), masters=3, tls=True, password=PASSWORD
    )
    try:
        cluster.start()
    except RedisServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


async def test_rediss_and_a_password_reach_every_master(
    tls_cluster: RedisCluster, connector: FakeConnector
) -> None:
    url = tls_cluster.url
    assert url.startswith("rediss://:correct%20horse%3A%20battery%2Fstaple@127.0.0.1:")
    async with BotApp({"REDIS_URL": url, "REDIS_CLUSTER": "1"}) as bot:
        status, body = await bot.get("/healthz")
        assert (status, body["status"]) == (200, "ok"), body
        for n in range(6):  # six trustees: their keys spread over the masters
            trustee = TeamsClient(
                bot, connector, Chat(service_url=connector.url, user=user(f"Trustee {n}"))
            )
            await trustee.say("start governance")
            await trustee.click("rate", "Amber Green", evidence=f"trustee {n}")
            assert "Element 2 of 16" in trustee.words()
            assert not trustee.texts, trustee.texts  # no "not saved"

    redis = connect(url, cluster=True)
    try:
        keys = await every_key(redis, "*:sa:*")
        saved = [await redis.hget(key, "e:1") for key in keys]
    finally:
        await redis.aclose()
    assert sorted(saved) == [f"trustee {n}" for n in range(6)]
    holders = {tls_cluster.master_of_slot(tls_cluster.slot_of(key)).port for key in keys}
    assert len(holders) > 1  # answers were saved on more than the node REDIS_URL names
