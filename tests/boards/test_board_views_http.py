"""The channel's board card over HTTP: one live card, kept current as rounds open and close, and
each person seeing the buttons their role allows (Universal Actions' refresh), with the server's
checks unchanged behind them."""

from __future__ import annotations

from typing import Any

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
from tests.boards.test_board_round_http import eventually, name_roles, open_round, set_up_board
from tests.dialogs.cardkit import walk
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector, adaptive_cards


def board_posts(connector: FakeConnector) -> list[tuple[str, dict[str, Any]]]:
    return [
        (i, c) for i, c in channel_cards(connector) if "Only clerks can change roles" in words(c)
    ]


def titles(card: dict[str, Any]) -> list[str]:
    return [n["title"] for n in walk(card.get("body", [])) if n.get("type") == "Action.Execute"]


async def as_teams_shows_it(bot: BotHttp, connector: FakeConnector, who: Any, card_id: str, card):
    """The card as Teams shows `who`: refreshed for them when they are in its userIds."""
    if who.id not in card.get("refresh", {}).get("userIds", []):
        return card
    client = channel_client(bot, connector, who)
    client.card_id, client.card = card_id, card
    action = card["refresh"]["action"]
    assert (
        await client.post(client.chat.execute(action["verb"], action["data"], card_id, {})) == 200
    )
    return client.card


async def test_one_live_board_card_kept_current_with_each_roles_buttons(
    board_bot: BotHttp, connector: FakeConnector
) -> None:
    clerk = await set_up_board(board_bot, connector)
    await name_roles(clerk)
    (card_id, card), *more = board_posts(connector)
    assert more == []
    assert "No self-assessment round is open" in words(card)

    await open_round(clerk)
    await eventually(lambda: "Round open" in words(board_posts(connector)[0][1]))
    posts = board_posts(connector)
    assert [i for i, _ in posts] == [card_id]  # the same card, updated in place
    card = posts[0][1]
    assert "No self-assessment round is open" not in words(card)

    # As posted it is everyone's: no clerk's buttons. Teams refreshes it for the clerk and chair.
    assert titles(card) == ["My options"]
    ids = card["refresh"]["userIds"]
    assert set(ids) == {CLERK.id, CHAIR.id}
    seen = {
        who.name: titles(await as_teams_shows_it(board_bot, connector, who, card_id, card))
        for who in (CLERK, CHAIR, TRUSTEES[0], OBSERVER)
    }
    assert seen[CLERK.name] == ["Manage roles", "Round progress", "Refresh members", "Board data"]
    assert seen[CHAIR.name] == ["Round progress"]
    assert seen[TRUSTEES[0].name] == ["My options"] and seen[OBSERVER.name] == ["My options"]
    # Pressed by someone with no role to run the board, it shows them nothing more.
    observer = channel_client(board_bot, connector, OBSERVER)
    observer.card_id, observer.card = card_id, card
    assert await observer.click("board.show") == 200
    assert titles(observer.card) == ["My options"]

    # The chair's Round progress: the round as it stands, and none of the clerk's buttons.
    chair = channel_client(board_bot, connector, CHAIR)
    chair.card_id = card_id
    chair.card = await as_teams_shows_it(board_bot, connector, CHAIR, card_id, card)
    assert await chair.click("round.status") == 200
    assert "Responded 0" in words(chair.card)
    assert titles(chair.card) == ["Refresh"]
    # The checks behind the buttons are the server's: a forged Close from the chair is refused.
    data = {"verb": "round.close", **{k: chair.button("round.status")["data"][k] for k in "br"}}
    assert await chair.post(chair.chat.execute("round.close", data, card_id, {})) == 200
    assert "Round closed" not in words(chair.card)

    # Closed by the clerk: the live card says so, in place.
    clerk_chat = personal_client(board_bot, connector, CLERK)
    await clerk_chat.click("round.close")
    await eventually(
        lambda: "No self-assessment round is open" in words(board_posts(connector)[0][1])
    )
    assert [i for i, _ in board_posts(connector)] == [card_id]
    assert inbox(connector, OBSERVER) is None or not inbox(connector, OBSERVER).cards


async def test_asking_for_the_board_in_the_channel_moves_the_live_card(
    board_bot: BotHttp, connector: FakeConnector
) -> None:
    clerk = await set_up_board(board_bot, connector)
    (first_id, _), *_ = board_posts(connector)
    assert await clerk.say("board") == 200
    posts = board_posts(connector)
    assert [i for i, _ in posts] != [first_id] and len(posts) == 1  # the first one retired
    (live_id, _) = posts[0]
    retired = connector.activity(first_id) or {}
    assert "This card has moved on" in words(adaptive_cards(retired)[0])
    # The clerk's buttons come as Teams refreshes the new card for them.
    clerk.card_id, clerk.card = posts[0]
    clerk.card = await as_teams_shows_it(board_bot, connector, CLERK, live_id, posts[0][1])
    await name_roles(clerk)
    await open_round(clerk)
    await eventually(lambda: "Round open" in words(adaptive_cards(connector.activity(live_id))[0]))
