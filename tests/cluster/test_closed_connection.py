"""A command that meets a connection closed under it (redis-py, mid-failover, disconnects a
node's idle connections while another task has already taken one) is a lost connection: the
trustee is told "not saved" with a 200, and the next click saves, never a 500."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from redis.asyncio.connection import Connection

from dialogs.refusals import NOT_SAVED
from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat
from tests.support.bot_app import BotApp
from tests.support.fake_connector import FakeConnector
from tests.support.redis_state import every_key

SEND = Connection._send_packed_command


def close_under_the_next_command(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next command on a trustee's assessment finds its writer gone, as in the race; the
    others (the background loops' among them) go through."""
    met: list[int] = []

    async def closed(self: Connection, command: Iterable[bytes]) -> None:
        command = list(command)
        if not met and b":sa:" in b"".join(command):
            met.append(1)
            writer, self._writer = self._writer, None
            try:
                await SEND(self, command)  # raises AttributeError, as redis-py does
            finally:
                self._writer = writer
        await SEND(self, command)

    monkeypatch.setattr(Connection, "_send_packed_command", closed)
    return met


async def test_a_rating_meeting_a_closed_connection_is_not_saved_then_saved(
    cluster_bot: BotApp,
    connector: FakeConnector,
    cluster_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trustee = TeamsClient(cluster_bot, connector, Chat(service_url=connector.url))
    await trustee.say("hello")
    await trustee.click("start")
    met = close_under_the_next_command(monkeypatch)

    assert await trustee.click("rate", "Green", evidence="minutes of March") == 200
    assert met and trustee.texts == [NOT_SAVED]
    assert "Element 1 of 16" in trustee.words()
    assert "a Redis connection was closed under a command: AttributeError" in cluster_bot.logs()

    assert await trustee.click("rate", "Green", evidence="minutes of March") == 200
    assert "Saved 1." in trustee.words() and not trustee.texts
    [key] = await every_key(cluster_client, "*:sa:*")
    assert (await cluster_client.hgetall(key))["e:1"] == "minutes of March"
