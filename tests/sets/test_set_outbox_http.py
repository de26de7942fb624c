"""A learning set's messages to member boards go through the durable outbox, over HTTP.

The comparison (with its printable page's link), a peer review's invitation and the offer to
share a closed round are queued under the receiving board: a busy Teams (503, 429) delays them
rather than losing them, each person gets each once, and whether they may still have it is asked
when it goes: a board that left the set, or someone who is no longer its chair or a clerk, gets
nothing. Three trusts in three tenants and a facilitator in a fourth, on one in-process bot.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from redis.asyncio import Redis

from dialogs.sets.audience import LEFT_SET
from tests.boards.scripted import ChatClient, eventually, roster, words
from tests.sets.trusts import (
    ELM,
    OAK,
    Running,
    cards_to,
    personal,
    running_set,
    share_latest_round,
    texts_to,
)
from tests.support.activities import User, channel
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector
from tests.support.quiet import quiet
from tests.support.team_events import members_removed

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}
COMPARISON = "The set's comparison"
LINK = "the comparison, to print"
INVITATION = "Rate Oak Learning Trust's board"


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with(FAST)


def saying(*parts: str) -> Any:
    """A fake connector filter: a message whose body says all of `parts`."""
    return lambda body: all(p in json.dumps(body) for p in parts)


async def jobs_of(redis: Redis, batch: str) -> list[dict[str, str]]:
    """The delivery job of each person a set's or a review's batch was queued for."""
    found = []
    async for key in redis.scan_iter(match="*:dq:job:*"):
        job = await redis.hgetall(key)
        if batch in job.get("round", "") and json.loads(job["recipient"]).get("id"):
            found.append(job)
    return found


def to(job: dict[str, str]) -> str:
    return str(json.loads(job["recipient"])["id"])


def cards_saying(connector: FakeConnector, who: User, text: str) -> list[str]:
    return [words(c) for _, c in cards_to(connector, who) if text in words(c)]


async def focused(bot: BotApp, connector: FakeConnector) -> tuple[Running, ChatClient]:
    """Oak and Elm in the set, both shared, the focus chosen; the facilitator's set card."""
    running = await running_set(bot, connector)
    await share_latest_round(bot, connector, ELM)
    fay = running.facilitator
    assert await fay.say("sets") == 200
    assert await fay.click("set.show") == 200
    assert await fay.click("set.focus", focus="1,5,16") == 200
    return running, fay


async def test_a_busy_teams_delays_a_sets_messages_and_loses_none(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    _, fay = await focused(bot, connector)
    people = (OAK.chair, OAK.clerk, ELM.chair, ELM.clerk)
    # The worst moment: the comparison posted in a chat and its link refused, twice; and the
    # first comparison card refused too.
    links = connector.fail_next(2, 503, kinds=["send"], when=saying(LINK))
    card = connector.fail_next(1, 503, kinds=["send"], when=saying(COMPARISON))
    assert await fay.click("set.show") == 200
    assert await fay.click("set.send") == 200
    assert "Comparison on its way to 4 chairs and clerks of the 2 member boards" in fay.words()
    await quiet(bot, redis_client)
    assert (links.remaining, card.remaining) == (0, 0)  # Teams did refuse them
    for who in people:
        assert len(cards_saying(connector, who, COMPARISON)) == 1, who.name
        assert len([t for t in texts_to(connector, who) if LINK in t]) == 1, who.name

    # Sent again unchanged, it reaches nobody twice, and the facilitator is told so.
    assert await fay.click("set.show") == 200
    assert await fay.click("set.send") == 200
    assert "Comparison on its way to 0 chairs and clerks" in fay.words()
    assert "4 people had this same comparison already" in fay.words()
    await quiet(bot, redis_client)
    for who in people:
        assert len(cards_saying(connector, who, COMPARISON)) == 1, who.name

    # A peer review's invitation, throttled: it arrives once Teams takes it.
    throttled = connector.throttle(2, retry_after=0.2, kinds=["send"], when=saying(INVITATION))
    oak = personal(bot, connector, OAK.chair, OAK.tenant)
    assert await oak.say("sets") == 200
    assert await oak.click("set.show") == 200
    assert await oak.click("review.new") == 200
    assert await oak.click("review.ask", elements="1,5", reviewer="B") == 200
    assert "the invitation is on its way to their chat with me" in oak.said()
    await quiet(bot, redis_client)
    assert throttled.remaining == 0
    assert len(cards_saying(connector, ELM.chair, INVITATION)) == 1
    assert not cards_saying(connector, ELM.clerk, INVITATION)


async def test_nobody_no_longer_entitled_when_it_goes_receives_a_sets_message(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running, fay = await focused(bot, connector)

    # The invitation to Elm's chair waits on a busy Teams; meanwhile the chair leaves Elm's team.
    busy = connector.fail_next(
        50, 503, headers={"Retry-After": "1"}, kinds=["send"], when=saying(INVITATION)
    )
    oak = personal(bot, connector, OAK.chair, OAK.tenant)
    assert await oak.say("sets") == 200
    assert await oak.click("set.show") == 200
    assert await oak.click("review.new") == 200
    assert await oak.click("review.ask", elements="1,5", reviewer="B") == 200
    await eventually(lambda: _retrying(redis_client, ".ask", 1), what="the invitation held")
    connector.set_roster(roster(ELM.clerk, *ELM.trustees), conversation_id=ELM.team_id)
    removed = members_removed(
        connector.url, channel(ELM.team), ELM.clerk, [ELM.chair], tenant=ELM.tenant
    )
    status, _ = await bot.post(removed)
    assert status in (200, 201), status
    busy.remaining = 0
    await quiet(bot, redis_client)
    (job,) = await jobs_of(redis_client, ".ask")
    assert job["state"] == "dropped", job
    assert job["reason"] == "Not sent: they are no longer a member of the board."
    assert not cards_saying(connector, ELM.chair, INVITATION)

    # The comparison to Elm's clerk waits on a busy Teams; meanwhile Elm leaves the set.
    busy = connector.fail_next(
        50,
        503,
        headers={"Retry-After": "1"},
        kinds=["send"],
        when=saying(COMPARISON, "Trust B (your board)"),
    )
    assert await fay.click("set.show") == 200
    assert await fay.click("set.send") == 200
    # Elm's chair has left: Oak's chair and clerk, and Elm's clerk.
    assert "Comparison on its way to 3 chairs and clerks of the 2 member boards" in fay.words()
    await eventually(lambda: _retrying(redis_client, ".compare-", 1), what="Elm's copy held")
    elm = personal(bot, connector, ELM.clerk, ELM.tenant)
    assert await elm.say("sets") == 200
    assert await elm.click("set.show") == 200
    assert await elm.click("set.leave") == 200
    assert "withdrawn" in elm.said()
    busy.remaining = 0
    await quiet(bot, redis_client)
    jobs = {to(j): j for j in await jobs_of(redis_client, ".compare-")}
    assert jobs[ELM.clerk.id]["state"] == "dropped"
    assert jobs[ELM.clerk.id]["reason"] == LEFT_SET
    assert not cards_saying(connector, ELM.clerk, COMPARISON)
    assert len(cards_saying(connector, OAK.chair, COMPARISON)) == 1
    assert len(cards_saying(connector, OAK.clerk, COMPARISON)) == 1
    assert running.set_id


async def _retrying(redis: Redis, batch: str, how_many: int) -> bool:
    jobs = await jobs_of(redis, batch)
    return len([j for j in jobs if j.get("state") == "retrying"]) >= how_many
