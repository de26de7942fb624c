"""Action.Submit in the board's channel (older clients, or CARD_ACTIONS=submit), over HTTP.

Teams shows an Action.Execute's card to the person who clicked only; updating the message, as
an Action.Submit is answered, would show it to everyone. So the clicker's card goes to their 1:1
chat and the channel's card is left as it was.
"""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tests.boards.scripted import (
    CHAIR,
    CLERK,
    TRUSTEES,
    channel_cards,
    inbox,
    personal_client,
    set_up,
    words,
)
from tests.http.teams_client import TeamsClient
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector
from tests.support.redis_state import everything

SENT = "Casey: I've sent that to your private chat with me, so only you see it."


@pytest.fixture
async def clerk(board_bot: BotHttp, connector: FakeConnector) -> TeamsClient:
    """The clerk in the board's channel, the board's card on screen."""
    return await set_up(board_bot, connector, CLERK, [CHAIR, *TRUSTEES], chair=CHAIR)


async def test_a_submit_in_the_channel_opens_the_form_in_the_clerks_own_chat(
    clerk: TeamsClient, board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    in_channel = clerk.chat.conversation.id
    before = channel_cards(connector)
    updates_before = len(connector.updates(in_channel))

    assert await clerk.click("round.new", via="submit") == 200

    assert channel_cards(connector) == before  # the board's card, as everyone sees it
    assert len(connector.updates(in_channel)) == updates_before
    assert connector.texts(in_channel)[-1] == SENT
    box = inbox(connector, CLERK)
    assert box is not None and box.cards, "nothing reached the clerk's own chat"
    assert "Open a round: choose a framework" in words(box.cards[-1][1])

    # The form works from there: the clerk picks the framework in their own chat.
    own = personal_client(board_bot, connector, CLERK)
    choose = own.button("round.form")
    status = await own.post(own.chat.execute("round.form", choose["data"], str(own.card_id)))
    assert status == 200 and own.button("round.open")
    assert await redis_client.keys("*round:*") == []  # nothing opened until the clerk says so


async def test_when_no_private_chat_can_be_opened_the_channel_is_told_and_unchanged(
    clerk: TeamsClient, connector: FakeConnector, redis_client: Redis
) -> None:
    in_channel = clerk.chat.conversation.id
    before = channel_cards(connector)
    stored = await everything(redis_client)
    connector.block(kinds=["create"], member=CLERK.id)

    assert await clerk.click("round.new", via="submit") == 200

    assert channel_cards(connector) == before
    said = connector.texts(in_channel)[-1]
    assert said.startswith("Casey: I couldn't open a private chat with you")
    assert said.endswith("type board.")
    assert inbox(connector, CLERK) is None
    assert await everything(redis_client) == stored


async def test_an_execute_in_the_channel_still_answers_the_clicker_in_place(
    clerk: TeamsClient, connector: FakeConnector
) -> None:
    assert await clerk.click("round.new") == 200
    assert clerk.button("round.form")  # the invoke's card, shown to the clerk only
    assert inbox(connector, CLERK) is None
    assert not [t for t in connector.texts(clerk.chat.conversation.id) if "private chat" in t]
