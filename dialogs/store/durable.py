"""REDIS_WAIT_REPLICAS: a scripted write counts as done only once replicas hold it.

Redis replicates asynchronously: a master acknowledges a write before its replicas have it, so a
master that dies just after an answer was saved, and a replica promoted in its place, can lose an
answer the trustee was told was saved. With `wait_replicas` = N (opt-in), every Lua script the
store runs (an answer, finishing, a round opening or closing, a delivery's lease and outcome, the
agenda's claims) is followed by `WAIT N timeout` on the same connection, which returns once N
replicas have every write that connection made. Fewer than N in time is `NotReplicated`, a Redis
error: the store says "not saved" (the write is on the master, and a retry rewrites the same
fields), and no turn says "saved" that a failover could take back.

WAIT counts the writes of its own connection, so the script and the WAIT must share one: on one
server a single-connection client from the pool; on a cluster both go to the master of the keys'
slot in one round trip on one of its connections (redis-py's cluster client would send WAIT to
every master, on other connections). Plain writes (a card's id, a conversation reference) are not
waited for: they are not what the bot reports as saved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import PipelineCommand
from redis.commands.core import AsyncScript
from redis.exceptions import (
    AskError,
    ClusterDownError,
    NoScriptError,
    RedisError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

WAIT_TIMEOUT_MS = 2000  # how long a write waits for its replicas before "not saved"
CLUSTER_ATTEMPTS = 5  # a master failing over: the slot map is read again between attempts
# What a cluster master answers while its slot moves or it fails over: read the map, try again.
_MOVING = (AskError, ClusterDownError, TryAgainError, RedisConnectionError, RedisTimeoutError)


class NotReplicated(RedisError):
    """The write is on the master, but not yet on as many replicas as REDIS_WAIT_REPLICAS asks."""


class WaitingRedis(Redis):
    """A single-server client whose scripts wait for `wait_replicas` replicas (0: none)."""

    wait_replicas = 0

    def register_script(self, script: Any) -> Any:  # an AsyncScript, as redis-py's own
        if self.wait_replicas:
            return WaitingScript(self, script, self.wait_replicas)
        return super().register_script(script)


class WaitingScript(AsyncScript):
    """A registered script whose every call (outside a pipeline) waits for `replicas`."""

    def __init__(self, registered_client: Any, script: str, replicas: int) -> None:
        super().__init__(registered_client, script)
        self.replicas = replicas

    async def __call__(
        self,
        keys: Sequence[Any] | None = None,
        args: Iterable[Any] | None = None,
        client: Any = None,
    ) -> Any:
        if client is not None:  # queued in a pipeline: its owner decides
            return await super().__call__(keys, args, client)
        owner = self.registered_client
        if hasattr(owner, "nodes_manager"):
            return await self._on_cluster(owner, list(keys or []), list(args or []))
        async with Redis(
            connection_pool=owner.connection_pool, single_connection_client=True
        ) as one:
            result = await super().__call__(keys, args, one)
            check_replicas(await one.wait(self.replicas, WAIT_TIMEOUT_MS), self.replicas)
        return result

    async def _on_cluster(self, cluster: Any, keys: list[Any], args: list[Any]) -> Any:
        if not keys:
            raise ValueError("a script on a cluster must name its keys")
        slot = cluster.keyslot(keys[0])
        for attempt in range(CLUSTER_ATTEMPTS):
            try:
                async with cluster.turn():
                    await cluster.initialize()
                    node = cluster.nodes_manager.get_node_from_slot(slot)
                    return await self._run_on(node, cluster, keys, args)
            except _MOVING:
                if attempt == CLUSTER_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(min(1.0, 0.1 * 2**attempt))
                await cluster.nodes_manager.initialize()
        raise AssertionError("unreachable")

    async def _run_on(self, node: Any, cluster: Any, keys: list[Any], args: list[Any]) -> Any:
        for _ in range(2):  # once more after loading the script, if this master lacks it
            script = PipelineCommand(0, "EVALSHA", self.sha, len(keys), *keys, *args)
            wait = PipelineCommand(1, "WAIT", self.replicas, WAIT_TIMEOUT_MS)
            await node.execute_pipeline([script, wait])
            if isinstance(script.result, NoScriptError):
                await cluster.script_load(self.script)  # every master has it from now on
                continue
            if isinstance(script.result, Exception):
                raise script.result
            if isinstance(wait.result, Exception):
                raise wait.result
            check_replicas(int(wait.result), self.replicas)
            return script.result
        raise NoScriptError("the script could not be loaded")


def check_replicas(acknowledged: int, wanted: int) -> None:
    """NotReplicated unless `acknowledged` (WAIT's answer) reaches `wanted`."""
    if acknowledged < wanted:
        raise NotReplicated(
            f"{acknowledged} of {wanted} replicas had the write within {WAIT_TIMEOUT_MS} ms"
        )
