"""Delivery through the real TeamsSender (aiohttp, the bot's token) to the fake connector."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.config import Settings
from bot.connector import Connector
from bot.delivery import Outbox, Pace
from bot.delivery.sender import REASON_BLOCKED, REASON_NOT_FOUND, REASON_NOT_IN_ROSTER
from bot.delivery.teams_sender import TeamsSender
from bot.root import teams_api
from tests.support.fake_connector import FakeConnector, adaptive_cards, error_body

from .conftest import (
    HangingConnector,
    RecordingSender,
    collecting_hook,
    idle,
    make_job,
    running,
    settled,
    stream_length,
    until,
    worker,
)

BOT_ID = "28:trustboard-local"


_made: list[Connector] = []


def teams_sender(call_timeout: float = 1.0) -> TeamsSender:
    api = teams_api(Settings(local_mode=True), call_timeout=call_timeout)
    _made.append(api.connector)
    return api.sender()


@pytest.fixture(autouse=True)
async def _close_senders() -> AsyncIterator[None]:
    yield
    while _made:
        await _made.pop().close()


async def test_25_trustees_in_2_tenants_each_get_their_message_once(
    outbox: Outbox, redis: Redis, connector: FakeConnector
) -> None:
    jobs = [make_job(n, tenant="tenant-a", service_url=connector.url) for n in range(13)]
    jobs += [
        make_job(n, tenant="tenant-b", board="board-9", service_url=connector.url)
        for n in range(12)
    ]
    ids = await outbox.enqueue_all(jobs)
    async with running(worker(outbox, teams_sender())):
        statuses = await settled(outbox, ids)
        assert await outbox.enqueue_all(jobs) == ids  # the round logic resuming: nothing new
        await idle(outbox)  # a job queued again by that would be on a stream or due

    assert [s.state for s in statuses] == ["delivered"] * 25
    creates = connector.calls_of("create")
    assert len(creates) == 25 and all(call.ok for call in creates)
    by_member = {}
    for call in creates:
        body = call.body
        assert body["isGroup"] is False
        assert body["bot"]["id"] == BOT_ID
        assert body["channelData"] == {"tenant": {"id": body["tenantID"]}}
        (member,) = body["members"]
        by_member[member["id"]] = (body["tenantID"], call.conversation_id)
    assert {m: t for m, (t, _) in by_member.items()} == {
        job.recipient.id: job.tenant_id for job in jobs
    }

    sent = connector.sent()
    assert len(sent) == 25
    assert Counter(a["text"] for a in sent) == Counter(job.message["text"] for job in jobs)
    for job, status in zip(jobs, statuses, strict=True):
        _, conversation = by_member[job.recipient.id]
        assert status.conversation_id == conversation
        posted = connector.activity(status.activity_id or "")
        assert posted is not None and posted["text"] == job.message["text"]
        assert adaptive_cards(posted) == [job.message["attachments"][0]["content"]]
        assert connector.calls_of("send", conversation_id=conversation)[0].ok
    assert await outbox.pending() == 0
    assert await stream_length(redis, outbox) == 0


async def test_a_429_waits_for_retry_after_then_delivers_once(
    outbox: Outbox, connector: FakeConnector
) -> None:
    connector.throttle(1, retry_after=1, kinds=["send"])
    sender = RecordingSender(teams_sender())
    job_id = await outbox.enqueue(make_job(1, service_url=connector.url))
    async with running(worker(outbox, sender)):
        (waiting,) = await until(outbox, [job_id], lambda s: s.state == "retrying")
        (status,) = await settled(outbox, [job_id])

    assert waiting.attempts == 1 and waiting.next_at is not None and waiting.updated is not None
    assert (waiting.next_at - waiting.updated).total_seconds() >= 1.0
    assert "429" in (waiting.error or "")
    assert (status.state, status.attempts) == ("delivered", 2)
    first, second = sender.times()
    assert second - first >= 1.0
    assert [c.status for c in connector.calls_of("send")] == [429, 201]
    assert len(connector.sent()) == 1


async def test_a_429_holds_back_the_tenants_other_jobs_too(
    outbox: Outbox, connector: FakeConnector
) -> None:
    connector.throttle(1, retry_after=1, kinds=["send"])
    sender = RecordingSender(teams_sender())
    ids = await outbox.enqueue_all([make_job(n, service_url=connector.url) for n in range(3)])
    async with running(worker(outbox, sender, concurrency=1)):
        statuses = await settled(outbox, ids)
    assert {s.state for s in statuses} == {"delivered"}
    first, *later = sender.times()
    assert all(at - first >= 1.0 for at in later)
    assert len(connector.sent()) == 3


@pytest.mark.parametrize("code", [412, 502, 503, 504])
async def test_transient_errors_are_retried_and_delivered_once(
    outbox: Outbox, connector: FakeConnector, code: int
) -> None:
    connector.fail_next(1, code, kinds=["create"])
    connector.fail_next(1, code, kinds=["send"])
    job_id = await outbox.enqueue(make_job(1, service_url=connector.url))
    async with running(worker(outbox, teams_sender())):
        (status,) = await settled(outbox, [job_id])
    assert (status.state, status.attempts) == ("delivered", 3)
    assert [c.status for c in connector.calls_of("create")] == [code, 201, 201]
    assert [c.status for c in connector.calls_of("send")] == [code, 201]
    assert len(connector.sent()) == 1


async def test_attempts_are_bounded_and_the_failure_recorded(
    outbox: Outbox, connector: FakeConnector
) -> None:
    connector.fail_next(100, 503)
    job_id = await outbox.enqueue(make_job(1, service_url=connector.url))
    async with running(worker(outbox, teams_sender())):
        (status,) = await settled(outbox, [job_id])
    assert (status.state, status.attempts) == ("failed", 4)
    assert status.reason is not None and "after 4 attempts" in status.reason
    assert len(connector.calls) == 4


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (403, None, REASON_BLOCKED),  # connector.block(): the user blocked the bot
        (403, error_body("BotNotInConversationRoster", "Not in roster"), REASON_NOT_IN_ROSTER),
        (404, error_body("ConversationNotFound", "Conversation not found."), REASON_NOT_FOUND),
    ],
)
async def test_403_and_404_mark_the_trustee_unreachable_without_retrying(
    outbox: Outbox, connector: FakeConnector, status: int, body: object, reason: str
) -> None:
    if body is None:
        connector.block(1)
    else:
        connector.fail_next(1, status, body=body)
    seen, hook = collecting_hook()
    job_id = await outbox.enqueue(make_job(1, service_url=connector.url))
    async with running(worker(outbox, teams_sender(), on_outcome=hook)):
        (outcome,) = await settled(outbox, [job_id])
        await idle(outbox)  # a retry, were there one, would be due or on a stream
    assert (outcome.state, outcome.attempts, outcome.reason) == ("unreachable", 1, reason)
    assert len(connector.calls) == 1
    assert [(s.job_id, s.state, s.reason) for s in seen] == [(job_id, "unreachable", reason)]


async def test_a_hanging_connector_is_timed_out_and_retried(
    outbox: Outbox, hanging_connector: HangingConnector
) -> None:
    hanging_connector.hang(1, kinds=["create"])
    job_id = await outbox.enqueue(make_job(1, service_url=hanging_connector.url))
    async with running(worker(outbox, teams_sender(call_timeout=0.3))):
        (status,) = await settled(outbox, [job_id], timeout=5)
    assert (status.state, status.attempts) == ("delivered", 2)
    assert hanging_connector.hung == 1
    assert len(hanging_connector.sent()) == 1


async def test_pacing_holds_with_the_real_sender(outbox: Outbox, connector: FakeConnector) -> None:
    sender = RecordingSender(teams_sender())
    ids = await outbox.enqueue_all([make_job(n, service_url=connector.url) for n in range(12)])
    async with running(worker(outbox, sender, pace=Pace(per_tenant=6), concurrency=12)):
        await settled(outbox, ids)
    times = sender.times()
    assert times[-1] - times[0] >= 1.0 * 0.9
    assert len(connector.sent()) == 12


async def test_a_reminder_goes_into_the_chat_the_invitation_opened_without_creating_it(
    outbox: Outbox, redis: Redis, connector: FakeConnector
) -> None:
    invitations = [make_job(n, round_id="round-1", service_url=connector.url) for n in range(5)]
    reminders = [make_job(n, round_id="round-1.r1", service_url=connector.url) for n in range(5)]
    async with running(worker(outbox, teams_sender())):
        first = await settled(outbox, await outbox.enqueue_all(invitations))
        second = await settled(outbox, await outbox.enqueue_all(reminders))

    assert {s.state for s in first + second} == {"delivered"}
    creates = connector.calls_of("create")
    assert len(creates) == 5  # one per trustee, for the invitations; none for the reminders
    for n, (invited, reminded) in enumerate(zip(first, second, strict=True)):
        assert reminded.conversation_id == invited.conversation_id
        texts = [a["text"] for a in connector.sent(invited.conversation_id)]
        assert texts == [invitations[n].message["text"], reminders[n].message["text"]]
    chats = await redis.hgetall(outbox.keys.chats("tenant-a", "board-1"))
    pairs = zip(invitations, first, strict=True)
    assert chats == {job.recipient.id: status.conversation_id for job, status in pairs}


async def test_a_remembered_chat_that_teams_no_longer_knows_is_opened_again(
    outbox: Outbox, redis: Redis, connector: FakeConnector
) -> None:
    async with running(worker(outbox, teams_sender())):
        await settled(outbox, [await outbox.enqueue(make_job(1, service_url=connector.url))])
        # The chat is gone on Teams' side (the trustee removed the app, say).
        gone = error_body("ConversationNotFound", "Conversation not found.")
        connector.fail_next(1, 404, body=gone, kinds=["send"])
        job = make_job(1, round_id="round-2", service_url=connector.url)
        (later,) = await settled(outbox, [await outbox.enqueue(job)])

    assert (later.state, later.attempts) == ("delivered", 1)
    assert [c.status for c in connector.calls_of("send")] == [201, 404, 201]
    assert len(connector.calls_of("create")) == 2  # the invitation's, and the chat found again
    chats = await redis.hgetall(outbox.keys.chats("tenant-a", "board-1"))
    assert chats == {job.recipient.id: later.conversation_id}
    assert len(connector.sent()) == 2
