"""The Bot Framework adapter, built once, with connector clients built once per service URL.

The stock path builds a new connector client (and its msrest retry policy) for every incoming
activity; here clients are cached, which is most of the SDK's per-turn cost.
"""

from __future__ import annotations

from collections import OrderedDict

from botbuilder.core import CloudAdapterBase
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConfiguration,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ClaimsIdentity,
    ConnectorFactory,
    ManagedIdentityServiceClientCredentialsFactory,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)

from .config import Settings

MAX_CLIENTS = 64  # service URLs differ by region; a handful in practice


class _CachedConnectors(ConnectorFactory):
    def __init__(
        self, inner: ConnectorFactory, cache: OrderedDict[tuple[str, str], ConnectorClient]
    ):
        self._inner = inner
        self._cache = cache

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (service_url, audience or "")
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            self._cache[key] = client
            while len(self._cache) > MAX_CLIENTS:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return client


class _CachingAuthentication(BotFrameworkAuthentication):
    """Delegates to the SDK's authentication, reusing the clients it would rebuild each turn."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._connectors: OrderedDict[tuple[str, str], ConnectorClient] = OrderedDict()
        self._token_clients: dict[str, UserTokenClient] = {}

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory:
            result.connector_factory = _CachedConnectors(result.connector_factory, self._connectors)
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str):
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _CachedConnectors(
            self._inner.create_connector_factory(claims_identity), self._connectors
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = claims_identity.claims.get("appid") or claims_identity.claims.get("azp") or ""
        client = self._token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._token_clients[app_id] = client
        return client

    def create_bot_framework_client(self):
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)


def credentials_factory(settings: Settings) -> ServiceClientCredentialsFactory:
    if settings.app_type == "UserAssignedMSI":
        return ManagedIdentityServiceClientCredentialsFactory(settings.app_id)
    tenant = settings.tenant_id if settings.app_type == "SingleTenant" else None
    return PasswordServiceClientCredentialFactory(
        settings.app_id or None, settings.app_password or None, tenant
    )


def build_adapter(settings: Settings) -> CloudAdapterBase:
    authentication = BotFrameworkAuthenticationFactory.create(
        validate_authority=True,
        credential_factory=credentials_factory(settings),
        auth_configuration=AuthenticationConfiguration(),
    )
    return CloudAdapterBase(_CachingAuthentication(authentication))
