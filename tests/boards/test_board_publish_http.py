"""The chair's priorities over HTTP: an empty plan is confirmed before it is published, the
channel has one post of the agreed priorities (brought up to date when published again), and
the chair's and clerk's cards carry the round for the minutes."""

from __future__ import annotations

import asyncio

from tests.boards.scripted import (
    CHAIR,
    CLERK,
    TRUSTEES,
    channel_cards,
    inbox,
    personal_client,
    words,
)
from tests.boards.test_board_round_http import (
    RATINGS,
    answer,
    eventually,
    name_roles,
    open_round,
    set_up_board,
)
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector

AGREED = "agreed by the chair"


def agreed_posts(connector: FakeConnector) -> list[tuple[str, dict]]:
    return [(i, c) for i, c in channel_cards(connector) if AGREED in words(c)]


async def closed_round_with_chair(board_bot: BotHttp, connector: FakeConnector):
    clerk = await set_up_board(board_bot, connector)
    await name_roles(clerk)
    await open_round(clerk)
    invited = [CHAIR, *TRUSTEES]
    for member in invited:
        await eventually(lambda m=member: (b := inbox(connector, m)) and b.cards)
    clients = {m.name: personal_client(board_bot, connector, m) for m in invited}
    await asyncio.gather(
        *(answer(clients[name], ratings, len(ratings) == 4) for name, ratings in RATINGS.items())
    )
    clerk_chat = personal_client(board_bot, connector, CLERK)
    await clerk_chat.click("round.status")
    await clerk_chat.click("round.close")
    await eventually(lambda: (b := inbox(connector, CHAIR)) and len(b.cards) >= 3 and b)
    chair = personal_client(board_bot, connector, CHAIR)
    return clerk_chat, chair


async def test_publishing_an_empty_plan_asks_first_and_publishing_again_updates_the_post(
    board_bot: BotHttp, connector: FakeConnector
) -> None:
    _, chair = await closed_round_with_chair(board_bot, connector)
    assert "Save draft" in str(chair.card)
    keys = [k for k in ("actions.1", "progress.1", "actions.4", "progress.4")]
    half = {"actions.1": "Review the strategy's measures.", "progress.1": "KPIs mapped by June."}

    # Two priorities, one planned: Publish asks first, and nothing reaches the channel.
    assert await chair.click("plan.publish", **half) == 200
    text = chair.words()
    assert "1 priority has no plan yet (4. Collaborative working and civic responsibility)" in text
    assert "Nothing was published or saved yet." in text
    publish = chair.button("plan.publish")
    assert publish["title"] == "Publish with 1 priority not yet agreed"
    assert publish["data"]["e"] == 1
    assert agreed_posts(connector) == []

    # Confirmed: published, the empty one showing "Not yet agreed".
    assert await chair.click("plan.publish", **half) == 200
    posts = await eventually(lambda: agreed_posts(connector))
    assert len(posts) == 1
    first_id, first = posts[0]
    assert "Review the strategy's measures." in words(first)
    assert "Not yet agreed" in words(first)

    # Filled in and published again: the same post, brought up to date; no second one.
    full = {
        **half,
        "actions.4": "Meet the two neighbouring trusts.",
        "progress.4": "A shared plan by July.",
    }
    assert set(full) == set(keys)
    assert await chair.click("plan.publish", **full) == 200
    assert "Publish with" not in str(chair.card)
    assert "Published again: the priorities already in the board's channel" in chair.words()
    await eventually(
        lambda: any(
            "Meet the two neighbouring trusts." in words(c) for _, c in agreed_posts(connector)
        )
    )
    posts = agreed_posts(connector)
    assert [i for i, _ in posts] == [first_id]
    assert "Not yet agreed" not in words(posts[0][1])
    assert any(u["id"] == first_id for u in connector.updates())


async def test_the_chair_and_clerk_get_the_round_for_the_minutes(
    board_bot: BotHttp, connector: FakeConnector
) -> None:
    clerk, _ = await closed_round_with_chair(board_bot, connector)
    box = inbox(connector, CHAIR)
    assert box is not None
    summary = next(c for _, c in box.cards if "Board heat map" in words(c))
    for card in (summary, clerk.card):
        text = words(card)
        assert "For the minutes" in text, text[-500:]
        assert "Five of the six trustees invited completed it (83%); one more was" in text
        assert "The draft priorities for improvement are" in text
    # Not in the channel's copy: it is for the chair and clerks to use.
    channel_summary = next(c for _, c in channel_cards(connector) if "Board heat map" in words(c))
    assert "For the minutes" not in words(channel_summary)
