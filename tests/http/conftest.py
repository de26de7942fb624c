"""Fixtures for the HTTP tests: a real `python -m bot` process on the throwaway Redis, and a
trustee's Teams client talking to it through the fake connector."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector


@pytest.fixture
async def bot(redis_client: Redis, redis_url: str) -> AsyncIterator[BotProcess]:
    process = BotProcess({"REDIS_URL": redis_url}).start()
    try:
        yield process
    finally:
        process.stop()
        process.cleanup()


@pytest.fixture
def alex(bot: BotProcess, connector: FakeConnector) -> Iterator[TeamsClient]:
    client = TeamsClient(bot, connector, Chat(service_url=connector.url))
    yield client
    if client.bot is not bot:  # restarted during the test: stop the process it restarted
        client.bot.cleanup()
