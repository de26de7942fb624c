"""A real bot process for the board tests, on the throwaway Redis, with quick delivery timing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.support.bot_process import BotProcess

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3", "LOG_LEVEL": "DEBUG"}


@pytest.fixture
async def board_bot(redis_client: Redis, redis_url: str) -> AsyncIterator[BotProcess]:
    process = BotProcess({"REDIS_URL": redis_url, **FAST}).start()
    try:
        yield process
    finally:
        process.stop()
        process.cleanup()
