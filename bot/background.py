"""The long-running work of one bot process: delivery workers and the agenda loop.

- `workers` delivery workers (bot/delivery) consume the outbox and send personal messages at
  Teams' pace, asking `gate` (the board) before each send whether it may still go;
  `on_outcome` hears what became of each job. With 0 workers this process sends
  nothing (a web-only process; another process sends).
- One agenda loop (dialogs/boards/agenda.py) claims timed items that are due (reminders, rounds
  closing) and hands each to `on_due`. Claims are leased, so across any number of processes each
  item is worked on by one at a time; an item whose work failed, timed out or was cut short by a
  crash comes back when its lease ends. Work handed to `on_due` must therefore be idempotent.

Neither loop ever dies of a Redis outage: both wait it out and carry on. `stop()` lets sends in
flight finish for a while (Timing.drain), then cancels what is left; entries and items left
unfinished are picked up later by whichever process is running.

Logs name agenda items and job ids only: never evidence, message text or an exception's message
from the round logic (which could quote either), only its type and where it was raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from dialogs.boards.agenda import Agenda, Claim
from dialogs.store.connect import REDIS_FAILURES

from .delivery import Gate, JobStatus, Outbox, Pace, Retry, Sender, Timing, Worker
from .logs import where

log = logging.getLogger("trustboard.background")

OnOutcome = Callable[[JobStatus], Awaitable[None]]


@dataclass(frozen=True)
class Loop:
    kind: str  # "agenda" or "delivery worker"
    name: str
    running: bool
    progressed: float | None  # Unix time of its last completed pass; None: none yet


OnDue = Callable[[str], Awaitable[None]]

_instances = itertools.count(1)  # several Backgrounds in one process (tests) get distinct names
STOP_ROUNDS = 3  # how many times stop() cancels a task that will not end before giving up on it


class Background:
    def __init__(
        self,
        outbox: Outbox,
        agenda: Agenda,
        *,
        on_outcome: OnOutcome | None,
        on_due: OnDue,
        sender: Sender | None = None,
        gate: Gate | None = None,
        workers: int = 1,
        pace: Pace | None = None,
        timing: Timing | None = None,
        retry: Retry | None = None,
        agenda_every: float = 2.0,
        agenda_lease: float = 60.0,
        agenda_batch: int = 20,
        drain: float | None = None,
    ) -> None:
        self.outbox = outbox
        self.agenda = agenda
        self.on_due = on_due
        self.timing = timing or Timing()
        self.agenda_every = agenda_every
        self.agenda_lease = agenda_lease
        self.agenda_batch = agenda_batch
        self.drain = self.timing.drain if drain is None else drain
        self.gate = gate
        self.workers = self._workers(workers, sender, pace, retry, on_outcome)
        self.agenda_progressed: float | None = None  # when (Unix time) a look at it last ended
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._loops: dict[str, asyncio.Task[None]] = {}  # by loop name, for loops()

    def _workers(
        self,
        count: int,
        sender: Sender | None,
        pace: Pace | None,
        retry: Retry | None,
        on_outcome: OnOutcome | None,
    ) -> list[Worker]:
        if count <= 0:
            return []  # a web-only process: another process sends
        if sender is None:
            raise ValueError("delivery workers need a sender")
        # Unique per process and per instance: the consumer group tells workers apart by name
        # alone, and a restarted process must not pose as its predecessor (whose pending entries
        # are claimed once idle, like any dead worker's).
        base = f"{socket.gethostname()}-{os.getpid()}-{next(_instances)}"
        pace = pace or Pace()
        return [
            Worker(
                self.outbox,
                sender,
                f"{base}-{index}",
                pace,
                retry=retry,
                timing=self.timing,
                on_outcome=on_outcome,
                gate=self.gate,
            )
            for index in range(1, count + 1)
        ]

    # -- lifecycle -----------------------------------------------------------------------------

    def attach(self, app: web.Application) -> None:
        """Start with the app, stop when it cleans up (before anything registered earlier, such
        as closing the Redis client these loops use)."""

        async def started(_: web.Application) -> None:
            await self.start()

        async def stopped(_: web.Application) -> None:
            await self.stop()

        app.on_startup.append(started)
        app.on_cleanup.insert(0, stopped)

    async def start(self) -> None:
        if self._tasks:
            return
        self._stopping.clear()
        for worker in self.workers:
            self._spawn(self._deliver(worker), f"delivery {worker.consumer}")
        self._spawn(self._agenda_loop(), "agenda")
        log.info("background started: %d delivery workers, agenda loop", len(self.workers))

    async def stop(self) -> None:
        """Finish what is in flight for up to `drain` seconds, then cancel the rest."""
        self._stopping.set()
        for worker in self.workers:
            await worker.stop()
        tasks, self._tasks = self._tasks, []
        if tasks:
            # A worker's blocking read ends within Timing.block, then it drains its sends.
            _, late = await asyncio.wait(tasks, timeout=self.drain + self.timing.block + 0.5)
            await _cancel(late)
            for task in tasks:
                if task.done() and not task.cancelled():
                    task.exception()  # retrieved, so asyncio does not warn of it at exit
            log.info("background stopped")

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def loops(self) -> list[Loop]:
        """Each loop of this process: whether it runs and when it last made progress."""
        found = [Loop("agenda", "agenda", self._runs("agenda"), self.agenda_progressed)]
        for worker in self.workers:
            name = f"delivery {worker.consumer}"
            found.append(Loop("delivery worker", name, self._runs(name), worker.progressed))
        return found

    def _runs(self, name: str) -> bool:
        task = self._loops.get(name)
        return task is not None and not task.done()

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.append(task)
        self._loops[name] = task

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # -- delivery ------------------------------------------------------------------------------

    async def _deliver(self, worker: Worker) -> None:
        """Run one worker until stop; it waits out Redis outages itself, and a bug that escapes
        it restarts it after a pause rather than leaving this process sending nothing."""
        while not self._stopping.is_set():
            try:
                await worker.run()
            except Exception as exc:
                log.error(
                    "delivery worker %s stopped unexpectedly (%s at %s); restarting",
                    worker.consumer,
                    type(exc).__name__,
                    where(exc),
                )
                await self._pause(1.0)

    # -- agenda --------------------------------------------------------------------------------

    async def _agenda_loop(self) -> None:
        while not self._stopping.is_set():
            more = False
            try:
                more = await self._agenda_round()
                self.agenda_progressed = time.time()
            except REDIS_FAILURES as exc:
                log.warning("agenda: Redis problem (%s); retrying", type(exc).__name__)
            except Exception as exc:
                log.error("agenda: unexpected %s at %s; retrying", type(exc).__name__, where(exc))
            if not more:
                await self._pause(self.agenda_every)

    async def _agenda_round(self) -> bool:
        """Work through one batch of due items; True if the batch was full (more may be due)."""
        claims = await self.agenda.claim(self.agenda_lease, self.agenda_batch)
        loop = asyncio.get_running_loop()
        # Each item must be finished (and marked done) within its lease, or another process
        # would claim it and do it again; a tenth of the lease is kept for marking it done.
        deadline = loop.time() + self.agenda_lease * 0.9
        for index, claim in enumerate(claims):
            left = deadline - loop.time()
            if self._stopping.is_set() or left <= 0:
                await self._release(claims[index:])
                return False
            await self._run(claim, left)
        return len(claims) == self.agenda_batch

    async def _run(self, claim: Claim, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.on_due(claim.item), timeout)
        except TimeoutError:
            log.warning(
                "agenda item %s: not finished within %.1f s; it comes back when its lease ends",
                claim.item,
                timeout,
            )
            return
        except Exception as exc:
            log.error(
                "agenda item %s failed (%s at %s); it comes back when its lease ends",
                claim.item,
                type(exc).__name__,
                where(exc),
            )
            return
        if not await self.agenda.done(claim):
            log.info("agenda item %s was rescheduled while it ran; the new time stands", claim.item)

    async def _release(self, claims: Sequence[Claim]) -> None:
        """Hand unstarted items back at once, so a stopping process does not hold them for a
        whole lease."""
        for claim in claims:
            await self.agenda.release(claim)


async def _cancel(tasks: set[asyncio.Task[None]]) -> None:
    """Cancel tasks and wait for them, a few times over: a worker's own clean-up (its drain)
    can itself wait, and a cancelled task may need cancelling again to end promptly."""
    for _ in range(STOP_ROUNDS):
        if not tasks:
            return
        for task in tasks:
            task.cancel()
        _, tasks = await asyncio.wait(tasks, timeout=0.5)
    for task in tasks:
        log.warning("background task %s did not stop; abandoning it", task.get_name())
