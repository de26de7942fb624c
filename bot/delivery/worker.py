"""A delivery worker: one consumer of the outbox's stream, sending at Teams' pace.

Run as many as you like, in one process or many, each with its own consumer name: they share the
work through the consumer group, the pace through Redis, and claim what a dead one left pending.
Every decision about a job is made from the job hash (see queue.py), never from the entry alone.
Whether its recipient may still have it is asked of the `Gate` (gate.py) just before each send.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial

from dialogs.boards.ports import TeamsError
from dialogs.failures import failure
from dialogs.store.connect import REDIS_FAILURES

from .gate import NOBODY, Gate, OpenGate
from .jobs import (
    CHANNEL,
    DELIVERED,
    DROPPED,
    FAILED,
    FORWARDED,
    RETRYING,
    ROLE,
    UNREACHABLE,
    Job,
    JobStatus,
)
from .pacing import Pace, RateLimiter
from .queue import Entry, Outbox
from .sender import Sender, Sent, failed_reason, unreachable_reason

log = logging.getLogger("trustboard.delivery")

OutcomeHook = Callable[[JobStatus], Awaitable[None]]


@dataclass(frozen=True)
class Retry:
    max_attempts: int = 6
    base: float = 1.0  # seconds; the first back-off is up to this, then doubling
    cap: float = 120.0  # the longest back-off of our own choosing
    max_retry_after: float = 3600.0  # a Retry-After beyond this is taken as this

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential back-off with full jitter, never shorter than Retry-After."""
        jittered = random.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))
        if retry_after is None:
            return jittered
        # A small spread on top of Retry-After so throttled jobs do not all return at once.
        return min(retry_after, self.max_retry_after) + random.uniform(0, self.base)


@dataclass(frozen=True)
class Timing:
    attempt_timeout: float = 40.0  # one whole send (create chat + post); the sender's own
    # per-call timeouts should be shorter
    claim_idle: float = 60.0  # an entry pending this long is taken from its consumer
    claim_every: float = 5.0  # how often to look for such entries
    block: float = 1.0  # how long one read waits for new entries
    drain: float = 10.0  # on stop, how long sends in flight may finish
    lease_margin: float = 5.0

    def __post_init__(self) -> None:
        # Entries in hand are touched every claim_idle / 3, between reads: a read must not block
        # for longer, or another worker would claim an entry that is only waiting for its turn.
        if self.block >= self.claim_idle / 3:
            raise ValueError("block must be shorter than a third of claim_idle")

    @property
    def lease(self) -> float:
        # An attempt is leased a little longer than it can take, so a claimed entry of a live
        # worker finds the lease still held and leaves the job to it.
        return self.attempt_timeout + self.lease_margin


