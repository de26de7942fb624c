"""Fixtures for the HTTP tests: the bot served in-process on the throwaway Redis (`bot`), a real
`python -m bot` process where a test must stop or kill it (`bot_process`), and a trustee's Teams
client talking to either through the fake connector."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat
from tests.support.bot_app import BotApp
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector


@pytest.fixture
def bot(bot_app: BotApp) -> BotApp:
    return bot_app


@pytest.fixture
async def bot_process(redis_client: Redis, redis_url: str) -> AsyncIterator[BotProcess]:
    process = BotProcess({"REDIS_URL": redis_url}).start()
    try:
        yield process
    finally:
        process.stop()
        process.cleanup()


@pytest.fixture
def alex(bot: BotApp, connector: FakeConnector) -> TeamsClient:
    return TeamsClient(bot, connector, Chat(service_url=connector.url))


@pytest.fixture
def alex_on_a_process(bot_process: BotProcess, connector: FakeConnector) -> Iterator[TeamsClient]:
    """Alex talking to a real bot process, for tests that stop or kill it (and start another)."""
    client = TeamsClient(bot_process, connector, Chat(service_url=connector.url))
    yield client
    if client.bot is not bot_process and isinstance(client.bot, BotProcess):
        client.bot.cleanup()  # restarted during the test: stop the process it restarted
