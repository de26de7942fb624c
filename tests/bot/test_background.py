"""Background: delivery workers and the agenda loop of one bot process, started and stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.background import Background
from bot.config import Settings
from bot.delivery import Outbox, Pace, Timing
from bot.delivery.teams_sender import TeamsSender
from bot.root import build
from dialogs.boards.agenda import Agenda
from dialogs.store import connect
from tests.delivery.conftest import (
    FAST_RETRY,
    FAST_TIMING,
    RecordingSender,
    collecting_hook,
    make_job,
    settled,
)
from tests.support.redis_server import RedisServer

# Half the default drain (Timing.drain, 10 s): a stop that waited for its sends to drain,
# or for a hung item, fails it; a prompt one does not, however loaded the machine.
STOP_BOUND = 5.0


class Due:
    """An `on_due` that records the items it was handed; `fail` makes it raise for some."""

    def __init__(self, fail: Callable[[str, int], bool] = lambda item, n: False) -> None:
        self.items: list[str] = []
        self.fail = fail

    async def __call__(self, item: str) -> None:
        self.items.append(item)
        if self.fail(item, self.items.count(item)):
            raise ValueError(f"could not remind: evidence 'SECRET-{item}' was malformed")


def background(
    redis: Redis, on_due: Callable[[str], Awaitable[None]], **options: Any
) -> Background:
    options.setdefault("on_outcome", None)
    options.setdefault("workers", 0)
    options.setdefault("timing", FAST_TIMING)
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("agenda_every", 0.05)
    return Background(Outbox(redis, "tb"), Agenda(redis, "tb"), on_due=on_due, **options)


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not so within {timeout} s")
        await asyncio.sleep(0.02)


async def schedule_now(background: Background, *items: str) -> None:
    seconds, micros = await background.agenda.redis.time()
    now = datetime.fromtimestamp(seconds + micros / 1e6, UTC)
    for item in items:
        await background.agenda.schedule(item, now - timedelta(seconds=1))


async def looked_again(*subjects: Background, passes: int = 2) -> None:
    """Until each process has ended `passes` more looks at the agenda: with two, one has begun
    and ended after this call, so whatever the agenda held then has been seen by every loop."""
    ends: list[list[float | None]] = [[subject.agenda_progressed] for subject in subjects]

    def done() -> bool:
        for subject, seen in zip(subjects, ends, strict=True):
            if subject.agenda_progressed != seen[-1]:
                seen.append(subject.agenda_progressed)
        return all(len(seen) > passes for seen in ends)

    await eventually(done)


async def agenda_empty(agenda: Agenda, timeout: float = 10.0) -> None:
    """Until every item is done: none due, none claimed (a claimed item stays, leased)."""
    deadline = time.monotonic() + timeout
    while await agenda.size():
        if time.monotonic() > deadline:
            raise AssertionError(f"the agenda still holds items after {timeout} s")
        await asyncio.sleep(0.02)


async def test_a_queued_job_is_delivered_and_its_outcome_heard(redis: Redis) -> None:
    sender = RecordingSender()
    seen, hook = collecting_hook()
    subject = background(redis, Due(), on_outcome=hook, sender=sender, workers=2)
    await subject.start()
    try:
        job_id = await subject.outbox.enqueue(make_job(1))
        await eventually(lambda: len(seen) == 1)
    finally:
        await subject.stop()

    assert sender.job_ids() == [job_id]
    assert [(s.job_id, s.state) for s in seen] == [(job_id, "delivered")]
    (status,) = await settled(Outbox(redis, "tb"), [job_id])
    assert status.activity_id == "act-1"


async def test_each_due_item_reaches_on_due_once_across_two_processes(redis: Redis) -> None:
    due = Due()
    first, second = background(redis, due), background(redis, due)
    items = [f"remind|tenant-a|board-{n}|round-1" for n in range(12)]
    await first.start()
    await second.start()
    try:
        await schedule_now(first, *items)
        await eventually(lambda: len(due.items) >= len(items))
        await agenda_empty(first.agenda)  # each item done: nothing left that could come due
        await looked_again(first, second)
    finally:
        await first.stop()
        await second.stop()
    assert Counter(due.items) == Counter(items)
    assert await first.agenda.size() == 0


async def test_a_failing_item_is_logged_plainly_and_comes_back_after_its_lease(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    due = Due(fail=lambda item, n: n == 1)  # fails the first time only
    subject = background(redis, due, agenda_lease=0.3)
    caplog.set_level(logging.INFO, logger="trustboard")
    await subject.start()
    try:
        await schedule_now(subject, "remind|tenant-a|board-1|round-1")
        await eventually(lambda: len(due.items) == 2)
        await agenda_empty(subject.agenda)  # done the second time: nothing left to come due
        await looked_again(subject)
    finally:
        await subject.stop()
    assert due.items == ["remind|tenant-a|board-1|round-1"] * 2
    assert await subject.agenda.size() == 0  # done the second time
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1
    assert "remind|tenant-a|board-1|round-1" in failures[0] and "ValueError" in failures[0]
    assert "SECRET" not in caplog.text and "evidence" not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)  # no traceback carrying the message


async def test_a_reschedule_while_on_due_runs_is_kept(redis: Redis) -> None:
    later = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
    ran: list[str] = []
    subject: Background

    async def extend(item: str) -> None:
        ran.append(item)
        await subject.agenda.schedule(item, later)  # the clerk moved the deadline meanwhile

    subject = background(redis, extend)
    await subject.start()
    try:
        await schedule_now(subject, "close|tenant-a|board-1|round-1")
        await eventually(lambda: len(ran) == 1)
        await looked_again(subject)  # the pass that ran it ended, and one more looked after it
    finally:
        await subject.stop()
    assert ran == ["close|tenant-a|board-1|round-1"]
    assert await subject.agenda.due_at("close|tenant-a|board-1|round-1") == later


async def test_stop_is_quick_with_default_timings(redis: Redis) -> None:
    subject = background(
        redis, Due(), sender=RecordingSender(), workers=2, timing=Timing(), agenda_every=2.0
    )
    await subject.start()
    await asyncio.sleep(0.2)  # the workers are inside their blocking reads
    assert subject.running
    # Its blocking reads would hold a stop for their whole block time; the bound is far above
    # a prompt stop, so only a stop that waits them out fails it.
    async with asyncio.timeout(STOP_BOUND):
        await subject.stop()
    assert not subject.running


async def test_stop_cancels_an_on_due_that_hangs(redis: Redis) -> None:
    entered = asyncio.Event()
    cancelled = asyncio.Event()

    async def hang(item: str) -> None:
        entered.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    subject = background(redis, hang, drain=0.3)
    await subject.start()
    await schedule_now(subject, "remind|tenant-a|board-1|round-1")
    await asyncio.wait_for(entered.wait(), 5)
    async with asyncio.timeout(STOP_BOUND):  # the hang is an hour
        await subject.stop()
    assert cancelled.is_set()
    # Not marked done: it stays on the agenda, leased, for whoever runs next.
    assert await subject.agenda.due_at("remind|tenant-a|board-1|round-1") is not None


async def test_stop_hands_back_items_not_started(redis: Redis) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()
    handled: list[str] = []

    async def slow(item: str) -> None:
        handled.append(item)
        entered.set()
        await release.wait()

    subject = background(redis, slow, drain=5.0)
    await subject.start()
    await schedule_now(subject, "remind|a", "remind|b", "remind|c")
    await asyncio.wait_for(entered.wait(), 5)
    stopping = asyncio.create_task(subject.stop())
    await asyncio.sleep(0.05)
    release.set()  # the item in hand finishes within the drain time
    await asyncio.wait_for(stopping, 5)
    assert handled == ["remind|a"]
    assert await subject.agenda.due_at("remind|a") is None  # done
    # The other two were handed back, due now, not held for a whole lease.
    claims = await subject.agenda.claim()
    assert sorted(c.item for c in claims) == ["remind|b", "remind|c"]


async def test_the_settings_decide_workers_sender_and_pace(redis_url: str) -> None:
    settings = Settings(
        local_mode=True,
        redis_url=redis_url,
        delivery_workers=3,
        delivery_per_tenant=9,
        delivery_per_conversation=2,
    )
    root, other = build(settings), build(settings)
    try:
        subject = root.background
        assert len(subject.workers) == 3
        assert all(isinstance(w.sender, TeamsSender) for w in subject.workers)
        # One sender on the process's one Connector, which turn replies use too.
        assert {id(w.sender) for w in subject.workers} == {id(subject.workers[0].sender)}
        assert subject.workers[0].sender.connector is root.bot.connector
        assert {w.limiter.pace for w in subject.workers} == {Pace(per_tenant=9, per_conversation=2)}
        names = [w.consumer for w in subject.workers + other.background.workers]
        assert len(set(names)) == 6
        assert all(f"-{os.getpid()}-" in name for name in names)
    finally:
        await root.close()
        await other.close()


async def test_no_workers_means_this_process_sends_nothing(
    redis_url: str, redis_client: Redis
) -> None:
    settings = Settings(local_mode=True, redis_url=redis_url, delivery_workers=0)
    root = build(settings)
    subject = root.background
    subject.agenda_every = 0.05
    assert subject.workers == []
    await subject.start()
    try:
        job_id = await subject.outbox.enqueue(make_job(1))
        # The process's only loop, the agenda's, has gone round since: a worker started all the
        # same would have had as long to read the job.
        assert [loop.kind for loop in subject.loops()] == ["agenda"]
        await looked_again(subject)
        status = await subject.outbox.status(job_id)
    finally:
        await subject.stop()
        await root.close()
    assert status is not None and status.state == "queued"


async def test_attach_starts_and_stops_with_the_app(redis: Redis) -> None:
    subject = background(redis, Due(), sender=RecordingSender(), workers=1)
    app = web.Application()
    subject.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()  # on_startup
    try:
        assert subject.running
    finally:
        await runner.cleanup()  # on_cleanup
    assert not subject.running


async def test_a_redis_outage_is_waited_out(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    client = connect(server.url)
    due = Due()
    seen, hook = collecting_hook()
    subject = background(client, due, on_outcome=hook, sender=RecordingSender(), workers=1)
    try:
        await subject.start()
        await asyncio.sleep(0.2)
        server.stop()
        await asyncio.sleep(1.5)  # both loops meet a dead Redis, over and over
        assert subject.running
        server.restart()
        await schedule_now(subject, "remind|tenant-a|board-1|round-1")
        job_id = await subject.outbox.enqueue(make_job(1))
        await eventually(lambda: len(due.items) == 1 and len(seen) == 1, timeout=15)
        assert [s.job_id for s in seen] == [job_id]
    finally:
        async with asyncio.timeout(STOP_BOUND):
            await subject.stop()
        await client.aclose()
        server.stop()
