"""Who sees a trustee's evidence, for every combination of a round's settings: what the
invitation says, checked against where the evidence actually goes, over HTTP.

The settings: anonymous or attributed, and whether the clerk chose at opening to show the key
issues to the whole team. The people: a trustee (Ada), the chair, the clerk and an observer (the
chief executive, in the team but not a trustee). Their views: the channel's summary as posted
(everyone's), as Teams refreshes it for those listed in its `refresh.userIds`, the card an
observer gets from its Show the key issues button, and the chair's private copy."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.boards.scripted import (
    CHAIR,
    CLERK,
    OBSERVER,
    TRUSTEES,
    channel_cards,
    channel_client,
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

ADA = TRUSTEES[0]
EVIDENCE = "Minutes show"  # every trustee's evidence starts so (test_board_round_http.answer)
NAMED = f"{ADA.name}: {EVIDENCE}"

COMBINATIONS = [
    pytest.param("anonymous", "board", id="anonymous, board members only"),
    pytest.param("attributed", "board", id="attributed, board members only"),
    pytest.param("anonymous", "team", id="anonymous, the whole team"),
    pytest.param("attributed", "team", id="attributed, the whole team"),
]
# What the invitation says, for each combination: pinned word for word.
SAYS = {
    ("anonymous", "board"): (
        "Your evidence, without your name, is quoted to the board's trustees, chair and clerks "
        "and in the board paper; others in the team (members who are not trustees) do not see "
        "it. No breakdown or evidence is shown for an element until at least 3 trustees have "
        "rated it."
    ),
    ("attributed", "board"): (
        "The chair and clerks will see your name beside your evidence. Your evidence, without "
        "your name, is quoted to the board's trustees, chair and clerks and in the board paper; "
        "others in the team (members who are not trustees) do not see it. No breakdown or "
        "evidence is shown for an element until at least 3 trustees have rated it."
    ),
    ("anonymous", "team"): (
        "Your evidence, without your name, is quoted to everyone in the board's team, members "
        "who are not trustees included, and in the board paper. No breakdown or evidence is "
        "shown for an element until at least 3 trustees have rated it."
    ),
    ("attributed", "team"): (
        "The chair and clerks will see your name beside your evidence. Your evidence, without "
        "your name, is quoted to everyone in the board's team, members who are not trustees "
        "included, and in the board paper. No breakdown or evidence is shown for an element "
        "until at least 3 trustees have rated it."
    ),
}


def claims(text: str) -> dict[str, Any]:
    """What an invitation promises, read from its words."""
    return {
        "observers see evidence": "everyone in the board's team" in text
        and "members who are not trustees included" in text,
        "trustees see evidence": "everyone in the board's team" in text
        or "the board's trustees, chair and clerks" in text,
        "chair sees names": "The chair and clerks will see your name" in text,
    }


async def refreshed(bot: BotHttp, connector: FakeConnector, who: Any, card_id: str, card: dict):
    """The card Teams shows `who` once it has asked the bot for their view of it (the card's
    refresh action, sent as Teams sends it: an adaptiveCard/action invoke)."""
    client = channel_client(bot, connector, who)
    client.card_id, client.card = card_id, card
    action = card["refresh"]["action"]
    assert (
        await client.post(client.chat.execute(action["verb"], action["data"], card_id, {})) == 200
    )
    return client.card


@pytest.mark.parametrize(("visibility", "issues"), COMBINATIONS)
async def test_the_invitation_says_who_sees_evidence_and_that_is_who_does(
    board_bot: BotHttp, connector: FakeConnector, visibility: str, issues: str
) -> None:
    clerk = await set_up_board(board_bot, connector)
    await name_roles(clerk)
    await open_round(clerk, visibility=visibility, issues=issues)
    invited = [CHAIR, *TRUSTEES]
    for member in invited:
        await eventually(lambda m=member: (b := inbox(connector, m)) and b.cards)
    box = inbox(connector, ADA)
    assert box is not None
    said = words(box.cards[0][1])
    assert SAYS[(visibility, issues)] in said
    promised = claims(said)

    clients = {m.name: personal_client(board_bot, connector, m) for m in invited}
    await asyncio.gather(*(answer(clients[n], r, len(r) == 4) for n, r in RATINGS.items()))
    clerk_chat = personal_client(board_bot, connector, CLERK)
    await clerk_chat.click("round.status")
    await clerk_chat.click("round.close")
    posted = await eventually(
        lambda: [(i, c) for i, c in channel_cards(connector) if "Board heat map" in words(c)]
    )
    card_id, channel_card = posted[-1]
    everyone = words(channel_card)

    # The observer: the card as posted, and what its button gives them.
    observer_sees = EVIDENCE in everyone
    if not observer_sees:
        observer = channel_client(board_bot, connector, OBSERVER)
        observer.card_id, observer.card = card_id, channel_card
        assert await observer.click("summary.show") == 200
        observer_sees = EVIDENCE in words(observer.card)
        assert "only its trustees, chair and clerks see them" in words(observer.card)
    assert observer_sees == promised["observers see evidence"]

    # A trustee: the card as Teams refreshes it for them, if it is refreshed at all.
    if "refresh" in channel_card:
        ids = channel_card["refresh"]["userIds"]
        assert ADA.id in ids and CHAIR.id in ids and CLERK.id in ids
        assert OBSERVER.id not in ids
        trustee_view = words(await refreshed(board_bot, connector, ADA, card_id, channel_card))
        observer_view = words(
            await refreshed(board_bot, connector, OBSERVER, card_id, channel_card)
        )
        assert EVIDENCE not in observer_view  # even asking as Teams would, nothing for them
    else:
        trustee_view = everyone
    assert (EVIDENCE in trustee_view) == promised["trustees see evidence"]
    assert ADA.name not in trustee_view and ADA.name not in everyone  # the channel names nobody

    # The chair's private copy: names only where the invitation said so.
    await eventually(lambda: (b := inbox(connector, CHAIR)) and len(b.cards) >= 3 and b)
    chair_box = inbox(connector, CHAIR)
    assert chair_box is not None
    copy = next(c for _, c in chair_box.cards if "Board heat map" in words(c))
    assert EVIDENCE in words(copy)
    assert (NAMED in words(copy)) == promised["chair sees names"]
