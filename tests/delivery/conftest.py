"""Fixtures for delivery: Redis (real throwaway server and embedded), an outbox, fast timings,
senders that record what they were asked to do, and a connector that can hang."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.delivery import Job, JobStatus, Outbox, Recipient, Retry, Sent, Timing, Worker
from bot.delivery.queue import GROUP, READ, SHARDS
from dialogs.store.keys import queue_shard
from tests.support.fake_connector import FakeConnector

# Small numbers so that every test runs in well under a second or two.
FAST_TIMING = Timing(
    attempt_timeout=2.0, claim_idle=0.3, claim_every=0.1, block=0.05, drain=2.0, lease_margin=0.5
)
FAST_RETRY = Retry(max_attempts=4, base=0.02, cap=0.1)


@pytest.fixture
async def outbox(redis: Redis) -> Outbox:
    return Outbox(redis, "tb")


def stream_of(outbox: Outbox, job_id: str) -> str:
    """The stream of the queue's shard a job's entries go to."""
    return outbox.keys.job_stream(queue_shard(job_id))


async def stream_length(redis: Redis, outbox: Outbox) -> int:
    """Entries in every shard's stream (and the unsharded one of before)."""
    return sum([int(await redis.xlen(outbox.keys.job_stream(shard))) for shard in READ])


async def take_as(redis: Redis, outbox: Outbox, consumer: str, count: int) -> list[Any]:
    """What `consumer` (a worker about to die) reads from the shards, never acknowledged."""
    await outbox.ensure_group()
    taken: list[Any] = []
    for shard in SHARDS:
        stream = outbox.keys.job_stream(shard)
        for _, entries in await redis.xreadgroup(GROUP, consumer, {stream: ">"}, count=count):
            taken += entries
    return taken


def card(title: str) -> dict[str, Any]:
    return {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [{"type": "TextBlock", "text": title, "wrap": True}],
        },
    }


def make_job(
    n: int,
    *,
    tenant: str = "tenant-a",
    board: str = "board-1",
    round_id: str = "round-1",
    service_url: str = "https://smba.example/emea/",
    user: str | None = None,
) -> Job:
    text = f"Round {round_id}: your ratings are open, trustee {n}"
    return Job(
        tenant_id=tenant,
        service_url=service_url,
        recipient=Recipient(user or f"29:user-{tenant}-{n}", f"aad-{tenant}-{n}", f"Trustee {n}"),
        board_id=board,
        round_id=round_id,
        message={"type": "message", "text": text, "attachments": [card(text)]},
    )


class RecordingSender:
    """Wraps a sender (or stands in for one), noting which job it was asked to send and when."""

    def __init__(self, inner: Any = None, delay: float = 0.0) -> None:
        self.inner = inner
        self.delay = delay
        self.calls: list[tuple[str, float]] = []

    async def open_chat(self, job: Job) -> str:
        if self.inner is not None:
            return str(await self.inner.open_chat(job))
        return f"a:conv-{job.recipient.id}"

    async def send(self, job: Job, chat: str = "") -> Sent:
        self.calls.append((job.job_id, time.monotonic()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.inner is not None:
            return await self.inner.send(job, chat)
        where = job.conversation or chat or f"a:conv-{job.recipient.id}"
        return Sent(where, f"act-{len(self.calls)}")

    def job_ids(self) -> list[str]:
        return [job_id for job_id, _ in self.calls]

    def times(self) -> list[float]:
        return [at for _, at in self.calls]


def worker(outbox: Outbox, sender: Any, name: str = "w1", **options: Any) -> Worker:
    options.setdefault("timing", FAST_TIMING)
    options.setdefault("retry", FAST_RETRY)
    return Worker(outbox, sender, name, options.pop("pace", None), **options)


@contextlib.asynccontextmanager
async def running(*workers: Worker) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        for w in workers:
            await w.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


async def settled(outbox: Outbox, job_ids: Sequence[str], timeout: float = 15.0) -> list[JobStatus]:
    """Wait until every job has a final outcome; returns their statuses in order."""
    return await until(outbox, job_ids, lambda s: s.final, timeout)


async def until(
    outbox: Outbox,
    job_ids: Sequence[str],
    done: Callable[[JobStatus], bool],
    timeout: float = 15.0,
) -> list[JobStatus]:
    deadline = time.monotonic() + timeout
    while True:
        found = [await outbox.status(job_id) for job_id in job_ids]
        if all(s is not None and done(s) for s in found):
            return [s for s in found if s is not None]
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs not done in {timeout} s: {found}")
        await asyncio.sleep(0.02)


async def idle(outbox: Outbox, timeout: float = 15.0) -> None:
    """Wait until the outbox has nothing left to do: no entry on any shard's stream, read or not
    (a worker acknowledges and deletes an entry only once done with it, a second send included),
    and no retry scheduled on any shard's due set."""
    deadline = time.monotonic() + timeout
    while True:
        streamed = await stream_length(outbox.redis, outbox)
        due = sum([int(await outbox.redis.zcard(outbox.keys.jobs_due(s))) for s in READ])
        if streamed == 0 and due == 0 and await outbox.pending() == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox busy after {timeout} s: {streamed} streamed, {due} due")
        await asyncio.sleep(0.02)


class HangingConnector(FakeConnector):
    """The fake connector, able to hold the next calls without answering (as a stuck service)."""

    def __init__(self) -> None:
        super().__init__()
        self.hangs: list[tuple[int, frozenset[str]]] = []
        self.hung = 0
        self._release = asyncio.Event()

    def hang(self, count: int, kinds: Sequence[str]) -> None:
        self.hangs.append((count, frozenset(kinds)))

    async def _handle(self, request: web.Request) -> web.Response:
        from tests.support.fake_connector import route

        kind = route(request.method, request.rel_url.raw_path).kind
        for index, (count, kinds) in enumerate(self.hangs):
            if count > 0 and kind in kinds:
                self.hangs[index] = (count - 1, kinds)
                self.hung += 1
                # Held until the test ends (or 10 s); whoever called has given up long before.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._release.wait(), 10)
                return web.json_response({"error": {"code": "Late"}}, status=503)
        return await super()._handle(request)

    async def close(self) -> None:
        self._release.set()
        await super().close()


@pytest.fixture
async def hanging_connector() -> AsyncIterator[HangingConnector]:
    async with HangingConnector() as fake:
        yield fake


Hook = Callable[[JobStatus], Awaitable[None]]


def collecting_hook() -> tuple[list[JobStatus], Hook]:
    seen: list[JobStatus] = []

    async def hook(status: JobStatus) -> None:
        seen.append(status)

    return seen, hook
