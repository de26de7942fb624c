"""The bot for the board tests, served in-process on the throwaway Redis, with quick delivery
timing."""

from __future__ import annotations

import pytest

from tests.support.bot_app import BotApp, StartBot

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3", "LOG_LEVEL": "DEBUG"}


@pytest.fixture
async def board_bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with(FAST)
