"""A learning set run end to end over HTTP: three trusts in three Entra tenants and a facilitator
in a fourth, on one bot. Create → join (a chair, a clerk) → each board's round → share → the
elements of mutual interest → vote → focus → the comparison in every member's 1:1 chat → a new
round and share, with the change → a board leaving → the set closed. Every number is checked,
and nothing a board did not share (evidence, a trustee's rating, a name) reaches another trust.
"""

from __future__ import annotations

import re

import pytest
from redis.asyncio import Redis

from dialogs.store.keys import Keys
from tests.boards.scripted import ChatClient, channel_cards, eventually, words
from tests.sets.trusts import (
    ASH,
    CST_TENANT,
    ELM,
    FACILITATOR,
    FIRST_RATINGS,
    OAK,
    ROUND_ELEMENTS,
    Inboxes,
    Trust,
    cards_to,
    form_values,
    personal,
    proactive,
    run_round,
    set_up_board,
    texts_to,
)
from tests.support.bot_app import StartBot
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector
from tests.support.quiet import quiet

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}
# Each answering member's ratings of elements 1, 5, 15 and 16 (tests/sets/trusts.py). Board
# ratings (the median, the weaker middle one of four): Oak R, AR, G, AR; Elm G, R, AG, AR; Ash
# AR, AG, R, G.
ELEMENTS, RATINGS = ROUND_ELEMENTS, FIRST_RATINGS
# Oak's second round, on 1, 5 and 16: AR, AG, AR.
OAK_AGAIN = [("AR", "AG", "AG"), ("AR", "AG", "AR"), ("AG", "AG", "AR"), ("AG", "G", "AG")]


