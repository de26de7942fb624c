"""A board lies in two slots: its own keys, and its tenant's list of boards (how a clerk's 1:1
chat finds it). The two cannot be written in one script on a Redis Cluster, so each write of the
board writes the list again: a refused write of the list is caught up by the next one."""

from __future__ import annotations

import pytest

from bot.app import STORE
from bot.turns import NEW_TEAM_NOT_SAVED
from tests.boards.scripted import CLERK, channel_client, clerk_desk
from tests.http.teams_client import TeamsClient
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector
from tests.support.refusing_redis import RefusingRedis

TEAM = "Oak board"


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with({"DELIVERY_WORKERS": "0"})


async def refuse_the_list_when_added(bot: BotApp, connector: FakeConnector) -> TeamsClient:
    """The bot is added to the team, and Redis refuses the write of the tenant's list; the
    clerk's client in the channel."""
    refusing = RefusingRedis(bot.app[STORE].redis)
    clerk = channel_client(bot, connector, CLERK, TEAM)
    refusing.arm(None)
    assert await clerk.post(clerk.chat.bot_added()) == 200
    writes = refusing.disarm()
    await bot.app[STORE].redis.flushall()
    for n in range(1, writes + 1):
        refusing.arm(n)
        assert await clerk.post(clerk.chat.bot_added()) == 200
        refusing.disarm()
        if refusing.refused and refusing.refused[0] == "SADD":
            assert clerk.texts == [NEW_TEAM_NOT_SAVED]
            refusing.restore()
            return clerk
        await bot.app[STORE].redis.flushall()
    raise AssertionError("adding the bot wrote no list of boards")


async def test_a_refused_write_of_the_boards_list_is_caught_up_and_the_clerk_finds_the_board(
    bot: BotApp, connector: FakeConnector
) -> None:
    clerk = await refuse_the_list_when_added(bot, connector)

    # As the bot said: mention it with "board" in the channel; set the board up; then run it
    # from the 1:1 chat.
    assert await clerk.say("board") == 200
    assert await clerk.click("board.setup") == 200
    assert "you are its clerk" in clerk.words(), clerk.words()
    await clerk_desk(bot, connector, CLERK)  # its board card, with Open a round
