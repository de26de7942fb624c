"""Workers on their own (a recording stand-in sender): pacing, sharing, crashes, duplicates."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from typing import Any

from redis.asyncio import Redis

from bot.delivery import Outbox, Pace, Timing, Worker
from bot.delivery.queue import GROUP
from dialogs.store.keys import QUEUE_SHARDS, queue_shard

from .conftest import (
    FAST_TIMING,
    RecordingSender,
    idle,
    make_job,
    running,
    settled,
    stream_length,
    stream_of,
    take_as,
    worker,
)


def record_grants(
    outbox: Outbox, *workers: Worker, posts: bool = False
) -> dict[str, tuple[str, float]]:
    """When the limiter granted each slot, in Redis server time, read from its own sliding log
    right after each grant: a busy test machine delaying the test's bookkeeping cannot make the
    pace look broken, nor hide a broken one. Every request's slot in the tenant's log; with
    `posts`, only the posts' slots, from the recipients' logs."""
    seen: dict[str, tuple[str, float]] = {}  # slot id -> (tenant, server time in seconds)
    for each in workers:
        take = each.limiter.take

        async def recorded(
            tenant_id: str, recipient_id: str | None, waiting: Any = None, take=take, each=each
        ) -> None:
            await take(tenant_id, recipient_id, waiting)
            keys = each.limiter.keys
            if posts and recipient_id is None:
                return
            log = (
                keys.recipient_rate(tenant_id, recipient_id)
                if posts and recipient_id
                else keys.tenant_rate(tenant_id)
            )
            for slot, score in await outbox.redis.zrange(log, 0, -1, withscores=True):
                seen.setdefault(slot, (tenant_id, score / 1000))

        each.limiter.take = recorded  # type: ignore[method-assign]
    return seen


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of sends that fall within any `window` seconds."""
    ordered = sorted(times)
    return max(
        sum(1 for later in ordered[i:] if later - start < window) for i, start in enumerate(ordered)
    )


async def test_pace_per_tenant_holds_across_two_workers(outbox: Outbox) -> None:
    sender = RecordingSender()
    pace = Pace(per_tenant=10, per_conversation=7)
    # Each message is two requests, each paced: opening the 1:1 chat, then posting into it.
    ids = await outbox.enqueue_all([make_job(n) for n in range(15)])
    # Another tenant alongside is not held back by the first one's limit.
    other = await outbox.enqueue_all([make_job(n, tenant="tenant-b") for n in range(10)])
    # Neither worker dies here, so none may take the other's entries: a claim_idle as short as
    # FAST_TIMING's lets one that waited out a busy machine's pause be claimed, and its job
    # granted more slots (37 grants where 30 were due, seen under load).
    timing = replace(FAST_TIMING, claim_idle=5.0)
    workers = [
        worker(outbox, sender, f"w{n}", pace=pace, concurrency=16, timing=timing) for n in (1, 2)
    ]
    grants = record_grants(outbox, *workers)
    async with running(*workers):
        await settled(outbox, ids + other)

    tenant_a = set(ids)
    times = [at for job_id, at in sender.calls if job_id in tenant_a]
    assert len(times) == 15
    # The limiter works in whole milliseconds of server time; allow for that.
    granted = [at for tenant, at in grants.values() if tenant == "tenant-a"]
    assert len(granted) == 30
    # 10 requests, then 10 a second later, then 10 more: the last two seconds after the first.
    assert max(granted) - min(granted) >= 2.0 * 0.9
    # The pace is a property of the grants. The sends follow each grant at once, but a busy test
    # machine can delay a few and bunch them, so their timestamps are not checked the same way.
    assert most_in_any_window(granted, 0.95) <= 10
    other_times = [at for job_id, at in sender.calls if job_id not in tenant_a]
    assert max(other_times) < max(times)


async def test_pace_per_conversation(outbox: Outbox) -> None:
    sender = RecordingSender()
    jobs = [make_job(1, round_id=f"round-{n}", user="29:the-chair") for n in range(8)]
    ids = await outbox.enqueue_all(jobs)
    assert len(set(ids)) == 8
    one = worker(outbox, sender, pace=Pace(per_tenant=100, per_conversation=4))
    grants = record_grants(outbox, one, posts=True)
    async with running(one):
        await settled(outbox, ids)
    times = sender.times()
    assert max(times) - min(times) >= 1.0 * 0.9
    assert most_in_any_window([at for _, at in grants.values()], 0.95) <= 4


