"""A board first met by an @mention, which carries no team name: the bot asks Teams for it."""

from __future__ import annotations

from dataclasses import replace

from redis.asyncio import Redis

from tests.boards.scripted import BOARD_TEAM, CLERK, team_id, words
from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat, channel
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector

UNNAMED = replace(channel(BOARD_TEAM), team_name=None)  # as in most channel messages


def clerk_in_unnamed_channel(bot: BotHttp, connector: FakeConnector) -> TeamsClient:
    chat = Chat(service_url=connector.url, user=CLERK, conversation=UNNAMED)
    return TeamsClient(bot, connector, chat)


async def board_name(redis: Redis) -> str | None:
    (key,) = [k async for k in redis.scan_iter("*:board")]
    return await redis.hget(key, "name")


async def test_an_at_mention_first_reads_the_teams_name_from_teams(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    connector.team_names[team_id()] = "Oak Learning Trust board"
    clerk = clerk_in_unnamed_channel(board_bot, connector)

    assert await clerk.say("board") == 200

    assert "Oak Learning Trust board" in words(clerk.card)
    assert "This board" not in words(clerk.card)
    assert await board_name(redis_client) == "Oak Learning Trust board"
    asked = connector.calls_of("team")
    assert [c.conversation_id for c in asked] == [team_id()]

    await clerk.say("board")  # known now: Teams is not asked again
    assert len(connector.calls_of("team")) == 1


async def test_when_teams_cannot_say_the_board_is_still_answered(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    clerk = clerk_in_unnamed_channel(board_bot, connector)  # the fake knows no team: 404

    assert await clerk.say("board") == 200

    assert "Set up this board" in str(clerk.card) and "This board" in words(clerk.card)
    assert await board_name(redis_client) is None
    assert [c.status for c in connector.calls_of("team")] == [404]
