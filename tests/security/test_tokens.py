"""With an app id, every request to /api/messages must carry a valid Bot Framework token.

Missing, garbage, unsigned, wrongly signed, expired, not-yet-valid, wrong-audience, wrong-issuer
and wrong-serviceurl tokens get 401 with the short JSON body, never 500 and never a hang, and
change nothing. The bot runs as a real process; its token signing keys come from a local OpenID
metadata + JWKS server (`BotOpenIdMetadata`), so nothing here needs login.botframework.com.

Two registrations are tried: a password app (MultiTenant, as most bots are) and a managed
identity (UserAssignedMSI), whose outbound token comes from the App Service identity endpoint
that the local server also answers; only with the latter can a reply reach the fake connector
offline (a password app asks login.microsoftonline.com for its token).

That the bot refuses to start with no app id unless LOCAL_MODE=1 is tests/bot/test_config.py's
`test_without_an_app_id_or_local_mode_the_bot_will_not_start`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from bot.adapter import (
    DEFAULT_OPEN_ID_METADATA,
    KeysUnavailable,
    OpenIdKeys,
    OutboundAuthError,
    open_id_metadata_url,
    use_signing_keys,
)
from bot.app import BOT, create_app
from bot.config import ConfigError, Settings
from tests.support.activities import ALEX, Bot, Chat
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.net import free_port
from tests.support.redis_state import everything
from tests.support.tokens import (
    OpenIdServer,
    SigningKey,
    bearer,
    channel_claims,
    new_app_id,
    unsigned,
)

APP_ID = new_app_id()
REFUSED = {"error": "The request is not authorised."}
# Issuers the SDK takes for the Bot Framework Emulator's (Entra ID tokens, checked against
# login.microsoftonline.com's keys, which this machine cannot reach: still a 401).
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def webchat_key() -> SigningKey:
    """Published, but endorsed for Web Chat only: not good for an msteams activity."""
    return SigningKey.generate(endorsements=("webchat",))


@pytest.fixture(scope="module")
async def login(key: SigningKey, webchat_key: SigningKey) -> AsyncIterator[OpenIdServer]:
    async with OpenIdServer([key, webchat_key]) as server:
        yield server


@pytest.fixture(scope="module")
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the throwaway server, emptied once: the bots below live for the module."""
    client = Redis.from_url(redis_url, decode_responses=True)
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()


def registration(kind: str, login: OpenIdServer) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "MicrosoftAppId": APP_ID,
        "LOCAL_MODE": None,
        "BotOpenIdMetadata": login.metadata_url,
    }
    if kind == "password":
        env.update(MicrosoftAppPassword="x")
    else:
        env.update(
            MicrosoftAppType="UserAssignedMSI",
            MicrosoftAppTenantId=new_app_id(),
            MicrosoftAppPassword=None,
            **login.msi_env,
        )
    return env


@pytest.fixture(scope="module", params=["password", "managed-identity"])
async def bot(
    request: pytest.FixtureRequest, login: OpenIdServer, redis: Redis, redis_url: str
) -> AsyncIterator[BotProcess]:
    env = {**registration(request.param, login), "REDIS_URL": redis_url}
    async with BotProcess(env) as process:
        yield process


def chat_for(connector: FakeConnector) -> Chat:
    return Chat(service_url=connector.url, bot=Bot(id=f"28:{APP_ID}"))


def user_keys(state: dict[str, Any]) -> list[str]:
    return [k for k in state if ALEX.aad_object_id in k]


# -- a valid token -----------------------------------------------------------------------------


async def test_a_valid_token_is_accepted(
    bot: BotProcess, connector: FakeConnector, key: SigningKey, login: OpenIdServer, redis: Redis
) -> None:
    chat = chat_for(connector)
    token = key.mint(channel_claims(APP_ID, connector.url))
    before = await everything(redis)
    status, body = await bot.post(chat.message("start governance"), headers=bearer(token))
    after = await everything(redis)

    assert status != 401, body
    assert user_keys(after) and after != before  # the turn ran and stored the walkthrough
    if bot.extra_env.get("MicrosoftAppType") == "UserAssignedMSI":
        # The whole way round: a 200, and the reply at the connector with the bot's own token.
        assert status == 200, bot.logs()
        replies = connector.calls_of("reply", "send")
        assert replies and replies[0].headers["authorization"] == f"Bearer {login.outbound_token}"
        assert login.requests.msi[-1]["resource"] == "https://api.botframework.com"
    else:
        # Offline, a password app cannot get its outbound token from login.microsoftonline.com,
        # so the reply fails after the turn was accepted: the 500 is that, not authentication
        # (logged by type and place: Tokens could not reach login.microsoftonline.com).
        assert status in (200, 500), body
        no_token = re.search(
            r"unhandled error on POST /api/messages: TeamsError \(from ConnectionError\) at "
            r"connector\.py:\d+ in __call__",
            bot.stderr(),
        )
        assert no_token or status == 200


