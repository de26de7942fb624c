"""A round's summary when Teams fails at Close the round now: the channel answering 503 for a
while, refusing for good (403 BotNotInConversationRoster, 404 channel deleted), throttling (429
with Retry-After) in the middle of the chair's copy, and a chair removed from the board between
their copy being queued and being sent.

What must hold: the summary is posted once Teams takes it, exactly once; the chair's copy does not
wait on the channel's; the clerk is told what happened, not what was hoped ("queued", then
"posted" on the round card, or in their 1:1 chat what went wrong and what to do); and nobody who
has left the board receives anything attributed.

The bot served in-process (tests/support/bot_app.py) on the throwaway Redis, the fake connector
in front of it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.boards.scripted import (
    CHAIR,
    CLERK,
    HEAT_MAP,
    INVITED,
    ChatClient,
    TimedConnector,
    answer_round,
    chat_client,
    chats_with,
    clerk_desk,
    delivery_jobs,
    eventually,
    invitations,
    open_round_here,
    personal_cards,
    roster,
    set_up,
    summaries_in_channel,
    summary_gone_out,
    team_id,
    words,
)
from tests.http.teams_client import TeamsClient
from tests.support.activities import channel, user
from tests.support.bot_app import BotApp, StartBot
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector, adaptive_cards, error_body

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}
ADA, BEN = user("Ada Brook"), user("Ben Carr")
CHANNEL = channel("Oak Learning Trust board").id
PLAN = "plan.save"  # a button only the chair's plan card has
PAPERS = "the board paper, to print"  # the links that come with the chair's copy


@pytest.fixture
def bots(bot_app_with: StartBot) -> Callable[..., Any]:
    """Start bots in-process on the test's Redis: `await bots(1)`; all stopped at the end."""

    async def start(count: int = 1, **env: str) -> list[BotApp]:
        return [await bot_app_with({**FAST, **env}) for _ in range(count)]

    return start


@pytest.fixture
async def timed_connector() -> AsyncIterator[TimedConnector]:
    async with TimedConnector() as fake:
        yield fake
    if fake.unknown:
        pytest.fail(f"calls to unknown connector routes: {fake.unknown}", pytrace=False)


async def a_round_to_close(
    bot: BotHttp, connector: FakeConnector, **inputs: Any
) -> tuple[TeamsClient, ChatClient, str]:
    """Clerk, chair, Ada and Ben; a round opened from the clerk's 1:1 chat, everyone invited and
    the round's notice in the channel; Ada has rated element 1 Red. Returns the clerk's channel
    client (on the board card), their 1:1 chat (on the round card) and the round id."""
    board = await set_up(bot, connector, CLERK, [CHAIR, ADA, BEN], chair=CHAIR)
    desk = await clerk_desk(bot, connector, CLERK)
    round_id = await open_round_here(desk, **inputs)
    await eventually(
        lambda: all(invitations(connector, m) for m in (CHAIR, ADA, BEN)), what="invitations"
    )
    await eventually(lambda: _notice_in_channel(connector), what="the round's notice")
    await answer_round(chat_client(bot, connector, ADA), ("R",), finish=True)
    return board, desk, round_id


def _notice_in_channel(connector: FakeConnector) -> bool:
    return any("is open until" in text for text in connector.texts(CHANNEL))


def channel_posts(connector: FakeConnector) -> list[int]:
    """What Teams answered to each attempt to post the summary in the channel."""
    return [
        c.status
        for c in connector.calls_of("send", conversation_id=CHANNEL)
        if any(HEAT_MAP in words(card) for card in adaptive_cards(c.body or {}))
    ]


def plan_cards(connector: FakeConnector, member: Any) -> list[dict[str, Any]]:
    """The chair's plan cards the bot posted in 1:1 chats it opened with the member."""
    return [c for c in personal_cards(connector, member, "") if PLAN in json.dumps(c)]


def personal_texts(connector: FakeConnector, member: Any) -> list[str]:
    """Texts the bot posted in 1:1 chats it opened with the member."""
    chats = chats_with(connector, member)
    return [
        c.body["text"]
        for c in connector.calls_of("send")
        if c.ok and c.conversation_id in chats and c.body.get("text")
    ]


def clerk_card(connector: FakeConnector, desk: ChatClient) -> str:
    """The clerk's round card in their 1:1 chat, as it is now."""
    return words(connector.activity(str(desk.card_id)) or {})


