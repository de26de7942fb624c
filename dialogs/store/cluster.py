"""redis-py's asyncio `RedisCluster`, with a burst of turns waiting for a connection.

A single-node client here has a fair pool (connect.py, gate.py): beyond its connections, a
command waits its turn for one. redis-py's cluster client has no such pool: past `max_connections`
to a node it raises MaxConnectionsError at once, so a burst of trustees would be told "not saved"
while Redis is idle. So every command and every pipeline takes one of `limit` turns first (a
FairGate, gate.py: first come, first served, and waiting on while the queue moves; "not saved"
only when nobody's turn has finished for `wait` seconds); each turn uses at most one connection
per node at a time, so a node sees at most `limit` connections from this process. A command the
client runs from inside a turn (a pipeline's retry of a redirected command) does not take a
second turn.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError

from ..failures import failure
from .gate import FairGate

log = logging.getLogger("trustboard.store")

_in_turn = contextvars.ContextVar("in_turn", default=False)


class GatedCluster(RedisCluster):
    wait_replicas = 0  # REDIS_WAIT_REPLICAS: each script waits for so many replicas (durable.py)

    def __init__(self, *args: Any, limit: int, wait: float, **kwargs: Any) -> None:
        # Room above `limit` for what redis-py opens outside a turn (its slot map refresh).
        kwargs["max_connections"] = limit + 8
        super().__init__(*args, **kwargs)
        self.gate = FairGate(limit, stall=wait)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if _in_turn.get():
            yield
            return
        await self.gate.acquire()  # Stalled, a ConnectionError, if Redis stops answering
        token = _in_turn.set(True)
        try:
            yield
        except AttributeError as exc:
            # After a node fails, redis-py disconnects that node's idle connections while another
            # task may already have taken one of them: its command then meets the closed writer
            # (`'NoneType' object has no attribute 'writelines'`). The command was not sent; to
            # the caller that is a lost connection ("not saved", or a script's retry), not a 500.
            log.warning("a Redis connection was closed under a command: %s", failure(exc))
            raise RedisConnectionError("the connection was closed under the command") from exc
        finally:
            _in_turn.reset(token)
            self.gate.release()

    def register_script(self, script: Any) -> Any:  # an AsyncScript, as redis-py's own
        if self.wait_replicas:
            from .durable import WaitingScript  # durable.py uses this module's turns

            return WaitingScript(self, script, self.wait_replicas)
        return super().register_script(script)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.turn():
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> Any:
        if shard_hint:
            return super().pipeline(transaction, shard_hint)  # refused there, with its reason
        # redis-py's typing marks its pipeline abstract; it is the class the client itself makes.
        return GatedPipeline(self, transaction)  # type: ignore[abstract]


class GatedPipeline(ClusterPipeline):
    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        client = self.cluster_client
        assert isinstance(client, GatedCluster)
        async with client.turn():
            return await super().execute(raise_on_error, allow_redirections)