# -- bad tokens --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    key: SigningKey
    webchat: SigningKey
    impostor: SigningKey  # a key of its own under our key's kid
    service_url: str


def claims(keys: Keys, **changes: Any) -> dict[str, Any]:
    made = channel_claims(APP_ID, keys.service_url)
    for name, value in changes.items():
        if value is None:
            made.pop(name, None)
        else:
            made[name] = value
    return made


Header = Callable[[Keys], dict[str, str]]
NOW = time.time

BAD: list[Any] = [
    pytest.param(lambda k: {}, id="no-authorization-header"),
    pytest.param(lambda k: {"Authorization": ""}, id="empty-header"),
    pytest.param(lambda k: {"Authorization": "Bearer garbage"}, id="bearer-garbage"),
    pytest.param(lambda k: {"Authorization": "Bearer "}, id="bearer-nothing"),
    pytest.param(lambda k: {"Authorization": "Bearer a.b.c"}, id="three-garbage-parts"),
    pytest.param(lambda k: {"Authorization": "Basic dXNlcjpwYXNz"}, id="basic-auth"),
    pytest.param(
        lambda k: {"Authorization": f"Token {k.key.mint(claims(k))}"}, id="valid-token-wrong-scheme"
    ),
    pytest.param(lambda k: bearer(k.key.mint(claims(k), kid="unknown-kid")), id="unknown-kid"),
    pytest.param(lambda k: bearer(k.key.mint(claims(k), with_kid=False)), id="no-kid"),
    pytest.param(lambda k: bearer(k.impostor.mint(claims(k))), id="wrong-signature-same-kid"),
    pytest.param(lambda k: bearer(unsigned(claims(k), kid=k.key.kid)), id="alg-none"),
    pytest.param(
        lambda k: bearer(
            jwt.encode(
                claims(k),
                "a-shared-secret-long-enough-for-hs256!",
                "HS256",
                headers={"kid": k.key.kid},
            )
        ),
        id="hs256",
    ),
    pytest.param(
        # Past the SDK's five minutes' leeway for clocks.
        lambda k: bearer(k.key.mint(claims(k, nbf=int(NOW()) - 7200, exp=int(NOW()) - 600))),
        id="expired",
    ),
    pytest.param(
        lambda k: bearer(k.key.mint(claims(k, nbf=int(NOW()) + 600, exp=int(NOW()) + 4200))),
        id="not-yet-valid",
    ),
    pytest.param(lambda k: bearer(k.key.mint(claims(k, exp=None))), id="no-expiry"),
    pytest.param(lambda k: bearer(k.key.mint(claims(k, aud=new_app_id()))), id="wrong-audience"),
    pytest.param(lambda k: bearer(k.key.mint(claims(k, aud=None))), id="no-audience"),
    pytest.param(lambda k: bearer(k.key.mint(claims(k, aud=[APP_ID]))), id="audience-a-list"),
    pytest.param(
        lambda k: bearer(k.key.mint(claims(k, iss="https://api.botframework.example"))),
        id="wrong-issuer",
    ),
    pytest.param(lambda k: bearer(k.key.mint(claims(k, iss=None))), id="no-issuer"),
    pytest.param(
        lambda k: bearer(k.key.mint(claims(k, serviceurl="https://smba.trafficmanager.net/x/"))),
        id="serviceurl-mismatch",
    ),
    pytest.param(lambda k: bearer(k.key.mint(claims(k, serviceurl=None))), id="no-serviceurl"),
    pytest.param(lambda k: bearer(k.webchat.mint(claims(k))), id="key-not-endorsed-for-teams"),
    pytest.param(
        lambda k: bearer(k.key.mint(claims(k, iss=EMULATOR_ISSUER, ver="1.0", appid=APP_ID))),
        id="emulator-issuer",
    ),
    pytest.param(
        # A skill's token (ver, and an app id other than the audience): no skills here.
        lambda k: bearer(k.key.mint(claims(k, ver="2.0", azp=new_app_id()))),
        id="skill-token",
    ),
]


