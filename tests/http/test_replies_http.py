"""How a turn's replies reach the connector: addressed as botbuilder addressed them, posted by
the bot's own HTTP client (bot/connector.py), and what happens when the connector refuses."""

from __future__ import annotations

from redis.asyncio import Redis

from tests.http.teams_client import TeamsClient
from tests.support.activities import BOT, TENANT
from tests.support.fake_connector import FakeConnector, adaptive_cards


async def test_a_reply_is_posted_in_reply_to_the_message_from_the_bot_to_its_sender(
    alex: TeamsClient, connector: FakeConnector
) -> None:
    said = alex.chat.message("help")
    assert await alex.post(said) == 200

    calls = connector.calls_of("reply", "send")
    assert calls and all(c.kind == "reply" and c.activity_id == said["id"] for c in calls)
    call = next(c for c in calls if c.body.get("text"))
    assert call.method == "POST"
    assert call.conversation_id == said["conversation"]["id"]
    assert call.activity_id == said["id"]  # POST …/activities/{the message's id}
    body = call.body
    assert body["type"] == "message" and body["textFormat"] == "markdown"
    assert "start" in body["text"] and "resume" in body["text"]  # the help text
    assert body["from"] == said["recipient"] and body["from"]["id"] == BOT.id
    assert body["recipient"] == said["from"]
    assert body["conversation"] == said["conversation"]
    assert (body["replyToId"], body["serviceUrl"], body["channelId"]) == (
        said["id"],
        connector.url,
        "msteams",
    )
    assert "authorization" not in call.headers  # LOCAL_MODE: no app id, no token


async def test_a_card_reply_carries_the_card_and_its_summary(
    alex: TeamsClient, connector: FakeConnector
) -> None:
    assert await alex.say("start governance") == 200
    (call,) = connector.calls_of("reply", "send")
    (card,) = adaptive_cards(call.body)
    assert card["version"] == "1.5"
    assert call.body["summary"] == "1. Setting direction: choose a rating"
    assert call.body["conversation"]["tenantId"] == TENANT


async def test_a_refused_reply_is_a_500_and_the_answer_is_kept(
    alex: TeamsClient, connector: FakeConnector, redis_client: Redis
) -> None:
    assert await alex.say("start governance") == 200
    connector.fail_next(1, 502, kinds=["reply", "send"])

    assert await alex.say("G the strategy is refreshed every year") == 500

    (key,) = [k async for k in redis_client.scan_iter("*:sa:*")]
    assert await redis_client.hget(key, "r:1") == "G"  # saved before the reply was refused
    assert await alex.say("resume") == 200
    assert "Element 2 of 16" in alex.words()
