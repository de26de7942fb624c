"""Malformed and hostile requests to a running bot: a clear status and message, never a 500 or a
stack trace, nothing sent to Teams and nothing changed in Redis."""

from __future__ import annotations

import json
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.http.teams_client import TeamsClient
from tests.support.bot_app import BotApp
from tests.support.fake_connector import FakeConnector
from tests.support.redis_state import everything


@pytest.fixture
async def started(alex: TeamsClient, redis_client: Redis) -> dict[str, Any]:
    """Alex has rated element 1 and looks at element 2; returns what Redis holds then."""
    await alex.say("start governance")
    await alex.click("rate", "Amber Green", evidence="Strategy refreshed in 2025.")
    assert "Element 2 of 16" in alex.words()
    return await everything(redis_client)


async def assert_refused(bot: BotApp, status: int, body: Any, expected: int, says: str) -> None:
    assert status == expected, body
    assert isinstance(body, dict) and says in body["error"], body
    assert "Traceback" not in json.dumps(body)


BAD_BODIES = [
    pytest.param(b"{not json", "not valid JSON", id="broken-json"),
    pytest.param(b"", "not valid JSON", id="empty"),
    pytest.param(b"[]", "must be a JSON object", id="array"),
    pytest.param(b"null", "must be a JSON object", id="null"),
    pytest.param(b"42", "must be a JSON object", id="number"),
    pytest.param(b'{"text": "start"}', "no 'type'", id="no-type"),
    pytest.param(b'{"type": 7}', "no 'type'", id="type-not-text"),
]


@pytest.mark.parametrize(("body", "says"), BAD_BODIES)
async def test_malformed_bodies_get_400(
    bot: BotApp, connector: FakeConnector, body: bytes, says: str
) -> None:
    status, answer = await bot.post_raw(body)
    await assert_refused(bot, status, answer, 400, says)
    assert connector.calls == []


def _without(activity: dict[str, Any], path: str) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = activity
    for part in parents:
        node = node[part]
    del node[last]
    return activity


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("serviceUrl", "no valid 'serviceUrl'"),
        ("conversation", "no 'conversation.id'"),
        ("conversation.id", "no 'conversation.id'"),
        ("from", "no 'from.id'"),
        ("recipient.id", "no 'recipient.id'"),
    ],
)
async def test_activities_missing_fields_get_400_and_change_nothing(
    alex: TeamsClient,
    started: dict[str, Any],
    redis_client: Redis,
    path: str,
    says: str,
) -> None:
    before = len(alex.connector.calls)
    activity = _without(alex.chat.message("R"), path)
    status, answer = await alex.bot.post(activity)
    await assert_refused(alex.bot, status, answer, 400, says)
    assert len(alex.connector.calls) == before
    assert await everything(redis_client) == started


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"serviceUrl": "file:///etc/passwd"}, "no valid 'serviceUrl'"),
        ({"text": {"nested": "R"}}, "'text' must be a string"),
        ({"replyToId": 12}, "'replyToId' must be a string"),
        ({"locale": ["en-GB"]}, "'locale' must be a string"),
        ({"channelId": 7}, "'channelId' must be a string"),
    ],
)
async def test_fields_of_the_wrong_kind_get_400_and_change_nothing(
    alex: TeamsClient,
    started: dict[str, Any],
    redis_client: Redis,
    change: dict[str, Any],
    says: str,
) -> None:
    status, answer = await alex.bot.post({**alex.chat.message("R"), **change})
    await assert_refused(alex.bot, status, answer, 400, says)
    assert await everything(redis_client) == started


@pytest.mark.parametrize(
    ("part", "change", "says"),
    [
        ("from", {"name": {"first": "Alex"}}, "'from.name' must be a string"),
        ("recipient", {"aadObjectId": 5}, "'recipient.aadObjectId' must be a string"),
        ("conversation", {"isGroup": "maybe"}, "'conversation.isGroup' must be true or false"),
        ("conversation", {"conversationType": 1}, "'conversation.conversationType' must be"),
    ],
)
async def test_accounts_of_the_wrong_kind_get_400_and_change_nothing(
    alex: TeamsClient,
    started: dict[str, Any],
    redis_client: Redis,
    part: str,
    change: dict[str, Any],
    says: str,
) -> None:
    activity = alex.chat.message("R")
    activity[part] = {**activity[part], **change}
    status, answer = await alex.bot.post(activity)
    await assert_refused(alex.bot, status, answer, 400, says)
    assert await everything(redis_client) == started


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_json_gets_415(
    alex: TeamsClient, started: dict[str, Any], redis_client: Redis, content_type: str | None
) -> None:
    data = json.dumps(alex.chat.message("R")).encode()
    status, answer = await alex.bot.post_raw(data, content_type=content_type)
    await assert_refused(alex.bot, status, answer, 415, "application/json")
    assert await everything(redis_client) == started