@pytest.mark.parametrize("header", BAD)
async def test_a_bad_token_gets_401_and_changes_nothing(
    bot: BotProcess,
    connector: FakeConnector,
    key: SigningKey,
    webchat_key: SigningKey,
    redis: Redis,
    header: Header,
) -> None:
    keys = Keys(key, webchat_key, SigningKey.generate(kid=key.kid), connector.url)
    before = await everything(redis)
    logged = len(bot.stderr())

    status, body = await asyncio.wait_for(
        bot.post(chat_for(connector).message("start governance"), headers=header(keys)), 15
    )

    assert (status, body) == (401, REFUSED)
    assert await everything(redis) == before
    assert connector.calls == []
    output = bot.stderr()[logged:]
    assert "Traceback" not in output and " ERROR " not in output, output
    assert bot.returncode() is None


async def test_a_valid_token_still_works_after_the_bad_ones(
    bot: BotProcess, connector: FakeConnector, key: SigningKey
) -> None:
    token = key.mint(channel_claims(APP_ID, connector.url))
    status, body = await bot.post(chat_for(connector).message("help"), headers=bearer(token))
    assert status != 401, body


# -- the signing keys' endpoint ----------------------------------------------------------------


async def test_an_unreachable_metadata_endpoint_gets_401_then_recovers(
    connector: FakeConnector, key: SigningKey, redis: Redis, redis_url: str
) -> None:
    """Down when the bot starts: 401 and a warning, no stack trace; up again: tokens work.

    401, not 503: a token whose keys cannot be fetched is one we cannot trust, and an emulator
    or skill token's keys are fetched from a Microsoft endpoint that cannot be configured."""
    port = free_port()
    absent = OpenIdServer([key], port=port)  # not started yet: nothing listens on the port
    env = {**registration("managed-identity", absent), "REDIS_URL": redis_url}
    token = key.mint(channel_claims(APP_ID, connector.url))
    activity = chat_for(connector).message("help")
    async with BotProcess(env) as bot:
        before = await everything(redis)
        status, body = await bot.post(activity, headers=bearer(token), timeout=15)
        assert (status, body) == (401, REFUSED)
        assert await everything(redis) == before
        assert "could not fetch the token signing keys" in bot.stderr()
        assert "Traceback" not in bot.stderr()

        async with OpenIdServer([key], port=port, msi_secret=absent.msi_secret) as login:
            deadline = time.monotonic() + 15  # the bot waits a few seconds between attempts
            while status == 401 and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                status, body = await bot.post(activity, headers=bearer(token), timeout=15)
            assert status == 200, bot.logs()
            assert login.requests.keys == 1
        assert "Traceback" not in bot.stderr()


# -- OpenIdKeys, in this process ---------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_keys_are_fetched_once_for_many_requests(login: OpenIdServer, key: SigningKey):
    keys = OpenIdKeys(login.metadata_url)
    fetched = login.requests.keys
    found = await asyncio.gather(*(keys.get(key.kid) for _ in range(20)))
    assert {k.endorsements[0] for k in found} == {"msteams"}
    assert login.requests.keys == fetched + 1


async def test_an_unknown_or_missing_kid_is_refused_without_fetching_again(
    login: OpenIdServer, key: SigningKey
) -> None:
    keys = OpenIdKeys(login.metadata_url)
    await keys.get(key.kid)
    fetched = login.requests.keys
    for kid in ("someone-elses", "", None, ["a", "list"], 7):
        with pytest.raises(PermissionError):
            await keys.get(kid)
    assert login.requests.keys == fetched


async def test_a_hanging_endpoint_times_out_without_blocking_the_loop(key: SigningKey) -> None:
    async with OpenIdServer([key]) as stuck:
        stuck.hang = True
        keys = OpenIdKeys(stuck.metadata_url, timeout=0.5)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        with pytest.raises(KeysUnavailable):
            await keys.get(key.kid)
        took = time.monotonic() - started
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    assert took < 3
    assert ticks >= 10  # the event loop went on while the fetch waited


