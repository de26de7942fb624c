"""Redis going away mid-walkthrough: the trustee is told their answer was not saved, /healthz says
the store is down, nothing saved before is lost, and the bot carries on by itself once Redis is
back (a server with the append-only file, as deployed). Redis is stopped and restarted; the bot
keeps running, served in-process."""

from __future__ import annotations

import asyncio
from pathlib import Path

from redis.asyncio import Redis

from bot.turns import NEW_CHAT_NOT_SAVED, NEW_TEAM_NOT_SAVED
from dialogs.engine import NOT_SAVED
from tests.http.teams_client import TeamsClient
from tests.support.activities import SAM, Chat, channel
from tests.support.bot_app import BotApp
from tests.support.fake_connector import FakeConnector
from tests.support.redis_server import RedisServer


async def saved_ratings(url: str) -> dict[str, str]:
    client = Redis.from_url(url, decode_responses=True)
    try:
        [key] = await client.keys("*:sa:*")
        saved = await client.hgetall(key)
    finally:
        await client.aclose()
    return {k: v for k, v in saved.items() if k.startswith("r:")}


async def until_healthy(bot: BotApp, timeout: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (await bot.get("/healthz"))[0] != 200:
        assert asyncio.get_running_loop().time() < deadline, "the bot did not recover"
        await asyncio.sleep(0.2)


async def test_an_outage_refuses_answers_clearly_and_the_bot_recovers(
    connector: FakeConnector, tmp_path: Path
) -> None:
    with RedisServer(tmp_path, appendonly=True) as redis:
        async with BotApp({"REDIS_URL": redis.url}) as bot:
            alex = TeamsClient(bot, connector, Chat(service_url=connector.url))
            await alex.say("start governance")
            await alex.click("rate", "Green", evidence="Strategy agreed in May.")
            assert "Element 2 of 16" in alex.words()

            await asyncio.to_thread(redis.stop)
            await alex.click("rate", "Red", evidence="Values not revisited.")
            assert alex.texts == [NOT_SAVED]
            assert "Element 2 of 16" in alex.words()  # the card stays, ready to try again
            await alex.say("status")
            assert alex.texts == [NOT_SAVED]
            status, health = await bot.get("/healthz")
            assert (status, health["status"], health["store"]) == (503, "unavailable", "redis")
            assert health["store_state"] == "unreachable"

            await asyncio.to_thread(redis.restart)
            await until_healthy(bot)
            assert await saved_ratings(redis.url) == {"r:1": "G"}
            await alex.click("rate", "Red", evidence="Values not revisited.")
            assert "Saved 2. Culture, values and ethos: Red." in alex.words()
            assert await saved_ratings(redis.url) == {"r:1": "G", "r:2": "R"}


async def test_a_chat_or_team_begun_while_redis_is_down_is_told_nothing_can_be_saved(
    connector: FakeConnector, tmp_path: Path
) -> None:
    with RedisServer(tmp_path) as redis:
        async with BotApp({"REDIS_URL": redis.url}) as bot:
            await asyncio.to_thread(redis.stop)
            sam = TeamsClient(bot, connector, Chat(service_url=connector.url, user=SAM))
            assert await sam.post(sam.chat.bot_added()) == 200
            assert sam.texts == [NEW_CHAT_NOT_SAVED] and sam.card is None
            await sam.say("hello")  # or the first thing they type
            assert sam.texts == [NOT_SAVED]
            await sam.say("start governance")
            assert sam.texts == [NOT_SAVED]
            board = TeamsClient(
                bot, connector, Chat(service_url=connector.url, conversation=channel())
            )
            assert await board.post(board.chat.bot_added()) == 200
            assert board.texts == [NEW_TEAM_NOT_SAVED] and board.card is None

            await asyncio.to_thread(redis.restart)
            await until_healthy(bot)
            await sam.post(sam.chat.bot_added())
            assert "governance" in sam.words().lower()  # the welcome card, as usual
            await board.say("board")
            assert "Whoever sets up the board becomes its clerk" in board.words()
            assert board.button("board.setup")  # the set-up card, as when the bot was added