async def test_two_workers_share_40_jobs_and_send_each_once(outbox: Outbox) -> None:
    sender = RecordingSender(delay=0.02)
    ids = await outbox.enqueue_all([make_job(n) for n in range(40)])
    pace = Pace(per_tenant=1000)
    one = worker(outbox, sender, "w1", pace=pace, concurrency=4)
    two = worker(outbox, sender, "w2", pace=pace, concurrency=4)
    async with running(one, two):
        statuses = await settled(outbox, ids)
    assert {s.state for s in statuses} == {"delivered"}
    assert Counter(sender.job_ids()) == Counter(ids)
    assert one.sent > 0 and two.sent > 0 and one.sent + two.sent == 40
    assert await outbox.pending() == 0


async def test_jobs_of_a_dead_worker_are_claimed_and_sent_once(
    outbox: Outbox, redis: Redis
) -> None:
    ids = await outbox.enqueue_all([make_job(n) for n in range(6)])
    taken = await take_as(redis, outbox, "dead", 10)
    assert len(taken) == 6  # the dead consumer holds all six and never acknowledges
    # One of them was delivered before the crash: its marker is written, the entry not acked.
    done = ids[0]
    loaded = await outbox.load(done)
    assert loaded is not None
    assert (await outbox.begin(done, "dead:1", 60_000)).verdict == "go"
    assert await outbox.settle(
        loaded[0], "dead:1", "delivered", {"activity_id": "act-0", "conversation_id": "a:c0"}
    )

    sender = RecordingSender()
    async with running(worker(outbox, sender, "live")):
        statuses = await settled(outbox, ids)
        for _ in range(100):
            if await outbox.pending() == 0:
                break
            await asyncio.sleep(0.02)

    assert {s.state for s in statuses} == {"delivered"}
    assert sorted(sender.job_ids()) == sorted(ids[1:])
    assert statuses[0].activity_id == "act-0"
    assert await outbox.pending() == 0
    assert await stream_length(redis, outbox) == 0


async def test_a_job_leased_by_a_dead_worker_waits_for_the_lease_then_is_sent_once(
    outbox: Outbox, redis: Redis
) -> None:
    job_id = await outbox.enqueue(make_job(1))
    assert len(await take_as(redis, outbox, "dead", 1)) == 1
    # It died mid-send: the attempt is counted and leased (for 0.6 s) but has no outcome.
    assert (await outbox.begin(job_id, "dead:1", 600)).verdict == "go"

    sender = RecordingSender()
    async with running(worker(outbox, sender, "live")):
        (status,) = await settled(outbox, [job_id])
    assert (status.state, status.attempts) == ("delivered", 2)
    assert sender.job_ids() == [job_id]


async def test_a_slow_send_is_not_taken_over_by_another_worker(outbox: Outbox) -> None:
    # Sends take twice the claim idle time; touching entries in hand keeps them from being
    # claimed, and the lease would stop a second send if they were.
    timing = Timing(
        attempt_timeout=2.0, claim_idle=0.3, claim_every=0.05, block=0.05, lease_margin=0.5
    )
    sender = RecordingSender(delay=0.6)
    ids = await outbox.enqueue_all([make_job(n) for n in range(3)])
    one = worker(outbox, sender, "w1", timing=timing)
    async with running(one):
        async with asyncio.timeout(10):
            while await outbox.pending() < len(ids):  # the first worker has taken them all
                await asyncio.sleep(0.01)
        async with running(worker(outbox, sender, "w2", timing=timing)):
            await settled(outbox, ids)
    assert Counter(sender.job_ids()) == Counter(ids)


async def test_a_send_that_never_answers_is_cut_off_at_the_attempt_timeout_and_retried(
    outbox: Outbox,
) -> None:
    """A sender whose own timeouts fail to fire: the worker's bound on a whole attempt ends
    each try, and the job fails after the last one, saying why."""
    sender = RecordingSender(delay=60)
    timing = replace(FAST_TIMING, attempt_timeout=0.2)
    job_id = await outbox.enqueue(make_job(1))
    async with running(worker(outbox, sender, timing=timing)):
        (status,) = await settled(outbox, [job_id])
    assert (status.state, status.attempts) == ("failed", 4)
    assert status.error is not None and "no answer within 0.2 s" in status.error
    assert sender.job_ids() == [job_id] * 4