@pytest.mark.parametrize("failure", ["refused", "status-500", "no-jwks-uri", "no-keys", "hang"])
async def test_a_failing_endpoint_is_refused_and_not_asked_again_at_once(
    key: SigningKey, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with OpenIdServer([key]) as server:
        url = server.metadata_url
        if failure == "refused":
            await server.close()
        elif failure == "status-500":
            server.fail_status = 500
        elif failure == "no-jwks-uri":
            url = server.url + "/v1/.well-known/keys"  # JSON, but not OpenID metadata
        elif failure == "no-keys":
            server.keys = []
        else:
            server.hang = True
        clock = Clock()
        keys = OpenIdKeys(url, timeout=0.3, retry_after=5, clock=clock)
        for _ in range(3):
            with pytest.raises(KeysUnavailable):
                await keys.get(key.kid)
        clock.now += 6
        with pytest.raises(KeysUnavailable):
            await keys.get(key.kid)
    # One attempt (and one warning) at first, one more after the back-off; no stack traces.
    warnings = [
        r for r in caplog.records if r.name == "trustboard.auth" and r.levelname == "WARNING"
    ]
    assert len(warnings) == 2, [r.getMessage() for r in warnings]
    assert "could not fetch the token signing keys" in warnings[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)


async def test_the_last_keys_are_kept_through_an_outage_and_new_ones_found_after(
    key: SigningKey,
) -> None:
    rotated = SigningKey.generate()
    async with OpenIdServer([key]) as server:
        clock = Clock()
        keys = OpenIdKeys(server.metadata_url, clock=clock)
        first = await keys.get(key.kid)

        server.fail_status = 503
        clock.now += 2 * 24 * 3600  # older than a day: fetched again, which fails
        assert await keys.get(key.kid) == first

        server.fail_status = None
        server.keys = [key, rotated]
        with pytest.raises(PermissionError):  # tried again only after the back-off
            await keys.get(rotated.kid)
        clock.now += 3600 + 1
        assert (await keys.get(rotated.kid)).endorsements == ["msteams"]


# -- the adapter, in this process --------------------------------------------------------------


@pytest.fixture
def sdk_metadata() -> Iterator[None]:
    """build_adapter points the SDK (process-wide) at a metadata URL: put it back afterwards."""
    yield
    use_signing_keys(DEFAULT_OPEN_ID_METADATA)


def test_bot_open_id_metadata_is_read_and_checked() -> None:
    assert open_id_metadata_url({}) == DEFAULT_OPEN_ID_METADATA
    assert open_id_metadata_url({"BotOpenIdMetadata": " "}) == DEFAULT_OPEN_ID_METADATA
    for good in ("https://keys.example/v1/.well-known/openidconfiguration", "http://127.0.0.1:9/m"):
        assert open_id_metadata_url({"BotOpenIdMetadata": good}) == good
    for bad in ("http://keys.example/metadata", "ftp://127.0.0.1/m", "keys.example", "https://"):
        with pytest.raises(ConfigError, match="BotOpenIdMetadata must be an https:// URL"):
            open_id_metadata_url({"BotOpenIdMetadata": bad})


async def test_a_permission_error_inside_a_turn_is_a_500_not_a_401(
    login: OpenIdServer,
    key: SigningKey,
    redis: Redis,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    sdk_metadata: None,
) -> None:
    """Only authentication means "not authorised". The bot's own credentials refused while it
    answers (msal raises PermissionError for that) is a server error, and logged as one."""
    monkeypatch.setenv("BotOpenIdMetadata", login.metadata_url)
    settings = Settings(app_id=APP_ID, app_password="x", redis_url=redis_url, delivery_workers=0)
    app = create_app(settings)

    async def refused_outbound(*_: Any) -> None:
        raise PermissionError("Failed to get access token with error: invalid_client")

    app[BOT].on_turn = refused_outbound  # type: ignore[method-assign]
    service_url = "https://smba.trafficmanager.net/uk/"
    activity = Chat(service_url=service_url, bot=Bot(id=f"28:{APP_ID}")).message("hi")
    token = key.mint(channel_claims(APP_ID, service_url))
    async with TestClient(TestServer(app)) as client:
        answer = await client.post("/api/messages", json=activity, headers=bearer(token))
        assert answer.status == 500
        answer = await client.post(
            "/api/messages", json=activity, headers={"Authorization": "Bearer garbage"}
        )
        assert (answer.status, await answer.json()) == (401, REFUSED)
    # Logged as a server error, by type and place (its message could quote the credentials').
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    named = f"{OutboundAuthError.__name__} (from PermissionError) at adapter.py:"
    assert any(named in message for message in errors), caplog.text
    assert "invalid_client" not in caplog.text