# ---- 503s: the summary posted once Teams is back, the chair's copy meanwhile --------------------


async def test_a_summary_refused_with_503s_is_posted_once_when_teams_is_back(
    bots: Callable[..., Any], connector: FakeConnector, redis_client: Redis
) -> None:
    (bot,) = await bots(1)
    _, desk, round_id = await a_round_to_close(bot, connector)
    outage = connector.fail_next(100, 503, kinds=["send"], conversation=CHANNEL)

    assert await desk.click("round.close") == 200
    # What the clerk is told is what happened: queued, not posted.
    said = desk.words()
    assert "The board's summary is queued for the channel" in said, said
    assert "The summary is queued for the board's channel" in said
    assert "in the channel, and the chair has it" not in said

    # The chair's copy does not wait on the channel: it arrives while the channel refuses.
    await eventually(lambda: personal_cards(connector, CHAIR, HEAT_MAP), what="the chair's copy")
    await eventually(lambda: plan_cards(connector, CHAIR), what="the chair's plan card")
    await eventually(lambda: len(channel_posts(connector)) >= 2, what="Teams to refuse twice")
    assert summaries_in_channel(connector) == []
    assert "The summary is queued for the board's channel" in clerk_card(connector, desk)

    outage.remaining = 0  # Teams is back
    await eventually(lambda: summaries_in_channel(connector), what="the summary in the channel")
    await eventually(
        lambda: summary_gone_out(connector, redis_client, round_id), what="the summary settled"
    )
    assert len(summaries_in_channel(connector)) == 1
    refused = channel_posts(connector)[:-1]
    assert refused and set(refused) == {503} and channel_posts(connector)[-1] == 201
    assert len(personal_cards(connector, CHAIR, HEAT_MAP)) == 1
    assert len(plan_cards(connector, CHAIR)) == 1
    # The clerk's round card caught up by itself.
    shown = clerk_card(connector, desk)
    assert "Summary posted in the board's channel." in shown, shown
    assert "The chair has their copy, with the plan to agree." in shown


# ---- refused for good: the clerk told in their 1:1 chat, the summary still theirs to see ---------

