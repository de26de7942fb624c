"""The README's first step, read literally: `./scripts/start`, answer, stop it, start it again,
`resume`. With redis-server on the machine the answers are still there, with nothing else to do:
the script runs a redis-server of its own (deploy/redis.conf, a free port, never 6379's) and stops
it with the bot. Without one it says it is on the embedded store, and so do the cards."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import redis

from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat
from tests.support.bot_process import REPO_ROOT, BotProcess
from tests.support.fake_connector import FakeConnector

START = [str(REPO_ROOT / "scripts" / "start")]


def start(data: Path, **env: str) -> BotProcess:
    return BotProcess(
        {"TRUSTBOARD_SKIP_INSTALL": "1", "TRUSTBOARD_DATA": str(data), **env},
        command=START,
        startup_timeout=40,
    ).start()


def answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
async def test_the_first_run_keeps_answers_across_a_restart(
    connector: FakeConnector, tmp_path: Path
) -> None:
    data = tmp_path / "redis"
    bot = start(data)
    try:
        alex = TeamsClient(bot, connector, Chat(service_url=connector.url))
        assert await alex.say("start governance") == 200
        assert await alex.click("rate", "Green", evidence="Strategy agreed in March.") == 200
        assert "Saved 1. Setting direction: Green." in alex.words()
        assert await alex.click("pause") == 200
        assert "Pick up any time, on any device" in alex.words()
        port = int((data / "port").read_text())
        assert port != 6379
        assert "redis-server of trustboard's own" in bot.stderr()
    finally:
        bot.stop(timeout=15)
    assert not answers(port)  # stopped with the bot: nothing left running

    again = start(data)
    try:
        alex.bot = again
        assert await alex.say("resume") == 200
        assert "2. Culture, values and ethos" in alex.words()
        assert "1 of 16 rated" in alex.words()
    finally:
        again.stop(timeout=15)


async def test_on_the_embedded_store_it_says_so_and_so_does_the_pause_card(
    connector: FakeConnector, tmp_path: Path
) -> None:
    bot = start(tmp_path / "redis", TRUSTBOARD_STORE="embedded")
    try:
        alex = TeamsClient(bot, connector, Chat(service_url=connector.url))
        assert await alex.say("start governance") == 200
        assert await alex.click("pause") == 200
        assert "Pick up any time" not in alex.words()
        assert "a restart loses them" in alex.words()
        assert "answers are lost when the bot stops" in bot.stderr()
    finally:
        bot.stop(timeout=15)
    assert not (tmp_path / "redis").exists()
