"""Peer review over HTTP, both ways between two trusts in two tenants: Oak's chair asks Elm's
chair (a member of the same set) to review Oak's board; Elm's chair asks by an invitation code,
which Oak's chair takes up. The reviewer rates in their own chat, about the other trust; the
reviewed board's chair and clerks get self versus peer, with two steps apart flagged and the
peer's evidence as key issues; the reviewer never sees the reviewed board's own evidence."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from bot.app import DESK
from tests.boards.scripted import words
from tests.boards.test_board_permissions import click
from tests.dialogs.cardkit import walk
from tests.sets.trusts import (
    ASH,
    ELM,
    OAK,
    ChatClient,
    Inboxes,
    cards_to,
    personal,
    proactive,
    running_set,
    texts_to,
)
from tests.support.activities import User
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector
from tests.support.quiet import quiet
from tests.support.redis_state import every_key

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with(FAST)


async def review(client: ChatClient, ratings: list[tuple[str, str]], banner: str) -> None:
    """From the invitation on screen: start, rate each element with evidence, finish."""
    assert await client.click("start") == 200, client.texts
    assert banner in client.words(), client.words()[:300]
    for rating, evidence in ratings:
        nodes = [
            n
            for n in walk(client.card)
            if n.get("type") == "Action.Execute" and n["data"].get("rating") == rating
        ]
        assert nodes, client.words()[:300]
        activity = client.chat.execute(
            "rate", nodes[0]["data"], str(client.card_id), {"evidence": evidence}
        )
        assert await client.post(activity) == 200
    if "'finish'" in str(client.card):
        assert await client.click("finish") == 200
    else:
        assert await client.say("finish") == 200


def card_with(connector: FakeConnector, who: User, heading: str) -> tuple[str, dict]:
    found = [(i, c) for i, c in cards_to(connector, who) if heading in words(c)]
    assert found, f"{who.name} has no card saying {heading!r}"
    return found[-1]


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_a_peer_review_both_ways(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await running_set(bot, connector)  # Oak: R, AR, G, AR; Elm: G, R, AG, AR
    inboxes = Inboxes()
    everyone = [p for t in (OAK, ELM) for p in (t.chair, t.clerk, *t.trustees)]
    inboxes.mark(connector, *everyone)

    # Oak's chair asks, from the set's card, the chair of the other member (Trust B: Elm).
    oak = personal(bot, connector, OAK.chair, OAK.tenant)
    assert await oak.say("sets") == 200
    assert await oak.click("set.show") == 200
    assert await oak.click("review.new") == 200
    assert "The chair of Trust B" in str(oak.card)
    assert await oak.click("review.ask", elements="1,5,16", reviewer="B") == 200
    assert "I've asked the peer for the review" in oak.said()
    await quiet(bot, redis_client)  # the invitation goes through the outbox

    # Elm's chair rates Oak's board in their own chat.
    elm = proactive(bot, connector, ELM.chair, ELM.tenant)
    elm.card_id, elm.card = card_with(connector, ELM.chair, "Rate Oak Learning Trust's board")
    assert "1. Setting direction" in elm.words() and "16. Board effectiveness" in elm.words()
    await review(
        elm,
        [
            ("G", "PEER-Elm: a clear strategy, seen at the away day"),
            ("AR", ""),
            ("R", "PEER-Elm: no evaluation in five years"),
        ],
        "Peer review: rate Oak Learning Trust's board",
    )
    assert "your review is with Oak Learning Trust's chair and clerks" in elm.said()
    await bot.app[DESK].settle()
    await quiet(bot, redis_client)  # self versus peer goes through the outbox

    # Oak's chair and clerk get self versus peer; nobody else does.
    for who in (OAK.chair, OAK.clerk):
        got = [words(c) for c in inboxes.since(connector, who) if "self versus peer" in words(c)]
        assert len(got) == 1, who.name
        text = got[0]
        assert "The board's own rating is from its round of" in text
        assert "⚑ marks ratings two or more steps apart: 1 element." in text
        assert "Board: Red · Peer: Green ⚑ two or more steps apart" in text
        assert "Board: Amber Red · Peer: Amber Red" in text
        assert "Board: Amber Red · Peer: Red" in text and text.count("⚑ two or more") == 1
        assert "Key issues (the peer): PEER-Elm: a clear strategy, seen at the away day" in text
        assert "Key issues (the peer): none noted." in text
    for who in (*OAK.trustees, ELM.clerk, *ELM.trustees):
        assert not [c for c in inboxes.since(connector, who) if "self versus peer" in words(c)]
    # The reviewer never saw Oak's own evidence, nor any Oak trustee's name.
    seen = "\n".join(
        [
            *(words(c) for _, c in cards_to(connector, ELM.chair)),
            *texts_to(connector, ELM.chair),
            elm.said(),
        ]
    )
    assert "EVIDENCE-Oak" not in seen
    assert all(m.name not in seen for m in OAK.trustees)
    # The review is final once sent.
    nodes = [n for n in walk(elm.card) if n.get("type") == "Action.Execute"]
    assert not [n for n in nodes if n["data"].get("verb") == "rate"]

    # The other way: Elm's chair asks by an invitation code, from their list of sets.
    assert await elm.say("sets") == 200
    assert await elm.click("review.new", "Ask for a peer review of Elm Academies") == 200
    assert "The chair of" not in str(elm.card)  # outside a set: by code only
    assert await elm.click("review.ask", elements="1,5", reviewer="code") == 200
    code = elm.said().split("invitation code for your peer review: ", 1)[1][:9]
    oak_review = personal(bot, connector, OAK.chair, OAK.tenant)
    assert await oak_review.say(f"review {code}") == 200
    assert "Rate Elm Academies's board" in oak_review.words()
    inboxes.mark(connector, ELM.chair, ELM.clerk)
    await review(
        oak_review,
        [("AG", "PEER-Oak: sound direction"), ("AR", "PEER-Oak: risk register static")],
        "Peer review: rate Elm Academies's board",
    )
    await bot.app[DESK].settle()
    await quiet(bot, redis_client)  # self versus peer goes through the outbox
    got = [words(c) for c in inboxes.since(connector, ELM.chair) if "self versus peer" in words(c)]
    assert len(got) == 1
    assert "Board: Green · Peer: Amber Green" in got[0]
    assert "Board: Red · Peer: Amber Red" in got[0]
    assert "⚑ two or more steps apart" not in got[0]
    assert "Key issues (the peer): PEER-Oak: risk register static" in got[0]
    assert [words(c) for c in inboxes.since(connector, ELM.clerk) if "self versus peer" in words(c)]

    # The code worked once; a forged start names a review of someone else's.
    ash = personal(bot, connector, ASH.chair, ASH.tenant)  # set up, and in no set
    assert await ash.say(f"review {code}") == 200
    assert "it may have been used already), so nothing was changed" in ash.said()
    asked = await every_key(redis_client, "tb:{review:*}:review")
    for key in asked:
        rid = key.split("{review:", 1)[1].split("}", 1)[0]
        board = await redis_client.hget(key, "b_board")
        said = await click(
            bot, connector, ASH.chair, "start", {"b": board, "r": rid}, tenant=ASH.tenant
        )
        assert "asked of someone else, so nothing was changed" in said.text, said.text
    # Only a board's chair asks for a review of it.
    for who in (OAK.clerk, OAK.trustees[0]):
        said = await click(bot, connector, who, "review.new", {"b": OAK.team_id}, tenant=OAK.tenant)
        assert said.refused and "chair" in said.text
    assert len(asked) == 2 and running.set_id
