"""Four chairs from four trusts, in four Microsoft Entra tenants, run a learning set and a round of
peer reviews on one bot, over HTTP (the in-process bot; tests/support/bot_app.py), with a
facilitator at CST in a fifth tenant:

    each board's round → the set created → four boards join → each shares its round → the
    elements of mutual interest → the vote → a focus round on every board → each chair asked,
    and sharing it → the comparison, with the change since last time, in every member's chat →
    peer reviews both ways, with self versus peer and the chair's plan card → a member leaving
    (its shares gone from the others' comparison) → the set closed, and deleted.

Every number on the cards is worked out by hand in the comments, and nothing a board did not
share (evidence, a trustee's rating, a name) reaches another trust.
"""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from dialogs.store.keys import Keys
from tests.boards.scripted import ChatClient, eventually, words
from tests.boards.test_board_permissions import click
from tests.sets.test_peer_review_http import card_with, review
from tests.sets.trusts import (
    ASH,
    ELM,
    OAK,
    ROUND_ELEMENTS,
    Inboxes,
    Trust,
    by_name,
    cards_to,
    create_set,
    join,
    personal,
    proactive,
    run_round,
    set_up_board,
    share_latest_round,
    texts_to,
    trust,
)
from tests.sets.trusts import FIRST_RATINGS as THREE_TRUSTS_RATINGS
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector
from tests.support.quiet import quiet

FOURTH_TENANT = "4d3c2b1a-0f9e-4d8c-a7b6-c5d4e3f2a1b0"
BIRCH = trust("Birch Multi-Academy Trust", FOURTH_TENANT, "Birch")
TRUSTS = (OAK, ELM, ASH, BIRCH)  # in the order they join: Trust A, B, C and D
FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}

FIRST = ROUND_ELEMENTS
# Each answering member's ratings (the chair, then three trustees) of 1, 5, 15 and 16: Oak's,
# Elm's and Ash's as in the three-trust test (tests/sets/trusts.py), and Birch's. Board ratings,
# the median (the weaker middle one of four): Oak R, AR, G, AR; Elm G, R, AG, AR; Ash AR, AG, R,
# G; Birch AG, AR, AR, R.
FIRST_RATINGS = {
    **THREE_TRUSTS_RATINGS,
    BIRCH: [
        ("AG", "R", "AR", "R"),
        ("AG", "AR", "AR", "R"),
        ("G", "AR", "AG", "AR"),
        ("G", "AG", "AG", "AR"),
    ],
}
# The focus rounds, on 1, 5 and 16. Oak AR, AG, AR (5: AG, AG, R, G: views differ, so it is a
# priority); Elm G, AR, AR; Ash AG, AG, AG; Birch AR, AR, R.
FOCUS_RATINGS = {
    OAK: [("AR", "AG", "AG"), ("AR", "AG", "AR"), ("AG", "R", "AR"), ("AG", "G", "AG")],
    ELM: [("G", "AR", "AR"), ("G", "AR", "AG"), ("AG", "AR", "AR"), ("G", "AG", "AR")],
    ASH: [("AG", "AG", "G"), ("AG", "G", "G"), ("AR", "AG", "AG"), ("AG", "G", "AG")],
    BIRCH: [("R", "R", "R"), ("AG", "AR", "R"), ("AR", "AR", "AR"), ("AG", "AG", "AR")],
}
SHARE_ASKED = "Share its ratings"


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with(FAST)


async def set_text(client: ChatClient) -> str:
    """The set's card, fresh, from the list of the person's sets."""
    assert await client.say("sets") == 200
    assert await client.click("set.show") == 200
    return client.words()


def interest_lines(text: str) -> list[str]:
    part = text.split("Elements of mutual interest", 1)[1].split("From what", 1)[0]
    return [line for line in part.splitlines() if "Red or Amber Red for" in line]