class Worker:
    def __init__(
        self,
        outbox: Outbox,
        sender: Sender,
        consumer: str,
        pace: Pace | None = None,
        *,
        retry: Retry | None = None,
        timing: Timing | None = None,
        concurrency: int = 8,
        on_outcome: OutcomeHook | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.gate: Gate = gate or OpenGate()
        self.consumer = consumer
        self.limiter = RateLimiter(outbox.redis, outbox.keys, pace or Pace())
        self.retry = retry or Retry()
        self.timing = timing or Timing()
        self.concurrency = concurrency
        self.on_outcome = on_outcome
        self.sent = 0  # jobs this worker delivered, for logs and tests
        self.progressed: float | None = None  # when (Unix time) a pass over the stream last ended
        self._stopping = asyncio.Event()
        self._tasks: dict[Entry, asyncio.Task[None]] = {}  # by stream entry

    # -- running -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Work until `stop()`; Redis outages are waited out, never fatal."""
        self._stopping.clear()
        loop = asyncio.get_running_loop()
        next_claim = next_beat = 0.0
        try:
            while not self._stopping.is_set():
                try:
                    await self.outbox.ensure_group()
                    await self.outbox.promote_due()
                    if loop.time() >= next_beat:
                        next_beat = loop.time() + self.timing.claim_idle / 3
                        await self.outbox.touch(self.consumer, list(self._tasks))
                    if loop.time() >= next_claim:
                        next_claim = loop.time() + self.timing.claim_every
                        await self._start(await self._claimed())
                    await self._start(await self._read())
                    self.progressed = time.time()
                except REDIS_FAILURES as exc:
                    log.warning(
                        "delivery worker %s: Redis problem (%s); retrying",
                        self.consumer,
                        failure(exc),
                    )
                    await self._pause(1.0)
        finally:
            await self._drain()

    async def stop(self) -> None:
        self._stopping.set()

    async def _claimed(self) -> list[Entry]:
        free = self._free()
        if free == 0:
            return []
        idle_ms = int(self.timing.claim_idle * 1000)
        return await self.outbox.claim(self.consumer, idle_ms, free)

    async def _read(self) -> list[Entry]:
        if self._free() == 0:
            # Full: wait for a send to finish before taking more, so work spreads across workers.
            await asyncio.wait(
                self._tasks.values(), timeout=self.timing.block, return_when="FIRST_COMPLETED"
            )
            return []
        return await self.outbox.read(self.consumer, self._free(), int(self.timing.block * 1000))

    def _free(self) -> int:
        return max(0, self.concurrency - len(self._tasks))

    async def _start(self, entries: list[Entry]) -> None:
        for entry in entries:
            if entry in self._tasks:
                continue  # already in hand (claimed back from ourselves)
            task = asyncio.create_task(self._handle(entry))
            self._tasks[entry] = task
            task.add_done_callback(partial(self._finished, entry))

    def _finished(self, entry: Entry, _: asyncio.Task[None]) -> None:
        self._tasks.pop(entry, None)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _drain(self) -> None:
        if not self._tasks:
            return
        _, late = await asyncio.wait(list(self._tasks.values()), timeout=self.timing.drain)
        for task in late:
            task.cancel()  # its entry stays pending, so another worker will claim it
        await asyncio.gather(*late, return_exceptions=True)

    # -- one entry -----------------------------------------------------------------------------

    async def _handle(self, entry: Entry) -> None:
        try:
            await self._process(entry)
        except REDIS_FAILURES as exc:
            # Nothing is lost: the entry stays pending and is claimed again later.
            log.warning("delivery of %s paused: Redis problem (%s)", entry.job_id, failure(exc))
        except Exception as exc:
            log.error(
                "delivery of %s failed unexpectedly (%s); it will be claimed again",
                entry.job_id,
                failure(exc),
            )

    async def _process(self, entry: Entry) -> None:
        try:
            loaded = await self.outbox.load(entry.job_id)
        except ValueError:
            loaded = None  # not a job id: nothing to do but drop the entry
        if loaded is None or loaded[1].final:
            await self.outbox.ack(entry)
            return
        job = loaded[0]
        if job.kind != ROLE:  # a role job sends nothing itself
            await self.limiter.take(job.tenant_id, job.address)
        token = f"{self.consumer}:{secrets.token_hex(6)}"
        begin = await self.outbox.begin(entry.job_id, token, int(self.timing.lease * 1000))
        if begin.verdict == "busy":
            return  # another attempt holds it; this entry is looked at again after claim_idle
        if begin.verdict == "later":
            # A duplicate entry, or a crash between recording a retry and scheduling it.
            await self.outbox.schedule(entry.job_id, begin.due_ms)
        if begin.verdict != "go":
            await self.outbox.ack(entry)
            return
        if job.kind == ROLE:
            await self._forward(entry, job, token)
        else:
            await self._attempt(entry, job, token, begin.attempt)

    async def _forward(self, entry: Entry, job: Job, token: str) -> None:
        """A role job becomes one personal job for each holder of the role now."""
        handed = await self._hand_on(job)
        if handed:
            state, fields = FORWARDED, {"to": json.dumps(handed)}
        else:
            state, fields = DROPPED, {"reason": NOBODY}
        written = await self.outbox.settle(job, token, state, fields)
        await self.outbox.ack(entry)
        log.info("delivery %s: %s to %d", job.job_id, state, len(handed))
        if written:
            await self._tell(job.job_id)

    async def _hand_on(self, job: Job) -> list[str]:
        recipients = await self.gate.recipients(job)
        await self.outbox.enqueue_all([job.handed_to(recipient) for recipient in recipients])
        return [r.id for r in recipients]

    async def _post(self, job: Job, token: str) -> Sent | str | None:
        """Post the job's messages not posted yet, each only if the gate lets it go. Returns the
        last one posted, or why the rest may not go, or None if this attempt lost its lease."""
        posted = await self.outbox.posted_parts(job.job_id)
        sent = None
        for index in range(len(job.parts)):
            if index in posted:
                sent = posted[index]
                continue
            if job.audience:
                reason = await self.gate.check(job)
                if reason:
                    return reason
            part = job.part(index)
            if sent is not None and not part.conversation:
                # The chat is open already: the rest of the job goes into it, without opening
                # it again (one request a message instead of two).
                part = replace(part, conversation=sent.conversation_id)
            sent = await self.sender.send(part)
            if len(job.parts) > 1 and not await self.outbox.mark_part(job, token, index, sent):
                return None
        assert sent is not None
        return sent

    async def _attempt(self, entry: Entry, job: Job, token: str, attempt: int) -> None:
        try:
            sent = await asyncio.wait_for(self._post(job, token), self.timing.attempt_timeout)
        except TeamsError as exc:
            state, fields, delay = await self._after_error(job, exc, attempt)
        except TimeoutError:
            error = TeamsError(None, f"no answer within {self.timing.attempt_timeout:g} s")
            state, fields, delay = await self._after_error(job, error, attempt)
        except Exception as exc:
            # A sender should raise TeamsError only; anything else is retried, but boundedly.
            log.error("sender raised an unexpected error for %s: %s", job.job_id, failure(exc))
            error = TeamsError(None, f"unexpected {type(exc).__name__}")
            state, fields, delay = await self._after_error(job, error, attempt)
        else:
            if sent is None:
                # Another attempt took the job over (this one outlived its lease): it settles.
                await self.outbox.ack(entry)
                return
            if isinstance(sent, str):
                state, fields, delay = DROPPED, {"reason": sent}, 0.0
            else:
                state = DELIVERED
                fields = {"activity_id": sent.activity_id, "conversation_id": sent.conversation_id}
                delay = 0.0
        written = await self.outbox.settle(job, token, state, fields, int(delay * 1000))
        await self.outbox.ack(entry)
        if state == DELIVERED:
            self.sent += 1
            if not written:
                log.warning("delivery %s: sent again after an earlier delivery", job.job_id)
        log.info("delivery %s: %s (attempt %d)", job.job_id, state, attempt)
        if written and state == DROPPED and job.parent:
            await self._hand_on_again(job)
        if written:
            await self._tell(job.job_id)

    async def _hand_on_again(self, job: Job) -> None:
        """A holder of a role lost it before their copy went: whoever holds it now gets one
        (each person once: their job's id is the same whenever it is queued)."""
        loaded = await self.outbox.load(job.parent)
        if loaded is not None:
            await self._hand_on(loaded[0])

    async def _after_error(
        self, job: Job, error: TeamsError, attempt: int
    ) -> tuple[str, dict[str, str], float]:
        if error.status == 429:
            await self.limiter.hold(job.tenant_id, error.retry_after or self.retry.base)
        fields = {"error": error.summary()[:500]}
        if error.unreachable:
            reason = unreachable_reason(error, channel=job.kind == CHANNEL)
            return UNREACHABLE, {**fields, "reason": reason}, 0.0
        if error.retryable and attempt < self.retry.max_attempts:
            return RETRYING, fields, self.retry.delay(attempt, error.retry_after)
        return FAILED, {**fields, "reason": failed_reason(error, attempt)}, 0.0

    async def _tell(self, job_id: str) -> None:
        if self.on_outcome is None:
            return
        status = await self.outbox.status(job_id)
        if status is None:
            return
        try:
            await self.on_outcome(status)
        except Exception as exc:
            # The outcome is stored already; the round logic can read it with round_status.
            log.error("outcome hook failed for %s: %s", job_id, failure(exc))
