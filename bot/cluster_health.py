"""What `/healthz` says of a Redis Cluster (REDIS_CLUSTER=1): what every master says of the
cluster, and a write accepted by every master.

Each master is asked `CLUSTER INFO`: the cluster is ok only if every master says `cluster_state:ok`
and that all 16384 slots are served (`cluster_slots_ok`). Then one short-lived key per master is
written (`Keys.health_probe`, a hash tag chosen so the key's slot is that master's), since one
master can be full, or refuse writes, while the others accept them: the trustees whose keys lie
on it could not save. The worst finding is the store's state; the body names each master's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis, RedisCluster

from dialogs.store import Keys
from dialogs.store.connect import REDIS_FAILURES

from .health import (
    CLUSTER_DOWN,
    FULL,
    OK,
    PROBE_TIMEOUT,
    READ_ONLY,
    REFUSING,
    UNREACHABLE,
    StoreHealth,
    write_state,
)

SLOTS = 16384
WORST_FIRST = (UNREACHABLE, CLUSTER_DOWN, FULL, READ_ONLY, REFUSING)
MAX_TAGS = 100_000  # more than enough to find a tag for each master's slots


async def cluster_health(
    redis: Redis, keys: Keys, process: str, timeout: float = PROBE_TIMEOUT
) -> StoreHealth:
    cluster = redis if isinstance(redis, RedisCluster) else None
    if cluster is None:
        raise TypeError("cluster_health needs the cluster client")
    try:
        async with asyncio.timeout(timeout):
            await cluster.initialize()
            masters = cluster.get_primaries()
            views = await asyncio.gather(*(_view(cluster, node) for node in masters))
            writes = await asyncio.gather(
                *(_write(redis, cluster, keys, process, n) for n in masters)
            )
    except REDIS_FAILURES:  # TimeoutError too (the probe's own limit): it is an OSError
        return StoreHealth(UNREACHABLE, {"state": "unknown", "slots_ok": 0, "masters": []})
    nodes = [
        {"node": node.name, **view, "write": state}
        for node, view, state in zip(masters, views, writes, strict=True)
    ]
    found = {state for state in writes}
    if any(view["state"] != "ok" or view["slots_ok"] != SLOTS for view in views):
        found.add(CLUSTER_DOWN)
    state = next((s for s in WORST_FIRST if s in found), OK)
    summary: dict[str, Any] = {
        "state": "ok" if CLUSTER_DOWN not in found and UNREACHABLE not in found else "down",
        "slots_ok": min((v["slots_ok"] for v in views if v["slots_ok"] >= 0), default=0),
        "masters": nodes,
    }
    return StoreHealth(state, summary)


async def _view(cluster: RedisCluster, node: Any) -> dict[str, Any]:
    """What one master says of the cluster; state "unreachable" if it does not answer."""
    try:
        info = await cluster.cluster_info(target_nodes=node)
    except REDIS_FAILURES:
        return {"state": UNREACHABLE, "slots_ok": -1}
    return {
        "state": str(info.get("cluster_state", "")),
        "slots_ok": int(info.get("cluster_slots_ok", 0)),
    }


async def _write(redis: Redis, cluster: RedisCluster, keys: Keys, process: str, node: Any) -> str:
    """What became of a probe write to `node`; a master the slot map gives no slot (one just
    demoted, in a map read a moment ago) holds nobody's keys, so there is nothing to probe."""
    key = _probe_key(cluster, keys, process, node)
    return OK if key is None else await write_state(redis, key)


def _probe_key(cluster: RedisCluster, keys: Keys, process: str, node: Any) -> str | None:
    """This process's probe key whose slot `node` serves, if it serves any."""
    served = cluster.nodes_manager.slots_cache.values()
    if not any(nodes and nodes[0].name == node.name for nodes in served):
        return None
    for n in range(MAX_TAGS):
        key = keys.health_probe(process, n)
        if cluster.nodes_manager.get_node_from_slot(cluster.keyslot(key)).name == node.name:
            return key
    return None