def ratings_of(text: str, heading: str) -> list[str]:
    """Each member's line under one element of the comparison."""
    lines = text.split(heading, 1)[1].splitlines()[1:]
    found = []
    for line in lines:
        if not line.startswith("Trust "):
            break
        found.append(line)
    return found


async def focus_round(bot: BotApp, connector: FakeConnector, t: Trust) -> None:
    """The board's clerk opens a round on the set's focus from the set's card, in one step; it
    runs and closes; the chair is asked in their chat whether to share it, and shares it."""
    clerk = personal(bot, connector, t.clerk, t.tenant)
    await set_text(clerk)
    assert await clerk.click("set.round") == 200
    inboxes = Inboxes()
    inboxes.mark(connector, t.chair)
    await run_round(bot, connector, t, by_name(t, FOCUS_RATINGS[t]), (1, 5, 16), clerk=clerk)
    asked = await eventually(
        lambda: [c for c in inboxes.since(connector, t.chair) if SHARE_ASKED in words(c)],
        what=f"{t.name}'s chair asked to share",
    )
    assert len(asked) == 1
    chair = proactive(bot, connector, t.chair, t.tenant)
    chair.card_id, chair.card = next(
        (i, c) for i, c in cards_to(connector, t.chair) if SHARE_ASKED in words(c)
    )
    assert await chair.click("set.share") == 200
    assert "Shared with the set" in chair.words(), chair.words()


