"""`/healthz` on a Redis Cluster: what every master says of the cluster, and a write accepted by
every master, so that one full master (whose trustees could not save) is a 503 naming it."""

from __future__ import annotations

from typing import Any

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
