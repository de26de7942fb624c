"""One deployment, many trusts: activities from other organisations' tenants, as a single-tenant
bot whose Entra app accepts accounts in any organisation receives them.

The Bot Framework signs every activity it forwards, whatever tenant it comes from: the token
names the bot's app id as audience and carries no tenant, so validation is the same for every
tenant. The bot's own token always comes from its home tenant, whichever tenant it answers.
Checked here: a bot registered in a home tenant takes activities from three other tenants with
valid tokens, answers each with the same home-tenant token, and keeps each person's data under
their own tenant; a wrong-audience token from another tenant is still a 401; and a SingleTenant
password app asks its home tenant's authority for its token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.adapter import credentials_factory
from bot.config import Settings
from tests.sets.trusts import CST_TENANT, THIRD_TENANT
from tests.support.activities import OTHER_TENANT, TENANT, Bot, Chat, user
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.redis_state import everything
from tests.support.tokens import OpenIdServer, SigningKey, bearer, channel_claims, new_app_id

APP_ID = new_app_id()
HOME = CST_TENANT  # where the app registration lives: none of the trusts' tenants
TRUSTS = (TENANT, OTHER_TENANT, THIRD_TENANT)
REFUSED = {"error": "The request is not authorised."}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
async def login(key: SigningKey) -> AsyncIterator[OpenIdServer]:
    async with OpenIdServer([key]) as server:
        yield server


@pytest.fixture
async def bot(
    login: OpenIdServer, redis_client: Redis, redis_url: str
) -> AsyncIterator[BotProcess]:
    # A managed identity: its outbound token comes from the local identity endpoint, so a reply
    # reaches the fake connector offline (a password app would ask login.microsoftonline.com).
    env = {
        "MicrosoftAppId": APP_ID,
        "MicrosoftAppType": "UserAssignedMSI",
        "MicrosoftAppTenantId": HOME,
        "MicrosoftAppPassword": None,
        "LOCAL_MODE": None,
        "BotOpenIdMetadata": login.metadata_url,
        "REDIS_URL": redis_url,
        **login.msi_env,
    }
    async with BotProcess(env) as process:
        yield process


async def test_activities_from_three_other_tenants_are_taken_and_kept_apart(
    bot: BotProcess,
    connector: FakeConnector,
    key: SigningKey,
    login: OpenIdServer,
    redis_client: Redis,
) -> None:
    chair = user("Sam Chair")  # the same person's ids in each tenant: still three people
    for tenant in TRUSTS:
        chat = Chat(
            service_url=connector.url, tenant=tenant, user=chair, bot=Bot(id=f"28:{APP_ID}")
        )
        token = key.mint(channel_claims(APP_ID, connector.url))
        status, body = await bot.post(chat.message("start governance"), headers=bearer(token))
        assert status == 200, (tenant, body, bot.logs()[-2000:])
    replies = connector.calls_of("reply", "send")
    assert len(replies) >= len(TRUSTS)
    assert {r.headers["authorization"] for r in replies} == {f"Bearer {login.outbound_token}"}
    state = await everything(redis_client)
    for tenant in TRUSTS:
        assert [k for k in state if f"{{t:{tenant}:u:{chair.aad_object_id}}}" in k], tenant
    assert not [k for k in state if HOME in k]  # nothing kept under the bot's own tenant


async def test_a_wrong_audience_from_another_tenant_is_refused(
    bot: BotProcess, connector: FakeConnector, key: SigningKey, redis_client: Redis
) -> None:
    chat = Chat(service_url=connector.url, tenant=OTHER_TENANT, bot=Bot(id=f"28:{APP_ID}"))
    before = await everything(redis_client)
    for audience in (new_app_id(), HOME, OTHER_TENANT):
        token = key.mint(channel_claims(audience, connector.url))
        status, body = await bot.post(chat.message("start governance"), headers=bearer(token))
        assert (status, body) == (401, REFUSED)
    assert await everything(redis_client) == before


async def test_a_single_tenant_app_gets_its_token_from_its_home_tenant() -> None:
    settings = Settings.from_env(
        {
            "MicrosoftAppId": APP_ID,
            "MicrosoftAppPassword": "x",
            "MicrosoftAppType": "SingleTenant",
            "MicrosoftAppTenantId": HOME,
            "REDIS_URL": "redis://r",
        }
    )
    credentials = await credentials_factory(settings).create_credentials(
        APP_ID,
        "https://api.botframework.com",
        "https://login.microsoftonline.com/botframework.com",
        True,
    )
    assert credentials.oauth_endpoint == f"https://login.microsoftonline.com/{HOME}"