async def test_an_oversized_request_gets_413(
    alex: TeamsClient, started: dict[str, Any], redis_client: Redis
) -> None:
    activity = alex.chat.message("R " + "x" * 300_000)
    status, answer = await alex.bot.post_raw(json.dumps(activity).encode())
    await assert_refused(alex.bot, status, answer, 413, "larger than 256 KB")
    assert await everything(redis_client) == started


async def test_an_unknown_activity_type_is_accepted_and_ignored(
    alex: TeamsClient, started: dict[str, Any], redis_client: Redis
) -> None:
    before = len(alex.connector.calls)
    for kind in ("typing", "messageReaction", "somethingNew"):
        activity = {**alex.chat.message("R"), "type": kind}
        status, _ = await alex.bot.post(activity)
        assert status == 200, kind
    assert len(alex.connector.calls) == before
    assert await everything(redis_client) == started


async def test_an_unknown_invoke_gets_501_and_changes_nothing(
    alex: TeamsClient, started: dict[str, Any], redis_client: Redis
) -> None:
    activity = alex.chat.execute("rate", {"verb": "rate", "rating": "R"}, alex.card_id or "")
    activity["name"] = "composeExtension/query"
    status, _ = await alex.bot.post(activity)
    assert status == 501
    assert await everything(redis_client) == started


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"rating": "Purple"}, "nothing was changed"),
        ({"n": 99}, "there is no element 99. nothing was changed"),
        ({"n": "2; DROP"}, "nothing was changed"),
        ({"a": "ffffffffffff"}, "can't find the self-assessment"),
        ({"a": "../../other"}, "nothing was changed"),
        ({"verb": "format-disk"}, "isn't one i recognise"),
    ],
)
@pytest.mark.parametrize("via", ["execute", "submit"])
async def test_a_tampered_button_is_refused_with_a_reason(
    alex: TeamsClient,
    started: dict[str, Any],
    redis_client: Redis,
    change: dict[str, Any],
    says: str,
    via: str,
) -> None:
    data = {**alex.button("rate", "Green")["data"], **change}
    card_id = alex.card_id or ""
    if via == "execute":
        await alex.post(alex.chat.execute(str(data["verb"]), data, card_id))
    else:
        await alex.post(alex.chat.submit(data, card_id))
    assert says in " ".join([*alex.texts, alex.words()]).lower()
    assert await everything(redis_client) == started


async def test_unknown_words_get_a_hint_and_change_nothing(
    alex: TeamsClient, started: dict[str, Any], redis_client: Redis
) -> None:
    for text in ("purple", "rate it a 7", "B some evidence"):
        await alex.say(text)
        assert "Type help to see everything I understand" in alex.texts[0], text
    assert await everything(redis_client) == started


async def test_messages_only_accepts_post_and_health_answers(bot: BotApp) -> None:
    status, _ = await bot.get("/api/messages")
    assert status == 405
    status, body = await bot.get("/healthz")
    assert (status, body["status"], body["store"], body["store_state"]) == (
        200,
        "ok",
        "redis",
        "ok",
    )


async def test_a_message_with_no_text_and_no_card_data_is_told_what_is_read(
    alex: TeamsClient, started: dict[str, Any], redis_client: Redis
) -> None:
    """A picture or a file alone arrives as a message without text: the trustee is told what
    the bot can read, and nothing changes."""
    assert await alex.say("") == 200
    assert any("I can only read text and my own cards" in t for t in alex.texts), alex.texts
    assert await everything(redis_client) == started


async def test_another_kind_of_activity_that_cannot_be_read_gets_400_and_changes_nothing(
    alex: TeamsClient, started: dict[str, Any], redis_client: Redis
) -> None:
    activity = {**alex.chat.message("R"), "type": "conversationUpdate", "membersAdded": "Alex"}
    status, answer = await alex.bot.post(activity)
    await assert_refused(alex.bot, status, answer, 400, "could not be read")
    assert await everything(redis_client) == started
