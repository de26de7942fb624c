"""The agenda: timed items claimed once, leased while worked on, never losing a reschedule."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from dialogs.boards.agenda import Agenda, Claim
from dialogs.store.keys import AGENDA_SHARDS, agenda_shard
from tests.support.redis_state import every_key


@pytest.fixture
def agenda(redis: Redis) -> Agenda:
    return Agenda(redis, "tb")


async def server_now(redis: Redis) -> datetime:
    """Redis server time: the agenda's clock, whatever this process's clock says."""
    seconds, micros = await redis.time()
    return datetime.fromtimestamp(seconds + micros / 1e6, UTC)


async def due_items(agenda: Agenda, count: int, prefix: str = "remind") -> list[str]:
    now = await server_now(agenda.redis)
    items = [f"{prefix}|tenant-a|board-1|round-{n}" for n in range(count)]
    for n, item in enumerate(items):
        await agenda.schedule(item, now - timedelta(seconds=60 - n))
    return items


async def test_due_items_are_claimed_once_among_5_concurrent_claimers(
    redis: Redis, agenda: Agenda
) -> None:
    items = await due_items(agenda, 30)
    claimers = [Agenda(redis, "tb") for _ in range(5)]
    claimed: list[Claim] = []

    async def claim_all(each: Agenda) -> None:
        for _ in range(len(items)):  # bounded: an agenda that hands items out forever must fail
            batch = await each.claim(lease=30, limit=4)
            if not batch:
                return
            claimed.extend(batch)
            await asyncio.sleep(0)  # let the others in between batches

    await asyncio.gather(*(claim_all(each) for each in claimers))
    assert Counter(c.item for c in claimed) == Counter(items)
    assert await agenda.claim() == []  # all leased now: nobody gets them again
    for claim in claimed:
        assert await agenda.done(claim)
    assert await agenda.size() == 0


async def test_the_earliest_due_come_first(agenda: Agenda) -> None:
    items = await due_items(agenda, 5)
    assert [c.item for c in await agenda.claim(limit=2)] == items[:2]


async def test_items_not_yet_due_are_left_alone(agenda: Agenda) -> None:
    now = await server_now(agenda.redis)
    await agenda.schedule("close|t|b|later", now + timedelta(hours=1))
    await agenda.schedule("close|t|b|soon", now + timedelta(milliseconds=300))
    assert await agenda.claim() == []
    await asyncio.sleep(0.4)  # a real wait: the clock reaching the item's time, no state to poll
    assert [c.item for c in await agenda.claim()] == ["close|t|b|soon"]
    assert await agenda.due_at("close|t|b|later") is not None


async def test_a_claim_not_marked_done_comes_back_after_its_lease(agenda: Agenda) -> None:
    (item,) = await due_items(agenda, 1)
    (first,) = await agenda.claim(lease=0.3)
    assert first.item == item
    assert await agenda.claim(lease=0.3) == []  # leased to the first claimer
    # A real wait, for the lease to run out (the first claimer died without marking it done).
    await asyncio.sleep(0.4)
    (second,) = await agenda.claim(lease=5)
    assert second.item == item and second.token_score != first.token_score
    assert not await agenda.done(first)  # the dead claimer's lease is no longer the item's
    assert await agenda.due_at(item) is not None
    assert await agenda.done(second)
    assert await agenda.due_at(item) is None


async def test_a_reschedule_while_claimed_survives_done(agenda: Agenda) -> None:
    (item,) = await due_items(agenda, 1)
    (claim,) = await agenda.claim()
    later = (await server_now(agenda.redis) + timedelta(days=2)).replace(microsecond=0)
    await agenda.schedule(item, later)  # the clerk moved the deadline while the reminder ran
    assert not await agenda.done(claim)
    assert await agenda.due_at(item) == later


async def test_a_reschedule_to_now_while_claimed_is_claimed_again(agenda: Agenda) -> None:
    (item,) = await due_items(agenda, 1)
    (claim,) = await agenda.claim(lease=60)
    await agenda.schedule(item, await server_now(agenda.redis))
    assert not await agenda.done(claim)
    (again,) = await agenda.claim()  # most likely within the same millisecond as the first
    assert again.item == item and again.token_score != claim.token_score
    assert not await agenda.done(claim)  # the first claim cannot end the second one's work
    assert await agenda.done(again)


async def test_schedule_moves_an_item(agenda: Agenda) -> None:
    now = (await server_now(agenda.redis)).replace(microsecond=123000)
    await agenda.schedule("remind|t|b|r", now + timedelta(hours=1))
    await agenda.schedule("remind|t|b|r", now + timedelta(hours=2))
    assert await agenda.due_at("remind|t|b|r") == now + timedelta(hours=2)
    assert await agenda.size() == 1


async def test_cancel(agenda: Agenda) -> None:
    kept, cancelled = await due_items(agenda, 2)
    await agenda.cancel(cancelled)
    assert await agenda.due_at(cancelled) is None
    assert [c.item for c in await agenda.claim()] == [kept]
    await agenda.cancel("never|scheduled")  # no error


async def test_cancel_while_claimed_is_not_undone(agenda: Agenda) -> None:
    (item,) = await due_items(agenda, 1)
    (claim,) = await agenda.claim()
    await agenda.cancel(item)
    assert not await agenda.done(claim)
    assert not await agenda.release(claim)
    assert await agenda.due_at(item) is None


async def test_release_hands_an_item_back_at_once(agenda: Agenda) -> None:
    (item,) = await due_items(agenda, 1)
    (claim,) = await agenda.claim(lease=60)
    assert await agenda.release(claim)
    (again,) = await agenda.claim(lease=60)
    assert again.item == item
    assert not await agenda.release(claim)  # the old claim no longer holds it


async def test_naive_times_and_empty_items_are_refused(agenda: Agenda) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await agenda.schedule("remind|t|b|r", datetime(2030, 1, 1, 9, 0))
    with pytest.raises(ValueError, match="non-empty"):
        await agenda.schedule("", datetime(2030, 1, 1, 9, 0, tzinfo=UTC))
    with pytest.raises(ValueError):
        await agenda.claim(lease=0)


async def test_items_live_under_the_prefix_in_their_shards_hash_slot(redis: Redis) -> None:
    agenda = Agenda(redis, "acme")
    await agenda.schedule("remind|t|b|r", datetime(2030, 1, 1, tzinfo=UTC))
    # Spelled out: an item's shard must never change under it (dialogs/store/keys.py).
    assert agenda_shard("remind|t|b|r") == 5
    assert await every_key(redis) == ["acme:{agenda:5}:due"]
    assert await redis.zscore("acme:{agenda:5}:due", "remind|t|b|r") == 1893456000000


async def test_items_spread_over_the_shards_and_each_is_claimed_once(
    redis: Redis, agenda: Agenda
) -> None:
    items = await due_items(agenda, 40)
    assert len({agenda.key_of(item) for item in items}) == AGENDA_SHARDS
    claimed = await agenda.claim(limit=100)
    assert sorted(c.item for c in claimed) == sorted(items)
    assert [c.item for c in claimed] == items  # earliest first, whichever shard holds it
    assert await agenda.claim(limit=100) == []
    assert all([await agenda.done(c) for c in claimed])
    assert await agenda.size() == 0


async def test_an_item_an_older_version_scheduled_unsharded_is_still_done(
    redis: Redis, agenda: Agenda
) -> None:
    now = await server_now(redis)
    before = agenda.keys.agenda_due(None)  # tb:{agenda}:due, as before the shards
    assert before == "tb:{agenda}:due"
    await redis.zadd(before, {"close|t|b|old": int(now.timestamp() * 1000) - 1000})
    await redis.zadd(before, {"remind|t|b|moved": int(now.timestamp() * 1000) + 60_000})
    assert await agenda.due_at("remind|t|b|moved") is not None
    await agenda.schedule("remind|t|b|moved", now + timedelta(hours=1))  # moves to its shard
    assert await redis.zrange(before, 0, -1) == ["close|t|b|old"]

    (claim,) = await agenda.claim()
    assert (claim.item, claim.shard) == ("close|t|b|old", None)
    assert await agenda.done(claim)
    assert await redis.zcard(before) == 0
    await agenda.cancel("remind|t|b|moved")
    assert await agenda.size() == 0