REFUSALS = {
    "removed from the team": (
        403,
        error_body("BotNotInConversationRoster", "The bot is not part of the conversation roster."),
        "trustboard is no longer in the board's team",
    ),
    "channel deleted": (
        404,
        error_body("ConversationNotFound", "Conversation not found."),
        "Teams could not find the board's channel",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_a_channel_that_refuses_for_good_is_reported_to_the_clerk(
    bots: Callable[..., Any], connector: FakeConnector, redis_client: Redis, case: str
) -> None:
    status, body, reason = REFUSALS[case]
    (bot,) = await bots(1)
    _, desk, _ = await a_round_to_close(bot, connector)
    connector.fail_next(100, status, body=body, kinds=["send"], conversation=CHANNEL)

    assert await desk.click("round.close") == 200
    told = await eventually(
        lambda: [t for t in personal_texts(connector, CLERK) if "board's summary" in t],
        what="the clerk to be told",
    )
    (text,) = told
    assert "I could not post the board's summary" in text and reason in text, text
    assert "Show the summary" in text  # what to do meanwhile
    await eventually(
        lambda: "could not be posted" in clerk_card(connector, desk), what="the round card"
    )
    await eventually(lambda: plan_cards(connector, CHAIR), what="the chair's copy")
    assert channel_posts(connector) == [status]  # refused for good: not tried again
    assert summaries_in_channel(connector) == []
    shown = clerk_card(connector, desk)
    assert "The summary could not be posted in the board's channel." in shown and reason in shown

    # The summary is still the clerk's to see, privately, in their 1:1 chat.
    assert await desk.click("summary.show") == 200
    assert HEAT_MAP in desk.words()
    assert len([t for t in personal_texts(connector, CLERK) if "board's summary" in t]) == 1


# ---- the chair removed between queueing and sending -------------------------------------------


async def test_a_chair_removed_before_their_copy_goes_receives_nothing_attributed(
    bots: Callable[..., Any], connector: FakeConnector, redis_client: Redis
) -> None:
    (bot,) = await bots(1)
    board, desk, _ = await a_round_to_close(bot, connector, visibility="attributed")
    # Teams holds the chair's copy back (429, Retry-After 5 s) the first time it is tried: it
    # goes into the chat their invitation opened, which the outbox remembers.
    (chair_chat,) = chats_with(connector, CHAIR)
    connector.throttle(1, retry_after=5, kinds=["send"], conversation=chair_chat)

    assert await desk.click("round.close") == 200
    await eventually(
        lambda: [c for c in connector.calls if c.status == 429], what="the copy held back"
    )
    # Meanwhile the chair leaves the team, and the clerk brings the members up to date.
    connector.set_roster(roster(CLERK, ADA, BEN), conversation_id=team_id())
    assert await board.click("board.refresh") == 200
    assert "1 left" in board.words(), board.words()

    # When its turn comes again, the copy is for whoever is chair then: there is none, so it
    # goes to the clerk, and the former chair receives nothing.
    copies = await eventually(
        lambda: personal_cards(connector, CLERK, HEAT_MAP), timeout=20, what="the clerk's copy"
    )
    assert "Ada Brook" in words(copies[0])  # the attributed copy, names beside evidence
    await eventually(lambda: _all_settled(redis_client), what="every message settled")
    assert personal_cards(connector, CHAIR, HEAT_MAP) == []
    assert plan_cards(connector, CHAIR) == []
    assert not [t for t in personal_texts(connector, CHAIR) if PAPERS in t]
    assert len(plan_cards(connector, CLERK)) == 1
    dropped = [
        j
        for j in await delivery_jobs(redis_client, everything=True)
        if json.loads(j["recipient"])["id"] == CHAIR.id and j.get("audience") == "chair"
    ]
    assert [(j["state"], j["reason"]) for j in dropped] == [
        ("dropped", "Not sent: they are no longer a member of the board.")
    ]
    # The channel's summary names nobody, whatever the round's setting.
    (summary,) = summaries_in_channel(connector)
    assert "Ada Brook" not in summary


async def _all_settled(redis: Redis) -> bool:
    jobs = await delivery_jobs(redis, everything=True)
    return bool(jobs) and all(
        j.get("state") in ("delivered", "unreachable", "failed", "dropped", "forwarded")
        for j in jobs
    )


# ---- 429 with Retry-After at the worst moment ---------------------------------------------------


def _is_plan_card(body: Any) -> bool:
    return PLAN in json.dumps(body)


def _is_summary(body: Any) -> bool:
    return HEAT_MAP in json.dumps(body)


@pytest.mark.parametrize(
    "moment",
    ["the channel's summary", "between the chair's summary and their plan card"],
)
async def test_a_429_at_the_worst_moment_waits_retry_after_and_sends_each_once(
    bots: Callable[..., Any], timed_connector: TimedConnector, redis_client: Redis, moment: str
) -> None:
    connector = timed_connector
    (bot,) = await bots(1)
    _, desk, round_id = await a_round_to_close(bot, connector)
    if moment == "the channel's summary":
        connector.throttle(1, retry_after=2, kinds=["send"], conversation=CHANNEL, when=_is_summary)
    else:
        connector.throttle(1, retry_after=2, kinds=["send"], when=_is_plan_card)

    assert await desk.click("round.close") == 200
    await eventually(
        lambda: summary_gone_out(connector, redis_client, round_id),
        timeout=20,
        what="the summary settled",
    )
    assert len(summaries_in_channel(connector)) == 1
    assert len(personal_cards(connector, CHAIR, HEAT_MAP)) == 1
    assert len(plan_cards(connector, CHAIR)) == 1
    assert len([t for t in personal_texts(connector, CHAIR) if PAPERS in t]) == 1
    # The chair's copy arrived in order: summary, plan, papers.
    chair_chats = chats_with(connector, CHAIR)
    order = [
        "summary" if _is_summary(c.body) else "plan" if _is_plan_card(c.body) else "papers"
        for c in connector.calls_of("send")
        if c.ok and c.conversation_id in chair_chats and INVITED not in json.dumps(c.body)
    ]
    assert order == ["summary", "plan", "papers"], order
    # Nothing was tried again before Teams' Retry-After had passed.
    (throttled,) = [i for i, c in enumerate(connector.calls) if c.status == 429]
    refused = connector.calls[throttled]
    again = [
        i
        for i, c in enumerate(connector.calls)
        if i > throttled
        and c.kind == "send"
        and c.body == refused.body
        and (c.conversation_id == CHANNEL) == (refused.conversation_id == CHANNEL)
    ]
    assert again and connector.times[again[0]] - connector.times[throttled] >= 1.95
