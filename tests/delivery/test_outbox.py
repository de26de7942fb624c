"""The outbox on its own: ids, idempotent enqueueing, status, and the small pure parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from bot.delivery import Outbox, Recipient, Retry
from bot.delivery.jobs import Job
from bot.delivery.sender import (
    REASON_BLOCKED,
    REASON_DISABLED,
    REASON_FORBIDDEN,
    REASON_NOT_FOUND,
    REASON_NOT_IN_ROSTER,
    parse_retry_after,
    unreachable_reason,
)
from dialogs.boards.ports import TeamsError
from dialogs.store.keys import Keys, split_job_id

from .conftest import make_job, stream_length, stream_of


async def test_enqueue_queues_once_per_round_and_recipient(outbox: Outbox, redis: Redis) -> None:
    job = make_job(1)
    first = await outbox.enqueue(job)
    again = await outbox.enqueue(job)
    changed_text = await outbox.enqueue(
        Job(**{**job.__dict__, "message": {"type": "message", "text": "a different text"}})
    )
    assert first == again == changed_text
    assert await stream_length(redis, outbox) == 1
    statuses = await outbox.round_status("tenant-a", "board-1", "round-1")
    assert [s.job_id for s in statuses] == [first]
    status = statuses[0]
    assert (status.state, status.attempts, status.round_id) == ("queued", 0, "round-1")
    assert status.recipient == job.recipient
    assert status.next_at is None and status.reason is None


async def test_the_same_person_in_another_round_is_another_job(outbox: Outbox) -> None:
    one = await outbox.enqueue(make_job(1, round_id="r1"))
    two = await outbox.enqueue(make_job(1, round_id="r2"))
    assert one != two


async def test_a_job_lost_before_reaching_the_stream_is_put_on_by_enqueueing_again(
    outbox: Outbox, redis: Redis
) -> None:
    job_id = await outbox.enqueue(make_job(1))
    # As if the process died after writing the job and before adding it to the stream.
    await redis.delete(stream_of(outbox, job_id))
    await redis.hset(outbox.keys.job(job_id), "streamed", "0")
    outbox._ready.clear()
    assert await outbox.enqueue(make_job(1)) == job_id
    assert await stream_length(redis, outbox) == 1
    assert await redis.hget(outbox.keys.job(job_id), "streamed") == "1"


async def test_a_batch_queued_at_once_is_each_job_once_and_only_the_missing_are_streamed(
    outbox: Outbox, redis: Redis
) -> None:
    shared = {"type": "message", "text": "You are invited"}
    batch = [Job(**{**make_job(n).__dict__, "message": shared}) for n in range(600)]
    ids = await outbox.enqueue_all(batch[:10])
    # The first ten as if the process died after writing one and before streaming it.
    await redis.delete(stream_of(outbox, ids[3]))
    await redis.hset(outbox.keys.job(ids[3]), "streamed", "0")
    before = await stream_length(redis, outbox)
    outbox._ready.clear()

    assert await outbox.enqueue_all(batch) == [job.job_id for job in batch]
    assert len(set(await outbox.enqueue_all(batch))) == 600  # again: nothing new
    entries = before + 1 + 590  # the lost one's entry again, and the 590 new ones
    assert await stream_length(redis, outbox) == entries
    statuses = await outbox.round_status("tenant-a", "board-1", "round-1")
    assert len(statuses) == 600 and {s.state for s in statuses} == {"queued"}
    assert [s.recipient for s in statuses] == [job.recipient for job in batch]
    assert await redis.hget(outbox.keys.job(ids[3]), "streamed") == "1"
    loaded = await outbox.load(batch[599].job_id)
    assert loaded is not None and loaded[0].message == shared


async def test_keys_share_the_board_hash_tag(outbox: Outbox) -> None:
    job = make_job(1, tenant="t:{odd}/1", board="b 2")
    job_id = await outbox.enqueue(job)
    assert split_job_id(job_id)[:2] == ("t:{odd}/1", "b 2")
    keys = Keys("tb")
    tag = "{t:t%3A%7Bodd%7D%2F1:b:b%202}"
    assert keys.job(job_id).startswith(f"tb:{tag}:dq:job:")
    assert keys.round_jobs(job.tenant_id, job.board_id, "round-1") == f"tb:{tag}:dq:round:round-1"
    status = await outbox.status(job_id)
    assert status is not None and status.state == "queued"


async def test_status_of_unknown_or_malformed_ids(outbox: Outbox) -> None:
    assert await outbox.status("tenant-a/board-1/" + "0" * 32) is None
    assert await outbox.status("not-a-job") is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"service_url": "ftp://x"}, "service_url"),
        ({"recipient": Recipient("")}, "recipient.id"),
        ({"round_id": ""}, "round_id"),
        ({"message": {"type": "message"}}, "neither text nor attachments"),
        ({"message": {"type": "typing", "text": "x"}}, "type 'message'"),
        ({"message": {"text": "x" * 50_000}}, "larger than"),
    ],
)
async def test_a_job_that_cannot_be_sent_is_refused(
    outbox: Outbox, change: dict[str, object], problem: str
) -> None:
    job = Job(**{**make_job(1).__dict__, **change})
    with pytest.raises(ValueError, match=problem):
        await outbox.enqueue(job)


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("Sat, 01 Mar 2025 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Sat, 01 Mar 2025 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_back_off_has_full_jitter_and_honours_retry_after() -> None:
    retry = Retry(base=1.0, cap=8.0)
    for attempt in range(1, 8):
        assert 0 <= retry.delay(attempt, None) <= min(8.0, 2 ** (attempt - 1))
    assert 3.0 <= retry.delay(1, 3.0) <= 4.0
    assert retry.delay(1, 10_000.0) <= retry.max_retry_after + retry.base


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (403, "ConversationBlockedByUser", REASON_BLOCKED),
        (403, "Forbidden/MessageWritesBlocked", REASON_BLOCKED),
        (403, "BotNotInConversationRoster", REASON_NOT_IN_ROSTER),
        (403, "BotDisabledByAdmin", REASON_DISABLED),
        (403, "", REASON_FORBIDDEN),
        (404, "ConversationNotFound", REASON_NOT_FOUND),
    ],
)
def test_unreachable_reasons_say_what_a_clerk_can_do(status: int, code: str, reason: str) -> None:
    error = TeamsError(status, "refused", code=code)
    assert error.unreachable and not error.retryable
    assert unreachable_reason(error) == reason
    assert reason.startswith("Not reachable:")


def test_retention_is_optional(redis: Redis) -> None:
    assert Outbox(redis, retention=None).retention_ms == 0
    assert Outbox(redis, retention=timedelta(days=1)).retention_ms == 86_400_000
