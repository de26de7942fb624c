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
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

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
from .queue import Begin, Entry, Outbox
from .sender import Sender, Sent, failed_reason, unreachable_reason

log = logging.getLogger("trustboard.delivery")

OutcomeHook = Callable[[JobStatus], Awaitable[None]]
# Sends in flight per worker. Most of them wait their turn for a slot (two a message when a chat
# is opened), so it takes about a window's worth of a tenant's requests to keep its slots used.
CONCURRENCY = 512
T = TypeVar("T")


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
    promote_every: float = 0.25  # how often due retries are moved back onto the streams: a
    # look at every shard's due set each time round the loop was most of the Redis commands

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
        concurrency: int = CONCURRENCY,
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
        next_claim = next_beat = next_promote = 0.0
        try:
            while not self._stopping.is_set():
                try:
                    await self.outbox.ensure_group()
                    if loop.time() >= next_promote:
                        next_promote = loop.time() + self.timing.promote_every
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
        token = f"{self.consumer}:{secrets.token_hex(6)}"
        try:
            begin = await self.outbox.begin(entry.job_id, token, int(self.timing.lease * 1000))
        except ValueError:
            begin = Begin("missing")  # not a job id: nothing to do but drop the entry
        if begin.verdict == "busy":
            return  # another attempt holds it; this entry is looked at again after claim_idle
        if begin.verdict == "later":
            # A duplicate entry, or a crash between recording a retry and scheduling it.
            await self.outbox.schedule(entry.job_id, begin.due_ms)
        if begin.verdict != "go" or begin.job is None:
            await self.outbox.ack(entry)
            return
        attempt = _Attempt(entry, begin.job, token, begin, self.timing.lease)
        if attempt.job.kind == ROLE:
            await self._forward(attempt)
        else:
            await self._attempt(attempt)

    async def _forward(self, attempt: _Attempt) -> None:
        """A role job becomes one personal job for each holder of the role now."""
        job = attempt.job
        handed = await self._hand_on(job)
        if handed:
            state, fields = FORWARDED, {"to": json.dumps(handed)}
        else:
            state, fields = DROPPED, {"reason": NOBODY}
        status = await self.outbox.settle(job, attempt.token, state, fields)
        await self.outbox.ack(attempt.entry)
        log.info("delivery %s: %s to %d", job.job_id, state, len(handed))
        if status is not None:
            await self._tell(status)

    async def _hand_on(self, job: Job) -> list[str]:
        recipients = await self.gate.recipients(job)
        await self.outbox.enqueue_all([job.handed_to(recipient) for recipient in recipients])
        return [r.id for r in recipients]

    async def _slot(self, attempt: _Attempt, post: bool) -> None:
        """A slot for the next request, taken just before it is made (a post also counts
        against its chat's limit). A long wait (Teams holding the tenant back) keeps the lease."""
        job = attempt.job

        async def waiting(seconds: float) -> None:
            if attempt.lease_left() - seconds < self.timing.attempt_timeout:
                lease = self.timing.lease + seconds
                if not await self.outbox.renew(job.job_id, attempt.token, int(lease * 1000)):
                    raise _LeaseLost
                attempt.leased(lease)

        await self.limiter.take(job.tenant_id, job.address if post else None, waiting)
        if attempt.lease_left() < self.timing.attempt_timeout:
            await waiting(0.0)

    async def _call(self, request: Awaitable[T]) -> T:
        """One request to Teams, bounded; a slow one counts as a failure to retry."""
        try:
            return await asyncio.wait_for(request, self.timing.attempt_timeout)
        except TimeoutError:
            raise TeamsError(None, f"no answer within {self.timing.attempt_timeout:g} s") from None

    async def _chat(self, attempt: _Attempt, part: Job, sent: Sent | None) -> str:
        """Where a personal message goes: the chat its job's earlier message went to, or the
        one remembered for the recipient, or a chat opened now (a request of its own)."""
        if sent is not None:
            return sent.conversation_id
        if attempt.chat:
            return attempt.chat
        await self._slot(attempt, post=False)
        return await self._call(self.sender.open_chat(part))

    async def _post(self, attempt: _Attempt) -> Sent | str:
        """Post the job's messages not posted yet, each only if the gate lets it go. Returns the
        last one posted, or why the rest may not go. Raises _LeaseLost if another attempt took
        the job over."""
        job = attempt.job
        sent = None
        for index in range(len(job.parts)):
            if index in attempt.posted:
                sent = attempt.posted[index]
                continue
            if job.audience:
                reason = await self.gate.check(job)
                if reason:
                    return reason
            part = job.part(index)
            chat = "" if part.conversation else await self._chat(attempt, part, sent)
            sent = await self._post_part(attempt, part, chat)
            marked = len(job.parts) == 1 or await self.outbox.mark_part(
                job, attempt.token, index, sent
            )
            if not marked:
                raise _LeaseLost
        assert sent is not None
        return sent

    async def _post_part(self, attempt: _Attempt, part: Job, chat: str) -> Sent:
        """One message posted: into its conversation (a channel), or the recipient's `chat`."""
        await self._slot(attempt, post=True)
        try:
            return await self._call(self.sender.send(part, chat))
        except TeamsError as exc:
            if not (chat and chat == attempt.chat and exc.unreachable):
                raise
        # The remembered chat is gone (Teams says not found, or no longer ours): forget it and
        # open the chat afresh, which says whether they can be reached at all.
        log.info("delivery %s: the remembered chat was refused; opening it again", part.job_id)
        await self.outbox.forget_chat(part, chat)
        attempt.chat = ""
        opened = await self._chat(attempt, part, None)
        await self._slot(attempt, post=True)
        return await self._call(self.sender.send(part, opened))

    async def _attempt(self, attempt: _Attempt) -> None:
        job, entry = attempt.job, attempt.entry
        try:
            sent = await self._post(attempt)
        except _LeaseLost:
            # Another attempt took the job over (this one outlived its lease): it settles.
            await self.outbox.ack(entry)
            return
        except TeamsError as exc:
            state, fields, delay = await self._after_error(job, exc, attempt.number)
        except Exception as exc:
            # A sender should raise TeamsError only; anything else is retried, but boundedly.
            log.error("sender raised an unexpected error for %s: %s", job.job_id, failure(exc))
            error = TeamsError(None, f"unexpected {type(exc).__name__}")
            state, fields, delay = await self._after_error(job, error, attempt.number)
        else:
            if isinstance(sent, str):
                state, fields, delay = DROPPED, {"reason": sent}, 0.0
            else:
                state = DELIVERED
                fields = {"activity_id": sent.activity_id, "conversation_id": sent.conversation_id}
                delay = 0.0
        status = await self.outbox.settle(job, attempt.token, state, fields, int(delay * 1000))
        await self.outbox.ack(entry)
        if state == DELIVERED:
            self.sent += 1
            if status is None:
                log.warning("delivery %s: sent again after an earlier delivery", job.job_id)
        log.info("delivery %s: %s (attempt %d)", job.job_id, state, attempt.number)
        if status is not None and state == DROPPED and job.parent:
            await self._hand_on_again(job)
        if status is not None:
            await self._tell(status)

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

    async def _tell(self, status: JobStatus) -> None:
        """The outcome hook, with the status as the settling script left it."""
        if self.on_outcome is None:
            return
        try:
            await self.on_outcome(status)
        except Exception as exc:
            # The outcome is stored already; the round logic can read it with round_status.
            log.error("outcome hook failed for %s: %s", status.job_id, failure(exc))


class _LeaseLost(Exception):
    """Another attempt has the job now (this one outlived its lease): it settles the job."""


class _Attempt:
    """One attempt at a job: what `begin` gave it, and how long its lease has left."""

    def __init__(self, entry: Entry, job: Job, token: str, begin: Begin, lease: float) -> None:
        self.entry = entry
        self.job = job
        self.token = token
        self.number = begin.attempt
        self.posted = begin.posted
        self.chat = begin.chat  # the recipient's remembered 1:1 chat; "" once refused
        self.leased(lease)

    def leased(self, seconds: float) -> None:
        self._until = time.monotonic() + seconds

    def lease_left(self) -> float:
        return self._until - time.monotonic()
