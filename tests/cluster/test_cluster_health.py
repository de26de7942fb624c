"""`/healthz` on a Redis Cluster: what every master says of the cluster, and a write accepted by
every master, so that one full master (whose trustees could not save) is a 503 naming it."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from bot.cluster_health import cluster_health
from bot.health import CLUSTER_DOWN, UNREACHABLE
from dialogs.store.keys import Keys
from tests.support.bot_app import BotApp
from tests.support.redis_cluster import RedisCluster


async def test_a_healthy_cluster_every_slot_served_and_a_write_on_every_master(
    cluster_bot: BotApp, redis_cluster: RedisCluster
) -> None:
    status, body = await cluster_bot.get("/healthz")
    assert (status, body["status"], body["store"], body["store_state"]) == (
        200,
        "ok",
        "redis cluster",
        "ok",
    ), body
    cluster = body["cluster"]
    assert (cluster["state"], cluster["slots_ok"]) == ("ok", 16384)
    masters = {node.address for node in redis_cluster.masters()}
    assert {m["node"] for m in cluster["masters"]} == masters
    assert all(
        (m["state"], m["slots_ok"], m["write"]) == ("ok", 16384, "ok") for m in cluster["masters"]
    )
    # The probe writes are one short-lived key on each master.
    probes = [k for node in redis_cluster.masters() for k in node_keys(node, "tb:{health:*")]
    assert len(probes) == 3
    assert {
        redis_cluster.master_of_slot(redis_cluster.slot_of(k)).address for k in probes
    } == masters


def node_keys(node: Any, pattern: str) -> list[str]:
    with node.client() as client:
        return list(client.scan_iter(match=pattern))


async def test_one_full_master_is_a_503_that_names_it_and_recovers(
    cluster_bot: BotApp, redis_cluster: RedisCluster
) -> None:
    full = redis_cluster.masters()[1]
    full.ask("CONFIG", "SET", "maxmemory", "1")  # below what it holds: no write fits
    try:
        status, body = await cluster_bot.get("/healthz")
        assert (status, body["status"], body["store_state"]) == (503, "unavailable", "full")
        assert "Redis is full" in body["reason"]
        by_node = {m["node"]: m for m in body["cluster"]["masters"]}
        assert by_node.pop(full.address)["write"] == "full"
        assert {m["write"] for m in by_node.values()} == {"ok"}
        assert body["cluster"]["state"] == "ok"  # the cluster itself is fine
    finally:
        full.ask("CONFIG", "SET", "maxmemory", "0")
    status, body = await cluster_bot.get("/healthz")
    assert (status, body["store_state"]) == (200, "ok")


async def test_a_master_that_does_not_answer_is_named_unreachable_and_the_cluster_down(
    cluster_client: Redis, redis_cluster: RedisCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What /healthz reads when one master stops answering, as in the failover tests, but
    without killing one: its CLUSTER INFO fails, every other master still takes the write."""
    silent = redis_cluster.masters()[2].address
    asked = cluster_client.cluster_info

    async def cluster_info(target_nodes: Any = None) -> Any:
        if target_nodes is not None and target_nodes.name == silent:
            raise ConnectionError("no answer")
        return await asked(target_nodes=target_nodes)

    monkeypatch.setattr(cluster_client, "cluster_info", cluster_info)
    health = await cluster_health(cluster_client, Keys("tb"), "test")
    assert health.state == CLUSTER_DOWN
    assert health.cluster is not None and health.cluster["state"] == "down"
    (named,) = [m for m in health.cluster["masters"] if m["node"] == silent]
    assert (named["state"], named["slots_ok"]) == (UNREACHABLE, -1)
    others = [m for m in health.cluster["masters"] if m["node"] != silent]
    assert len(others) == 2 and all(m["state"] == "ok" for m in others)