async def test_four_trusts_in_four_tenants_run_a_learning_set_and_peer_reviews(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    for t in TRUSTS:
        await set_up_board(bot, connector, t)
        await run_round(bot, connector, t, by_name(t, FIRST_RATINGS[t]), FIRST)

    # The set: created by the facilitator; each board joins, by its chair (Elm by its clerk).
    fay, set_id, code = await create_set(bot, connector)
    for t in TRUSTS:
        said = await join(bot, connector, ELM.clerk if t is ELM else t.chair, t.tenant, code)
        assert f"{t.name} joined North West chairs" in said, said
    assert "Member boards (4 of 8)" in await set_text(fay)

    # Each chair shares the board's round; the elements of mutual interest, by count only.
    chairs = {t: await share_latest_round(bot, connector, t) for t in TRUSTS}
    # 5: Oak AR, Elm R, Ash AG, Birch AR; 16: AR, AR, G, R; 1: R, G, AR, AG; 15: G, AG, R, AR.
    assert interest_lines(await set_text(chairs[BIRCH])) == [
        "5. Risk management: Red or Amber Red for 3 of 4 · views differ",
        "16. Board effectiveness: Red or Amber Red for 3 of 4 · views differ",
        "1. Setting direction: Red or Amber Red for 2 of 4 · views differ",
        "15. Self-review: Red or Amber Red for 2 of 4 · views differ",
    ]

    # The vote: once all four have voted, the focus is chosen: 16 (4 votes), 1 and 5 (3 each).
    for t, vote in zip(TRUSTS, ("1,5,16", "5,16", "1,16", "1,5,16"), strict=True):
        assert await chairs[t].click("set.vote", vote=vote) == 200
    text = chairs[BIRCH].words()
    assert "Every member board has voted, so the set's focus is chosen" in text, text
    focus = text.split("Focus elements (chosen by vote)", 1)[1]
    assert "Votes: 16 (4), 1 (3), 5 (3)" in focus
    assert "15. Self-review" not in focus.split("Votes:")[0]

    # A focus round on every board, opened from the set's card; each chair shares it.
    for t in TRUSTS:
        await focus_round(bot, connector, t)

    # The comparison, sent by the facilitator to every member board's chair and clerks.
    people = [p for t in TRUSTS for p in (t.chair, t.clerk)]
    inboxes = Inboxes()
    inboxes.mark(connector, *people)
    await set_text(fay)
    assert await fay.click("set.send") == 200
    assert "Comparison on its way to 8 chairs and clerks of the 4 member boards" in fay.words()
    await quiet(bot, redis_client)
    for who in people:
        got = [c for c in inboxes.since(connector, who) if "The set's comparison" in words(c)]
        assert len(got) == 1, who.name
    compared = words(inboxes.since(connector, ELM.chair)[0])
    assert ratings_of(compared, "1. Setting direction") == [
        "Trust A: Amber Red (R → AR)",
        "Trust B (your board): Green (no change)",
        "Trust C: Amber Green (AR → AG)",
        "Trust D: Amber Red (AG → AR)",
    ]
    assert ratings_of(compared, "5. Risk management") == [
        "Trust A: Amber Green (AR → AG)",
        "Trust B (your board): Amber Red (R → AR)",
        "Trust C: Amber Green (no change)",
        "Trust D: Amber Red (no change)",
    ]
    assert ratings_of(compared, "16. Board effectiveness") == [
        "Trust A: Amber Red (no change)",
        "Trust B (your board): Amber Red (no change)",
        "Trust C: Amber Green (G → AG)",
        "Trust D: Red (no change)",
    ]
    assert "15. Self-review" not in compared
    birch_sees = words(inboxes.since(connector, BIRCH.clerk)[0])
    assert "Trust D (your board): Red (no change)" in birch_sees

    # Peer reviews both ways: Oak's chair asks Birch's (Trust D) on 1, 5 and 16 ...
    oak = chairs[OAK]
    await set_text(oak)
    assert await oak.click("review.new") == 200
    assert await oak.click("review.ask", elements="1,5,16", reviewer="D") == 200
    await quiet(bot, redis_client)
    inboxes.mark(connector, *people)
    birch = proactive(bot, connector, BIRCH.chair, BIRCH.tenant)
    birch.card_id, birch.card = card_with(connector, BIRCH.chair, "Rate Oak Learning Trust's board")
    await review(
        birch,
        [
            ("G", "PEER-Birch: a strategy everyone can state"),
            ("R", "PEER-Birch: no register"),
            ("AR", ""),
        ],
        "Peer review: rate Oak Learning Trust's board",
    )
    # ... and Birch's asks Oak's (Trust A) on 1 and 16.
    birch_chair = personal(bot, connector, BIRCH.chair, BIRCH.tenant)
    await set_text(birch_chair)
    assert await birch_chair.click("review.new") == 200
    assert await birch_chair.click("review.ask", elements="1,16", reviewer="A") == 200
    await quiet(bot, redis_client)
    oak_reviews = proactive(bot, connector, OAK.chair, OAK.tenant)
    oak_reviews.card_id, oak_reviews.card = card_with(
        connector, OAK.chair, "Rate Birch Multi-Academy Trust's board"
    )
    await review(
        oak_reviews,
        [("AR", "PEER-Oak: direction agreed"), ("AG", "PEER-Oak: a self-review each year")],
        "Peer review: rate Birch Multi-Academy Trust's board",
    )
    await quiet(bot, redis_client)

    # Oak's own (its focus round) AR, AG, AR beside Birch's G, R, AR: 1 and 5 two steps apart.
    for who in (OAK.chair, OAK.clerk):
        (got,) = [words(c) for c in inboxes.since(connector, who) if "self versus peer" in words(c)]
        assert "⚑ marks ratings two or more steps apart: 2 elements." in got
        assert "Board: Amber Red · Peer: Green ⚑ two or more steps apart" in got
        assert "Board: Amber Green · Peer: Red ⚑ two or more steps apart" in got
        assert "Board: Amber Red · Peer: Amber Red" in got
        assert "Key issues (the peer): PEER-Birch: no register" in got
    # Birch's own AR, R beside Oak's AR, AG: 16 two steps apart.
    for who in (BIRCH.chair, BIRCH.clerk):
        (got,) = [words(c) for c in inboxes.since(connector, who) if "self versus peer" in words(c)]
        assert "⚑ marks ratings two or more steps apart: 1 element." in got
        assert "Board: Amber Red · Peer: Amber Red" in got
        assert "Board: Red · Peer: Amber Green ⚑ two or more steps apart" in got
    for t in (ELM, ASH):
        for who in (t.chair, t.clerk):
            assert not [c for c in inboxes.since(connector, who) if "self versus peer" in words(c)]
    # Oak's chair's plan card marks 5, a priority (views differed) Birch rated two steps weaker.
    oak_round = await _latest_round(redis_client, OAK)
    plan = await click(
        bot,
        connector,
        OAK.chair,
        "summary.show",
        {"b": OAK.team_id, "r": oak_round},
        tenant=OAK.tenant,
    )
    plan_card = plan.text.rsplit("Priorities for improvement", 1)[1]
    marked = plan_card.split("Risk management", 1)[1].split("Key issues", 1)[0]
    assert "⚑ A peer review rated this two or more steps weaker than the board did." in marked
    assert plan.text.count("⚑ A peer review rated this") == 1

    # Nothing a board did not share reached another trust: no evidence, no trustee, no name.
    for t in TRUSTS:
        others = [o for o in TRUSTS if o is not t]
        for person in (t.chair, t.clerk, *t.trustees):
            seen = "\n".join(
                [*(words(c) for _, c in cards_to(connector, person)), *texts_to(connector, person)]
            )
            for other in others:
                assert f"EVIDENCE-{other.chair.name.split()[0]}" not in seen, person.name
                assert all(m.name not in seen for m in (other.clerk, *other.trustees))
                peer_review = {(OAK, BIRCH), (BIRCH, OAK)}  # a reviewer sees whom they rate
                if (t, other) not in peer_review:
                    assert other.name not in seen, f"{person.name} saw {other.name}"
    # What each reviewer wrote reached only the board they reviewed.
    for t in (ELM, ASH):
        everything = "\n".join(
            words(c) for p in (t.chair, t.clerk) for _, c in cards_to(connector, p)
        )
        assert "PEER-" not in everything

    # Ash leaves: its shares and its vote are withdrawn from the others' comparison.
    ash = personal(bot, connector, ASH.chair, ASH.tenant)
    await set_text(ash)
    assert await ash.click("set.leave") == 200
    assert "Everything it shared with the set, and its vote, were withdrawn" in ash.said()
    await set_text(oak)
    assert await oak.click("set.compare") == 200
    compared = oak.words()
    assert ratings_of(compared, "16. Board effectiveness") == [
        "Trust A (your board): Amber Red (no change)",
        "Trust B: Amber Red (no change)",
        "Trust D: Red (no change)",
    ]
    assert "Trust C" not in compared
    text = await set_text(fay)
    assert "Member boards (3 of 8)" in text and "Ash Schools Trust" not in text
    shares = await redis_client.hgetall(f"tb:{{set:{set_id}}}:shares")
    assert len([k for k in shares if not k.endswith(":prev")]) == 3

    # The facilitator closes the set: it is deleted, and the members still in it are told.
    assert await fay.click("set.close") == 200
    assert "closed and its data deleted" in fay.said()
    await quiet(bot, redis_client)
    assert [k async for k in redis_client.scan_iter(match=f"*{{set:{set_id}}}*")] == []
    assert [k async for k in redis_client.scan_iter(match="*{setcode}*")] == []
    for t in (OAK, ELM, BIRCH):
        assert any("has been closed by its facilitator" in x for x in texts_to(connector, t.chair))
    assert not any("has been closed" in x for x in texts_to(connector, ASH.chair))


async def _latest_round(redis: Redis, t: Trust) -> str:
    """The board's latest round id (its focus round)."""
    key = Keys().rounds(t.tenant, t.team_id)
    ids = await redis.zrange(key, -1, -1)
    assert ids, key
    return str(ids[0])
