"""The sender's bearer token: the one botbuilder's credentials give, reused, and never logged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from bot.connector import Connector, Tokens
from bot.delivery.teams_sender import TeamsSender
from dialogs.boards.ports import TeamsError
from tests.support.fake_connector import FakeConnector

from .conftest import make_job


@dataclass
class Credentials:
    """Stands in for botbuilder's MicrosoftAppCredentials (MSAL behind it)."""

    microsoft_app_id: str | None
    tokens: list[str] = field(default_factory=lambda: ["token-1", "token-2"])
    asked: int = 0
    broken: bool = False

    def get_access_token(self) -> str:
        self.asked += 1
        if self.broken:
            raise RuntimeError("AADSTS7000215: invalid client secret")
        return self.tokens[min(self.asked, len(self.tokens)) - 1]


def clients_with(credentials: Credentials) -> Any:
    async def clients(service_url: str) -> Any:
        if not service_url.startswith("http"):
            raise ValueError("not a service URL")
        return SimpleNamespace(config=SimpleNamespace(credentials=credentials))

    return clients


@pytest.fixture
async def sender_for() -> AsyncIterator[Any]:
    made: list[TeamsSender] = []

    def make(tokens: Tokens) -> TeamsSender:
        made.append(TeamsSender(Connector(tokens, call_timeout=2.0), "28:app"))
        return made[-1]

    yield make
    for sender in made:
        await sender.connector.close()


async def test_both_calls_carry_the_bots_token(connector: FakeConnector, sender_for: Any) -> None:
    credentials = Credentials("app-id")
    sender = sender_for(Tokens(clients_with(credentials)))
    await sender.send(make_job(1, service_url=connector.url))
    await sender.send(make_job(2, service_url=connector.url))
    calls = connector.calls_of("create", "send")
    assert len(calls) == 4
    assert {c.headers.get("authorization") for c in calls} == {"Bearer token-1"}
    assert credentials.asked == 1  # reused within five minutes, not asked per call


async def test_a_token_older_than_the_reuse_time_is_asked_for_again(
    connector: FakeConnector, sender_for: Any
) -> None:
    credentials = Credentials("app-id")
    sender = sender_for(Tokens(clients_with(credentials), reuse=0.0))
    await sender.send(make_job(1, service_url=connector.url))
    assert credentials.asked == 2
    assert connector.calls_of("send")[0].headers.get("authorization") == "Bearer token-2"


async def test_an_unauthenticated_local_run_sends_no_token(
    connector: FakeConnector, sender_for: Any
) -> None:
    credentials = Credentials(None)
    sender = sender_for(Tokens(clients_with(credentials)))
    await sender.send(make_job(1, service_url=connector.url))
    assert credentials.asked == 0
    assert all("authorization" not in c.headers for c in connector.calls)


async def test_no_token_is_a_teams_error_without_the_secret_in_it(
    connector: FakeConnector, sender_for: Any
) -> None:
    sender = sender_for(Tokens(clients_with(Credentials("app-id", broken=True))))
    with pytest.raises(TeamsError) as raised:
        await sender.send(make_job(1, service_url=connector.url))
    assert raised.value.status is None  # retried by the worker like no answer at all
    assert str(raised.value) == "no token for the bot: RuntimeError"
    assert connector.calls == []


async def test_an_unusable_service_url_is_a_teams_error(sender_for: Any) -> None:
    sender = sender_for(Tokens(clients_with(Credentials("app-id"))))
    with pytest.raises(TeamsError, match="unusable service URL"):
        await sender.send(make_job(1, service_url="ftp://nowhere.example/"))