def by_name(t: Trust, ratings: list[tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {m.name: r for m, r in zip(t.answering, ratings, strict=True)}


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotHttp:
    return await bot_app_with(FAST)


def section(text: str, heading: str) -> str:
    """The lines of a card's words from `heading` up to the next blank-ish heading."""
    assert heading in text, (heading, text)
    return text.split(heading, 1)[1]


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_three_trusts_in_three_tenants_run_a_learning_set(
    bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    for t in (OAK, ELM, ASH):
        await set_up_board(bot, connector, t)
        await run_round(bot, connector, t, by_name(t, RATINGS[t]), ELEMENTS)

    # The facilitator, at CST, chairs no board: they create the set in their own chat.
    fay = personal(bot, connector, FACILITATOR, CST_TENANT)
    assert await fay.say("new set") == 200
    assert fay.button("set.create")
    assert (
        await fay.click(
            "set.create", name="North West chairs", fw="cst-trust-governance", named="unnamed"
        )
        == 200
    )
    text = fay.words()
    assert "Set created" in text, text
    code = re.search(r"Join code: ([A-Z0-9]{4}-[A-Z0-9]{4})", text)
    assert code, text
    set_id = fay.button("set.close")["data"]["s"]

    # Oak's chair and Elm's clerk (for their board) join; Ash's chair too, typing the code.
    joiners = {OAK: OAK.chair, ELM: ELM.clerk, ASH: ASH.chair}
    for t, who in joiners.items():
        client = personal(bot, connector, who, t.tenant)
        assert await client.say(f"join set {code[1].lower()}") == 200
        said = client.said()
        assert f"{t.name} joined North West chairs" in said, said
        assert "Nothing of the board's is shared until its chair presses Share" in said
    assert "Member boards (3 of 8)" in (await _set_text(fay))
    assert [t for t in texts_to(connector, FACILITATOR) if "joined your learning set" in t] == [
        f"{t.name} joined your learning set North West chairs." for t in (OAK, ELM, ASH)
    ]

    # A clerk cannot share: only the chair. Each chair shares the board's round.
    elm_clerk = personal(bot, connector, ELM.clerk, ELM.tenant)
    assert await elm_clerk.say("sets") == 200
    assert await elm_clerk.click("set.show") == 200
    assert "Share a result" not in str(elm_clerk.card)
    chairs = {}
    for t in (OAK, ELM, ASH):
        chairs[t] = await _share_round(bot, connector, t)

    oak_view = await _set_text(chairs[OAK])
    interest = section(oak_view, "Elements of mutual interest")
    # Red or Amber Red: 1 (Oak R, Ash AR), 5 (Oak AR, Elm R), 16 (Oak AR, Elm AR); 15 (Ash R).
    lines = [line for line in interest.splitlines() if "Red or Amber Red for" in line]
    assert lines == [
        "1. Setting direction: Red or Amber Red for 2 of 3 · views differ",
        "5. Risk management: Red or Amber Red for 2 of 3 · views differ",
        "16. Board effectiveness: Red or Amber Red for 2 of 3 · views differ",
        "15. Self-review: Red or Amber Red for 1 of 3 · views differ",
    ]
    # Names are not shown in this set: members see Trust A, B, C, and their own board.
    assert "Trust A (your board): shared the board's round" in oak_view
    assert "Elm Academies" not in oak_view and "Ash Schools Trust" not in oak_view

    # The vote: once all three have voted, the four with most votes (a tie broken by the
    # ranking: 15 was rated Red by a member, 2 by none).
    votes = {OAK: "1,5,16", ELM: "5,16,2", ASH: "1,16,15"}
    for t, vote in votes.items():
        client = chairs[t]
        assert await client.click("set.vote", vote=vote) == 200
        assert "Your board's vote is in" in client.words()
    assert "every member board has voted" in client.words().lower()
    focus = section(client.words(), "Focus elements (chosen by vote)")
    assert "1. Setting direction" in focus and "15. Self-review" in focus
    assert "2. Culture" not in focus.split("Votes:")[0]
    assert "Votes: 16 (3), 1 (2), 5 (2), 2 (1), 15 (1)" in focus

    # The facilitator chooses instead: three elements (two is refused, nothing changed).
    await _set_text(fay)
    assert await fay.click("set.focus", focus="1,5") == 200
    assert "Choose 3 or 4 elements" in fay.words()
    assert await fay.click("set.focus", focus="1,5,16") == 200
    assert "Focus elements (chosen by the facilitator)" in fay.words()

    # The comparison, to every member board's chair and clerks, in their 1:1 chats only.
    inboxes = Inboxes()
    people = [p for t in (OAK, ELM, ASH) for p in (t.chair, t.clerk)]
    inboxes.mark(connector, *people)
    channel_before = {t: len(channel_cards(connector, t.team)) for t in (OAK, ELM, ASH)}
    assert await fay.click("set.send") == 200
    assert (
        "Comparison on its way to 6 chairs and clerks of the 3 member boards, in their chats "
        "with me." in fay.words()
    )
    await quiet(bot, redis_client)  # the outbox has sent it
    for t in (OAK, ELM, ASH):
        assert len(channel_cards(connector, t.team)) == channel_before[t]
    elm_sees = [words(c) for c in inboxes.since(connector, ELM.chair)]
    assert len(elm_sees) == 1
    compared = elm_sees[0]
    assert _ratings_of(compared, "1. Setting direction") == [
        "Trust A: Red (first share)",
        "Trust B (your board): Green (first share)",
        "Trust C: Amber Red (first share)",
    ]
    assert _ratings_of(compared, "16. Board effectiveness") == [
        "Trust A: Amber Red (first share)",
        "Trust B (your board): Amber Red (first share)",
        "Trust C: Green (first share)",
    ]
    assert "15. Self-review" not in compared
    assert len(inboxes.since(connector, OAK.clerk)) == 1

    # Oak runs another round on the focus elements and shares it: the change since last time.
    # Oak's clerk opens a focus round from the set's card in one step: the form comes prefilled.
    oak_clerk = personal(bot, connector, OAK.clerk, OAK.tenant)
    assert await oak_clerk.say("sets") == 200
    assert await oak_clerk.click("set.show") == 200
    assert await oak_clerk.click("set.round") == 200
    assert form_values(oak_clerk.card)["elements"] == "1,5,16"
    inboxes.mark(connector, OAK.chair)
    await run_round(bot, connector, OAK, by_name(OAK, OAK_AGAIN), (1, 5, 16), clerk=oak_clerk)
    # At closing, the chair is asked (in their 1:1 chat) whether to share it with the set.
    asked = await eventually(
        lambda: [c for c in inboxes.since(connector, OAK.chair) if "Share its ratings" in words(c)],
        what="the chair's question",
    )
    assert "1. Setting direction: Amber Red" in words(asked[0])
    oak = proactive(bot, connector, OAK.chair, OAK.tenant)
    oak.card_id, oak.card = next(
        (i, c) for i, c in cards_to(connector, OAK.chair) if "Share its ratings" in words(c)
    )
    assert await oak.click("set.share") == 200
    assert "Shared with the set" in oak.words()
    assert await oak.click("set.compare") == 200
    compared = oak.words()
    assert (
        _ratings_of(compared, "1. Setting direction")[0]
        == "Trust A (your board): Amber Red (R → AR)"
    )
    assert (
        _ratings_of(compared, "5. Risk management")[0]
        == "Trust A (your board): Amber Green (AR → AG)"
    )
    assert (
        _ratings_of(compared, "16. Board effectiveness")[0]
        == "Trust A (your board): Amber Red (no change)"
    )

    # Nothing a board did not share reached another trust: no evidence, no trustee, no name.
    for t in (OAK, ELM, ASH):
        others = [o for o in (OAK, ELM, ASH) if o is not t]
        for person in (t.chair, t.clerk, *t.trustees):
            seen = "\n".join(
                [*(words(c) for _, c in cards_to(connector, person)), *texts_to(connector, person)]
            )
            for other in others:
                assert f"EVIDENCE-{other.chair.name.split()[0]}" not in seen
                assert all(m.name not in seen for m in (other.clerk, other.chair, *other.trustees))
                assert other.name not in seen, f"{person.name} saw {other.name}"
    fay_seen = "\n".join(words(c) for _, c in cards_to(connector, FACILITATOR)) + fay.words()
    assert "EVIDENCE-" not in fay_seen

    # Ash leaves: its share and its vote go with it.
    ash = chairs[ASH]
    assert await ash.click("set.show") == 200
    assert await ash.click("set.leave") == 200
    assert "Everything it shared with the set, and its vote, were withdrawn" in ash.said()
    text = await _set_text(fay)
    assert "Member boards (2 of 8)" in text
    assert "Ash Schools Trust" not in text
    # Now from Oak's second share (AR, AG, AR on 1, 5, 16) and Elm's (G, R, AG, AR).
    interest = section(text, "Elements of mutual interest").split("From what")[0]
    assert [line for line in interest.splitlines() if "Red or Amber Red for" in line] == [
        "16. Board effectiveness: Red or Amber Red for 2 of 2",
        "1. Setting direction: Red or Amber Red for 1 of 2 · views differ",
        "5. Risk management: Red or Amber Red for 1 of 2 · views differ",
        "15. Self-review: Red or Amber Red for 0 of 1",
    ]
    assert "Votes: 5 (2), 16 (2), 1 (1), 2 (1)" in text
    shares = await redis_client.hgetall(f"tb:{{set:{set_id}}}:shares")
    assert len([k for k in shares if not k.endswith(":prev")]) == 2

    # The facilitator closes the set: it is deleted, and the members are told.
    inboxes.mark(connector, *people)
    assert await fay.click("set.close") == 200
    assert "closed and its data deleted" in fay.said()
    await quiet(bot, redis_client)  # the members are told through the outbox
    left = [k async for k in redis_client.scan_iter(match=f"*{set_id}*")]
    # What each board was sent stays only as the board's delivery record (to whom, when; kept
    # 90 days, deleted with the board), never what the message said.
    assert [k for k in left if ":dq:round:sets-set-" not in k] == []
    for key in left:
        for job in await redis_client.zrange(key, 0, -1):
            record = await redis_client.hgetall(Keys().job(job))
            assert record and "message" not in record and "more" not in record, record
    assert [k async for k in redis_client.scan_iter(match="*{setcode}*")] == []
    for t in (OAK, ELM):
        assert any("has been closed by its facilitator" in x for x in texts_to(connector, t.chair))


async def _set_text(client: ChatClient) -> str:
    """The set's card, fresh, from the list of the person's sets."""
    assert await client.say("sets") == 200
    assert await client.click("set.show") == 200
    return client.words()


async def _share_round(bot: BotHttp, connector: FakeConnector, t: Trust) -> ChatClient:
    """The chair opens the set from their chat and shares the board's latest round."""
    chair = personal(bot, connector, t.chair, t.tenant)
    assert await chair.say("sets") == 200
    assert await chair.click("set.show") == 200
    assert await chair.click("set.offer") == 200
    offer = chair.words()
    assert "The board's round, closed" in offer, offer
    assert "EVIDENCE" not in offer
    assert await chair.click("set.share") == 200
    assert "Shared with the set" in chair.words(), chair.words()
    return chair


def _ratings_of(text: str, heading: str) -> list[str]:
    lines = text.split(heading, 1)[1].splitlines()[1:]
    return [line for line in lines if line.startswith("Trust ")][:3] if lines else []
