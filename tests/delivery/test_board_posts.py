"""The outbox beyond invitations: channel posts, messages in several parts, and messages whose
recipient is asked of the board when they are sent (a `Gate`), through the real TeamsSender to
the fake connector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from bot.config import Settings
from bot.connector import Connector
from bot.delivery import Job, Outbox, Recipient, Sent
from bot.delivery.teams_sender import TeamsSender
from bot.root import teams_api
from dialogs.boards.ports import TeamsError
from tests.support.fake_connector import FakeConnector, error_body

from .conftest import collecting_hook, idle, make_job, running, settled, until, worker

CHANNEL = "19:board-channel@thread.tacv2"
_made: list[Connector] = []


def teams_sender() -> TeamsSender:
    api = teams_api(Settings(local_mode=True), call_timeout=1.0)
    _made.append(api.connector)
    return api.sender()


@pytest.fixture(autouse=True)
async def _close_senders() -> AsyncIterator[None]:
    yield
    while _made:
        await _made.pop().close()


def text(words: str) -> dict[str, Any]:
    return {"type": "message", "text": words}


def channel_job(connector: FakeConnector, batch: str = "round-1.summary") -> Job:
    return replace(
        make_job(0, round_id=batch, service_url=connector.url),
        recipient=Recipient(""),
        conversation=CHANNEL,
        audience="channel",
        message=text("The board's summary"),
    )


class BoardGate:
    """A board as the gate sees it: who holds the role, and who may still receive."""

    def __init__(self, holders: list[str]) -> None:
        self.holders = holders
        self.channel_open = True
        self.asked: list[str] = []

    async def check(self, job: Job) -> str | None:
        self.asked.append(job.address)
        if job.conversation:
            return None if self.channel_open else "Not posted: the bot left the team."
        return None if job.recipient.id in self.holders else "Not sent: no longer the chair."

    async def recipients(self, job: Job) -> list[Recipient]:
        return [Recipient(h, name=h) for h in self.holders]


class Flaky:
    """A sender that refuses its `refuse`th calls (counting from 1) with a 503."""

    def __init__(self, inner: TeamsSender, refuse: set[int]) -> None:
        self.inner = inner
        self.refuse = refuse
        self.asked: list[str] = []

    async def open_chat(self, job: Job) -> str:
        return await self.inner.open_chat(job)

    async def send(self, job: Job, chat: str = "") -> Sent:
        self.asked.append(job.message["text"])
        if len(self.asked) in self.refuse:
            raise TeamsError(503, "Service Unavailable")
        return await self.inner.send(job, chat)


def texts_to(connector: FakeConnector, member: str) -> list[str]:
    chats = {
        c.conversation_id
        for c in connector.calls_of("create")
        if c.ok and member in [m["id"] for m in c.body["members"]]
    }
    return [
        c.body["text"] for c in connector.calls_of("send") if c.ok and c.conversation_id in chats
    ]


async def test_a_channel_post_waits_out_503s_and_is_posted_once(
    outbox: Outbox, connector: FakeConnector
) -> None:
    connector.fail_next(3, 503, kinds=["send"])
    seen, hook = collecting_hook()
    job_id = await outbox.enqueue(channel_job(connector))
    async with running(worker(outbox, teams_sender(), gate=BoardGate([]), on_outcome=hook)):
        (status,) = await settled(outbox, [job_id])
        await idle(outbox)  # the worker is done with the post's entry, a second post included
    assert (status.state, status.attempts) == ("delivered", 4)
    assert [c.status for c in connector.calls_of("send")] == [503, 503, 503, 201]
    assert connector.calls_of("create") == []  # straight into the channel, no chat opened
    assert connector.texts(CHANNEL) == ["The board's summary"]
    assert status.conversation_id == CHANNEL and status.activity_id
    # Posted: the record keeps what became of it, not what it said.
    kept = await outbox.redis.hgetall(outbox.keys.job(job_id))
    assert kept["state"] == "delivered" and "message" not in kept
    assert [s.state for s in seen] == ["retrying"] * 3 + ["delivered"]


async def test_a_channel_the_bot_has_left_is_reported_not_retried(
    outbox: Outbox, connector: FakeConnector
) -> None:
    roster = error_body("BotNotInConversationRoster", "The bot is not part of the roster.")
    connector.fail_next(1, 403, body=roster, kinds=["send"])
    job_id = await outbox.enqueue(channel_job(connector))
    async with running(worker(outbox, teams_sender(), gate=BoardGate([]))):
        (status,) = await settled(outbox, [job_id])
    assert (status.state, status.attempts) == ("unreachable", 1)
    assert "BotNotInConversationRoster" in (status.error or "")


async def test_a_detached_board_posts_nothing_to_its_channel(
    outbox: Outbox, connector: FakeConnector
) -> None:
    gate = BoardGate([])
    gate.channel_open = False
    job_id = await outbox.enqueue(channel_job(connector))
    async with running(worker(outbox, teams_sender(), gate=gate)):
        (status,) = await settled(outbox, [job_id])
    assert (status.state, status.reason) == ("dropped", "Not posted: the bot left the team.")
    assert connector.calls == []


async def test_several_messages_go_in_order_and_a_retry_posts_only_the_rest(
    outbox: Outbox, connector: FakeConnector
) -> None:
    job = replace(
        make_job(1, service_url=connector.url),
        message=text("1. the summary"),
        more=(text("2. the plan"), text("3. the papers")),
    )
    # The first message goes; the second is refused twice (503), then taken.
    sender = Flaky(teams_sender(), refuse={2, 3})
    job_id = await outbox.enqueue(job)
    async with running(worker(outbox, sender)):
        (status,) = await settled(outbox, [job_id])
    assert (status.state, status.attempts) == ("delivered", 3)
    assert texts_to(connector, job.recipient.id) == [
        "1. the summary",
        "2. the plan",
        "3. the papers",
    ]
    assert sender.asked == ["1. the summary", *["2. the plan"] * 3, "3. the papers"]
    assert len(connector.calls_of("create")) == 1  # the chat opened once, for the first


async def test_a_role_goes_to_whoever_holds_it_when_it_is_sent(
    outbox: Outbox, connector: FakeConnector
) -> None:
    gate = BoardGate(["29:chair"])
    role = replace(
        make_job(0, round_id="round-1.chair", service_url=connector.url),
        recipient=Recipient(""),
        audience="chair",
        message=text("Attributed"),
    )
    # Queued while one person was chair; by the time it is sent, the chair has gone and the
    # two clerks stand in.
    gate.holders = ["29:clerk-1", "29:clerk-2"]
    job_id = await outbox.enqueue(role)
    async with running(worker(outbox, teams_sender(), gate=gate)):
        await settled(outbox, [job_id])
        jobs = await until_batch(outbox, "round-1.chair", 3)
    states = {s.recipient.id or "role": s.state for s in jobs}
    assert states == {"role": "forwarded", "29:clerk-1": "delivered", "29:clerk-2": "delivered"}
    assert texts_to(connector, "29:chair") == []
    assert texts_to(connector, "29:clerk-1") == ["Attributed"]
    assert texts_to(connector, "29:clerk-2") == ["Attributed"]


async def test_a_holder_who_lost_the_role_before_their_copy_went_gets_nothing(
    outbox: Outbox, connector: FakeConnector
) -> None:
    gate = BoardGate(["29:chair"])
    role = replace(
        make_job(0, round_id="round-1.chair", service_url=connector.url),
        recipient=Recipient(""),
        audience="chair",
        message=text("Attributed"),
    )
    connector.throttle(1, retry_after=0.5, kinds=["create"])  # the chair's copy waits a moment
    job_id = await outbox.enqueue(role)
    async with running(worker(outbox, teams_sender(), gate=gate)):
        await until_batch(outbox, "round-1.chair", 2, final=False)
        gate.holders = ["29:clerk-1"]  # meanwhile the chair is removed; a clerk stands in
        await settled(outbox, [job_id])
        jobs = await until_batch(outbox, "round-1.chair", 3)
    states = {s.recipient.id or "role": (s.state, s.reason) for s in jobs}
    assert states["29:chair"] == ("dropped", "Not sent: no longer the chair.")
    assert states["29:clerk-1"] == ("delivered", None)
    assert texts_to(connector, "29:chair") == []
    assert texts_to(connector, "29:clerk-1") == ["Attributed"]


async def test_a_failed_job_can_be_queued_again_and_is_sent_once(
    outbox: Outbox, connector: FakeConnector
) -> None:
    connector.fail_next(4, 503, kinds=["send"])  # the worker's four attempts all meet a 503
    job_id = await outbox.enqueue(channel_job(connector))
    async with running(worker(outbox, teams_sender(), gate=BoardGate([]))):
        (failed,) = await settled(outbox, [job_id])
        assert failed.state == "failed"
        assert await outbox.requeue(job_id)
        assert not await outbox.requeue(job_id)  # queued now, not failed: left alone
        (status,) = await until(outbox, [job_id], lambda s: s.state == "delivered")
    assert status.attempts == 1
    assert connector.texts(CHANNEL) == ["The board's summary"]


async def until_batch(outbox: Outbox, batch: str, count: int, *, final: bool = True) -> list[Any]:
    """The batch's jobs, once there are `count` of them (all settled, if `final`)."""
    for _ in range(300):
        jobs = await outbox.round_status("tenant-a", "board-1", batch)
        if len(jobs) >= count and (not final or all(s.final for s in jobs)):
            return jobs
        await asyncio.sleep(0.02)
    raise AssertionError(
        f"batch {batch}: {await outbox.round_status('tenant-a', 'board-1', batch)}"
    )
