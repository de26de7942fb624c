"""Property-based fuzzing of /api/messages: Teams-shaped activities with fields dropped or
replaced by any JSON value. The bot answers every one with a clear status, never a 5xx (but the
501 Bot Framework bots give an invoke they do not handle), and
every card it sends to the connector is a valid Adaptive Card within the size limit."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from tests.cards.validate import assert_valid
from tests.support.activities import Chat
from tests.support.bot_app import BotApp
from tests.support.fake_connector import FakeConnector, adaptive_cards

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=5,
)
FIELDS = [
    "type",
    "text",
    "value",
    "from",
    "conversation",
    "recipient",
    "serviceUrl",
    "name",
    "channelData",
    "replyToId",
    "entities",
    "id",
    "channelId",
    "membersAdded",
]
changes = st.lists(
    st.tuples(st.sampled_from(FIELDS), st.one_of(st.just("drop"), json_values)), max_size=3
)
kinds = st.sampled_from(["message", "submit", "execute", "added"])


@pytest.fixture
def bot(bot_app: BotApp) -> BotApp:
    """The bot served in-process on the throwaway Redis, for every example of the test."""
    return bot_app


def base_activity(chat: Chat, kind: str) -> dict[str, Any]:
    if kind == "message":
        return chat.message("start governance")
    if kind == "submit":
        return chat.submit({"verb": "rate", "a": "0123456789ab", "n": 1, "rating": "G"}, "1")
    if kind == "execute":
        return chat.execute("rate", {"verb": "rate", "n": 1, "rating": "G"}, "1")
    return chat.bot_added()


async def post_all(bot: BotApp, kind: str, edits: list[tuple[str, Any]]) -> None:
    async with FakeConnector() as connector:
        activity = copy.deepcopy(base_activity(Chat(service_url=connector.url), kind))
        for field, value in edits:
            if value == "drop":
                activity.pop(field, None)
            else:
                activity[field] = value
        status, body = await bot.post(activity)
        if status == 501:  # the Bot Framework's answer to an invoke the bot does not handle
            assert activity.get("type") == "invoke"
            assert activity.get("name") != "adaptiveCard/action"
        else:
            assert status < 500, (status, body)
        if 400 <= status < 500:
            assert isinstance(body, dict) and body.get("error"), (status, body)
        for call in connector.calls:
            for card in adaptive_cards(call.body) if isinstance(call.body, dict) else []:
                assert_valid(card)
        if isinstance(body, dict) and body.get("type") == "application/vnd.microsoft.card.adaptive":
            assert_valid(body["value"])


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(kind=kinds, edits=changes)
async def test_no_activity_gets_a_server_error(
    bot: BotApp, redis_client: Redis, kind: str, edits: list[tuple[str, Any]]
) -> None:
    await post_all(bot, kind, edits)
