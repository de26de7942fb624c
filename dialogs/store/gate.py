"""Redis connections handed out in the order they were asked for, and no turn told "not saved"
only because others were using them.

redis-py's `BlockingConnectionPool` is not fair: a released connection goes to whichever task
takes the pool's lock next, often a newcomer, so under a burst some turns wait far longer than
the rest (at 200 trustees the ratings' p99 fell from 1.35-1.68 s to 0.77-1.12 s with the pool
raised from 64 connections to 512 and nothing else changed), and a turn that waited its whole
5 s was told its answer was not saved while Redis was answering everyone else.

`FairGate` serves waiters first come, first served. Waiters give up only when no holder has
finished for `stall` seconds: then Redis is not answering (the store is down, the real "not
saved"), where a busy moment, however long the queue, keeps moving. `FairPool` is redis-py's
plain pool behind such a gate, sized to the pool, so the pool itself never runs out.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError


class Stalled(RedisConnectionError):
    """Nobody holding the gate finished for `stall` seconds: Redis is not answering."""


class FairGate:
    """At most `size` holders at once; the others wait in the order they came.

    One timer watches the queue, rather than one per waiter (a timer and a wait per turn were
    9% of the bot's CPU at 200 trustees, py-spy): every `stall` seconds while anyone waits, it
    checks that some holder finished since it last looked; if none did, every waiter is told
    (Stalled)."""

    def __init__(self, size: int, stall: float) -> None:
        if size < 1:
            raise ValueError("a gate needs room for one holder at least")
        self.size = size
        self.stall = stall
        self._free = size
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._finished = 0  # releases so far: the watchdog sees the queue move by this
        self._seen = 0  # `_finished` when the watchdog last looked
        self._watchdog: asyncio.TimerHandle | None = None

    @property
    def holders(self) -> int:
        return self.size - self._free

    @property
    def waiting(self) -> int:
        return sum(1 for f in self._waiting if not f.done())

    async def acquire(self) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        if self._watchdog is None:
            self._watch()
        try:
            await turn
        except BaseException:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                self.release()  # handed over just as this waiter left: pass it on
            else:
                turn.cancel()  # skipped by release()
            raise

    def _watch(self) -> None:
        self._seen = self._finished
        self._watchdog = asyncio.get_running_loop().call_later(self.stall, self._look)

    def _look(self) -> None:
        self._watchdog = None
        waiting = [turn for turn in self._waiting if not turn.done()]
        if not waiting:
            self._waiting.clear()
        elif self._finished != self._seen:
            self._watch()  # the queue moved: a busy moment, not a stalled store. Wait on.
        else:
            reason = (
                f"no Redis command finished within {self.stall:g} s "
                f"({self.holders} in progress, {len(waiting)} waiting)"
            )
            self._waiting.clear()
            for turn in waiting:
                turn.set_exception(Stalled(reason))

    def release(self) -> None:
        self._finished += 1
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._free = min(self._free + 1, self.size)


class FairPool(ConnectionPool):
    """redis-py's connection pool behind a `FairGate` of `max_connections` holders."""

    def __init__(self, *, stall: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = FairGate(self.max_connections, stall)

    async def get_connection(
        self, command_name: Any = None, *keys: Any, **options: Any
    ) -> AbstractConnection:
        await self.gate.acquire()
        try:
            # Never "Too many connections": the gate admits no more holders than the pool has.
            connection: AbstractConnection = self.get_available_connection()
        except BaseException:
            self.gate.release()
            raise
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def release(self, connection: AbstractConnection) -> None:
        held = connection in self._in_use_connections
        try:
            await super().release(connection)
        finally:
            if held:
                self.gate.release()
