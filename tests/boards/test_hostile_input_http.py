"""Hostile input over HTTP: Unicode digits, forged elements, and names written as markdown.

Each click or message is real Activity JSON posted to /api/messages of the bot (served
in-process on the throwaway redis-server); what the bot says is read at the fake connector.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.boards.scripted import (
    CLERK,
    chat_client,
    clerk_desk,
    eventually,
    invitations,
    open_round_here,
    set_up,
)
from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat, user
from tests.support.bot_app import BotApp
from tests.support.fake_connector import FakeConnector
from tests.support.redis_state import everything

PHISH = "[Boardpack](https://phish.example/x)"
# A markdown link whose text is not the address it goes to: what must never reach Teams.
LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\((?!\\)")
ADA = user("Ada Brook")


@pytest.fixture
def bot(bot_app: BotApp) -> BotApp:
    return bot_app


async def state(redis: Redis) -> dict[str, Any]:
    """Everything in Redis but the delivery pacing logs, which expire by themselves."""
    return {k: v for k, v in (await everything(redis)).items() if ":{dq:t:" not in k}


@pytest.mark.parametrize("digit", ["²", "٣", "１", "⑤"])
async def test_start_with_a_unicode_digit_gets_a_clear_reply(
    bot_app: BotApp, connector: FakeConnector, redis_client: Redis, digit: str
) -> None:
    """str.isdigit() accepts "²" and int() refuses it: this was HTTP 500."""
    alex = TeamsClient(bot_app, connector, Chat(service_url=connector.url))
    await alex.say("hello")
    before = await state(redis_client)
    assert await alex.say(f"start {digit}") == 200
    assert "I don't know that framework: choose one below." in alex.words()
    assert await state(redis_client) == before  # no assessment was opened
    assert await alex.say(f"go to {digit}") == 200
    assert any("Sorry, I didn't catch that" in t for t in alex.texts), alex.texts


async def test_a_forged_element_outside_the_round_changes_nothing(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    """pause and review save the evidence typed for the card's element and move the cursor:
    a card forged to name an element the round does not ask about must do neither."""
    await set_up(bot, connector, CLERK, [ADA])
    desk = await clerk_desk(bot, connector, CLERK)
    await open_round_here(desk, elements="2,5")
    await eventually(lambda: invitations(connector, ADA), what="Ada's invitation")
    ada = chat_client(bot, connector, ADA)
    assert await ada.click("start") == 200
    assert "2. " in ada.words()  # the round's first element
    for verb in ("pause", "review", "skip", "back", "rate"):
        data = {**ada.button(verb)["data"], "n": 3}  # element 3: in the framework, not the round
        before = await state(redis_client)
        activity = ada.chat.execute(verb, data, str(ada.card_id), {"evidence": "Forged note"})
        status, body = await bot.post(activity)
        assert status == 200, (verb, status, body)
        said = str(body.get("value"))
        assert "Element 3 is not part of this round, so nothing was changed" in said, (verb, said)
        assert await state(redis_client) == before, verb


async def test_a_display_name_written_as_a_link_is_not_a_link_in_the_channel(
    bot: BotApp, connector: FakeConnector
) -> None:
    """An Action.Submit in a channel is answered in the clicker's 1:1 chat, with a line in the
    channel naming them: their display name goes into a markdown message everyone sees."""
    phisher = user(f"{PHISH} Smith")
    clerk = await set_up(bot, connector, phisher, [ADA])
    before = len(connector.calls)
    assert await clerk.click("roles.show", via="submit") == 200
    said = _channel_texts(connector, clerk.chat, before)
    assert said and "sent that to your private chat" in said[-1], said
    assert not LINK.search(said[-1]), said[-1]
    assert r"\[Boardpack\]\(https://phish.example/x\)" in said[-1]


async def test_names_in_a_refusal_are_not_markdown(bot: BotApp, connector: FakeConnector) -> None:
    """ "Only the board's clerk can do that. The clerk is …": a clerk's name, as they chose it."""
    phisher = user(f"{PHISH} Smith")
    clerk = await set_up(bot, connector, phisher, [ADA])
    ada = TeamsClient(bot, connector, Chat(service_url=connector.url, user=ADA))
    data = clerk.button("board.refresh")["data"]
    before = len(connector.calls)
    status, body = await bot.post(ada.chat.submit(data, "1", {}))
    assert status == 200, body
    said = _channel_texts(connector, ada.chat, before)
    assert said and "Only the board's clerk can do that" in said[-1], said
    assert not LINK.search(said[-1]), said[-1]
    assert r"The clerk is \[Boardpack\]\(https://phish.example/x\) Smith." in said[-1]


def _channel_texts(connector: FakeConnector, chat: Chat, since: int) -> list[str]:
    """The plain messages the bot posted in the chat's conversation since call `since`."""
    return [
        str(c.body["text"])
        for c in connector.calls[since:]
        if c.ok
        and c.kind in ("send", "reply")
        and c.conversation_id == chat.where.id
        and isinstance(c.body, dict)
        and c.body.get("text")
    ]