async def test_restart_mid_delivery_loses_nobody_and_repeats_nobody(outbox: Outbox) -> None:
    sender = RecordingSender(delay=0.05)
    ids = await outbox.enqueue_all([make_job(n) for n in range(20)])
    first = worker(outbox, sender, "w1", pace=Pace(per_tenant=1000), concurrency=2)
    async with running(first):
        while len(sender.calls) < 4:
            await asyncio.sleep(0.01)
    # Stopped part-way (sends in flight finish); a new process picks up the rest.
    assert 0 < first.sent < 20
    async with running(worker(outbox, sender, "w1-restarted", pace=Pace(per_tenant=1000))):
        statuses = await settled(outbox, ids)
    assert {s.state for s in statuses} == {"delivered"}
    assert Counter(sender.job_ids()) == Counter(ids)


async def test_re_enqueueing_after_delivery_sends_nothing_more(outbox: Outbox) -> None:
    sender = RecordingSender()
    job = make_job(1)
    async with running(worker(outbox, sender)):
        job_id = await outbox.enqueue(job)
        await settled(outbox, [job_id])
        assert await outbox.enqueue(job) == job_id
        await idle(outbox)  # an entry streamed again by that would be sent and acknowledged
    assert sender.job_ids() == [job_id]
    assert len(await outbox.round_status("tenant-a", "board-1", "round-1")) == 1


async def test_a_duplicate_stream_entry_sends_nothing_twice(outbox: Outbox, redis: Redis) -> None:
    job_id = await outbox.enqueue(make_job(1))
    await redis.xadd(stream_of(outbox, job_id), {"job": job_id})  # as a racing re-enqueue could
    await redis.xadd(stream_of(outbox, job_id), {"job": "junk"})  # and one that is not a job
    sender = RecordingSender()
    async with running(worker(outbox, sender)):
        await settled(outbox, [job_id])
        for _ in range(100):
            if await outbox.pending() == 0 and await stream_length(redis, outbox) == 0:
                break
            await asyncio.sleep(0.02)
    assert sender.job_ids() == [job_id]
    assert await outbox.pending() == 0


async def test_jobs_spread_over_the_queue_shards_and_every_worker_serves_each(
    outbox: Outbox, redis: Redis
) -> None:
    ids = await outbox.enqueue_all([make_job(n) for n in range(40)])
    shards = {queue_shard(job_id) for job_id in ids}
    assert len(shards) == QUEUE_SHARDS  # 40 jobs: every shard has some
    for shard in shards:
        assert await redis.xlen(outbox.keys.job_stream(shard)) > 0
    sender = RecordingSender()
    pace = Pace(per_tenant=1000)
    one, two = (worker(outbox, sender, name, pace=pace, concurrency=3) for name in ("w1", "w2"))
    async with running(one, two):
        statuses = await settled(outbox, ids)
    assert {s.state for s in statuses} == {"delivered"}
    assert Counter(sender.job_ids()) == Counter(ids)
    assert one.sent > 0 and two.sent > 0
    assert await stream_length(redis, outbox) == 0


async def test_what_an_older_version_queued_unsharded_is_still_sent_once(
    outbox: Outbox, redis: Redis
) -> None:
    # An older process (one stream, `{dq}`) queued a job and scheduled another's retry, then
    # stopped before sending either; the workers of this version find and send both, once.
    queued, retrying = await outbox.enqueue_all([make_job(1), make_job(2)])
    for job_id in (queued, retrying):
        await redis.delete(stream_of(outbox, job_id))
    outbox._ready.clear()
    before = outbox.keys.job_stream(None)
    assert before == "tb:{dq}:stream"
    await redis.xgroup_create(before, GROUP, id="0", mkstream=True)
    await redis.xadd(before, {"job": queued})
    await redis.zadd(outbox.keys.jobs_due(None), {retrying: 1})  # long due
    sender = RecordingSender()
    async with running(worker(outbox, sender)):
        statuses = await settled(outbox, [queued, retrying])
        for _ in range(100):
            if await outbox.pending() == 0 and await stream_length(redis, outbox) == 0:
                break
            await asyncio.sleep(0.02)
    assert [s.state for s in statuses] == ["delivered", "delivered"]
    assert Counter(sender.job_ids()) == Counter([queued, retrying])
    assert await redis.zcard(outbox.keys.jobs_due(None)) == 0
    assert await stream_length(redis, outbox) == 0
