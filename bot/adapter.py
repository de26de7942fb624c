"""The Bot Framework adapter, built once, with connector clients built once per service URL.

The stock path builds a new connector client (and its msrest retry policy) for every incoming
activity; here clients are cached, which is most of the SDK's per-turn cost.

Incoming tokens. With an app id, every request must carry a Bot Framework token (issuer, audience
= the app id, signature, expiry and the `serviceurl` claim are checked by the SDK). Whatever is
wrong with a token, `authenticate_request` here raises PermissionError, which the HTTP handler
answers with 401; the SDK itself raises a mix (jwt errors, KeyError, bare Exception, ...) that
would otherwise surface as 500. Conversely a PermissionError from inside a turn (the bot's own
credentials refused) is re-raised as OutboundAuthError: a server error, not the caller's 401.

Signing keys. The SDK fetches them with a blocking `requests.get` without a timeout, on the event
loop, and again on every request while the endpoint is down. `OpenIdKeys` replaces that cache:
fetched with aiohttp under a timeout, one fetch at a time, the last good keys kept through an
outage. Where they come from is `BotOpenIdMetadata` (the setting's name in the other Bot
Framework SDKs; default: the SDK's own https://login.botframework.com/... document).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import jwt
from botbuilder.core import CloudAdapterBase, TurnContext
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConfiguration,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ChannelValidation,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenExtractor,
    ManagedIdentityServiceClientCredentialsFactory,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from jwt.algorithms import RSAAlgorithm

from dialogs.failures import failure

from .config import ConfigError, Settings

log = logging.getLogger("trustboard.auth")

MAX_CLIENTS = 64  # service URLs differ by region; a handful in practice

OPEN_ID_METADATA = AuthenticationConstants.BOT_OPEN_ID_METADATA_KEY  # "BotOpenIdMetadata"
DEFAULT_OPEN_ID_METADATA: str = AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
# Emulator and skill tokens are checked against this document (not configurable, as in the SDK).
EMULATOR_OPEN_ID_METADATA = AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}

FETCH_TIMEOUT = 10.0  # seconds for the metadata document and the keys together
KEYS_MAX_AGE = 24 * 3600.0  # keys are fetched again after a day, as the SDK does
UNKNOWN_KEY_REFETCH = 3600.0  # an unknown kid fetches again at most hourly, as the SDK does
RETRY_AFTER_FAILURE = 5.0  # seconds without fetching after a failed fetch

# What the SDK raises for a token that is missing, malformed, unsigned, wrongly signed, expired,
# for someone else or from elsewhere. A bare `Exception` also comes from it (endorsements, alg).
TOKEN_ERRORS = (PermissionError, jwt.PyJWTError, ValueError, KeyError, IndexError, TypeError)


class KeysUnavailable(PermissionError):
    """No signing keys could be fetched, so no token can be checked: the request is refused.

    A PermissionError, so it is answered 401 with every other refusal; a subclass, so the HTTP
    layer could answer 503 instead."""


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
    """Delegates to the SDK's authentication, reusing the clients it would rebuild each turn.

    Every failure to authenticate comes out as PermissionError (see the module's docstring)."""

    def __init__(self, inner: BotFrameworkAuthentication, *, require_token: bool = False) -> None:
        self._inner = inner
        self._require_token = require_token
        self._connectors: OrderedDict[tuple[str, str], ConnectorClient] = OrderedDict()
        self._token_clients: dict[str, UserTokenClient] = {}

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        try:
            result = await self._inner.authenticate_request(activity, auth_header)
        except Exception as exc:
            raise _refusal(exc) from None
        if self._require_token:
            _check_expiry(result.claims_identity)
        if result.connector_factory:
            result.connector_factory = _CachedConnectors(result.connector_factory, self._connectors)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        try:
            return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)
        except Exception as exc:
            raise _refusal(exc) from None

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

    def create_bot_framework_client(self) -> Any:  # botbuilder's BotFrameworkClient
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        audience: str = self._inner.get_originating_audience()
        return audience

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        try:
            return await self._inner.authenticate_channel_request(auth_header)
        except Exception as exc:
            raise _refusal(exc) from None


def _refusal(exc: Exception) -> PermissionError:
    """The PermissionError to raise for what the SDK raised, logged without a stack trace unless
    it is not a kind a bad token produces (then it is a bug worth a trace, still refused)."""
    if isinstance(exc, KeysUnavailable):
        log.debug("refused a token: no signing keys")  # the failed fetch was logged already
        return exc
    # Type and place only: a token error's message can quote the token's own fields.
    reason = failure(exc)
    if isinstance(exc, TOKEN_ERRORS) or type(exc) is Exception:
        log.info("refused a request to the bot: %s", reason)
    else:
        log.error("refused a request: unexpected error while checking its token: %s", reason)
    return exc if isinstance(exc, PermissionError) else PermissionError(reason)


def _check_expiry(identity: ClaimsIdentity | None) -> None:
    """The SDK checks `exp` only when a token has one; a Bot Framework token always does."""
    exp = identity.claims.get("exp") if identity and isinstance(identity.claims, dict) else None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        log.info("refused a request to the bot: the token has no expiry ('exp')")
        raise PermissionError("The token has no expiry.")


# -- signing keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedKey:
    """What the SDK's JwtTokenExtractor reads from a key: the key and the channels it endorses."""

    public_key: Any
    endorsements: list[str]


class OpenIdKeys:
    """The signing keys an OpenID metadata document points to, in place of the SDK's
    `_OpenIdMetadata` (`JwtTokenExtractor` only calls `await get(kid)` on it)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = FETCH_TIMEOUT,
        retry_after: float = RETRY_AFTER_FAILURE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.retry_after = retry_after
        self._clock = clock
        self._keys: dict[str, PublishedKey] = {}
        self._fetched: float | None = None  # when the keys were last fetched
        self._failed: float | None = None  # when a fetch last failed
        self._finished = 0  # fetches tried so far
        self._lock = asyncio.Lock()

    async def get(self, key_id: Any) -> PublishedKey:
        if not isinstance(key_id, str) or not key_id:
            raise PermissionError("The token names no signing key ('kid').")
        if self._older_than(KEYS_MAX_AGE) or (
            key_id not in self._keys and self._older_than(UNKNOWN_KEY_REFETCH)
        ):
            await self._refresh()
        key = self._keys.get(key_id)
        if key is None:
            raise PermissionError("The token's signing key is not one that is published.")
        return key

    def _older_than(self, seconds: float) -> bool:
        return self._fetched is None or self._clock() - self._fetched > seconds

    async def _refresh(self) -> None:
        finished = self._finished
        async with self._lock:
            # Whoever waited here while another fetched uses that outcome instead of fetching.
            backing_off = (
                self._failed is not None and self._clock() - self._failed < self.retry_after
            )
            if self._finished == finished and not backing_off:
                try:
                    self._keys = await self._fetch()
                    self._fetched, self._failed = self._clock(), None
                except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
                    self._failed = self._clock()
                    reason = (
                        f"no answer within {self.timeout:g} s"
                        if isinstance(exc, TimeoutError)
                        else failure(exc)
                    )
                    log.warning(
                        "could not fetch the token signing keys from %s (%s); %s",
                        self.url,
                        reason,
                        "still using the last ones"
                        if self._keys
                        else "the tokens it describes are refused until it answers",
                    )
                finally:
                    self._finished += 1
        if not self._keys:
            raise KeysUnavailable(f"No token signing keys could be fetched from {self.url}.")

    async def _fetch(self) -> dict[str, PublishedKey]:
        # trust_env: HTTPS_PROXY and NO_PROXY apply, as they did to the SDK's `requests`.
        async with (
            asyncio.timeout(self.timeout),
            aiohttp.ClientSession(trust_env=True) as session,
        ):
            metadata = await _get_json(session, self.url)
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri:
                raise ValueError("the metadata has no 'jwks_uri'")
            document = await _get_json(session, jwks_uri)
        listed = document.get("keys")
        if not isinstance(listed, list):
            raise ValueError(f"{jwks_uri} has no list of 'keys'")
        keys = {}
        for jwk in listed:
            key = _signing_key(jwk)
            if key is not None:
                keys[jwk["kid"]] = key
        if not keys:
            raise ValueError(f"{jwks_uri} lists no usable RSA keys")
        return keys


async def _get_json(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url) as response:
        response.raise_for_status()
        document = await response.json(content_type=None)
    if not isinstance(document, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return document


def _signing_key(jwk: Any) -> PublishedKey | None:
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
        return None
    try:
        key = RSAAlgorithm.from_jwk(json.dumps(jwk))
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        log.debug("skipped a signing key: %s", failure(exc))
        return None
    if isinstance(key, RSAPrivateKey):
        key = key.public_key()
    endorsements = jwk.get("endorsements") or []
    if not isinstance(endorsements, list):
        endorsements = [endorsements]
    return PublishedKey(key, [str(e) for e in endorsements])


def open_id_metadata_url(env: Mapping[str, str]) -> str:
    """Where the channel's token signing keys are described: `BotOpenIdMetadata`, or the SDK's."""
    value = env.get(OPEN_ID_METADATA, "").strip()
    if not value:
        return DEFAULT_OPEN_ID_METADATA
    parts = urlsplit(value)
    if parts.hostname and (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
    ):
        return value
    raise ConfigError(
        f"{OPEN_ID_METADATA} must be an https:// URL (http:// only to this machine), not {value!r}."
    )


def use_signing_keys(channel_metadata_url: str) -> None:
    """Point the SDK's channel token validation at this metadata, with `OpenIdKeys` caches.

    Both are process-wide in the SDK (a class attribute and a class-level cache by URL)."""
    ChannelValidation.open_id_metadata_endpoint = channel_metadata_url
    for url in {channel_metadata_url, EMULATOR_OPEN_ID_METADATA}:
        JwtTokenExtractor.metadataCache[url] = OpenIdKeys(url)


# -- building ----------------------------------------------------------------------------------


class OutboundAuthError(RuntimeError):
    """A PermissionError raised during a turn, after the request was authenticated: the bot's own
    credentials failed (msal raises PermissionError when Entra ID refuses the app's password).
    Not the caller's fault, so not a 401: it reaches the HTTP layer as a server error."""


class _Adapter(CloudAdapterBase):
    async def process_activity(
        self,
        auth_header_or_authenticate_request_result: str | AuthenticateRequestResult,
        activity: Activity,
        logic: Callable[[TurnContext], Awaitable],
    ) -> Any:  # botbuilder's InvokeResponse, or None
        """PermissionError means "the request is not authorised" only while authenticating."""
        authenticated = auth_header_or_authenticate_request_result
        if isinstance(authenticated, str):
            authenticated = await self.bot_framework_authentication.authenticate_request(
                activity, authenticated
            )
        try:
            return await super().process_activity(authenticated, activity, logic)
        except PermissionError as exc:
            raise OutboundAuthError(f"during an authenticated turn: {failure(exc)}") from exc


def credentials_factory(settings: Settings) -> ServiceClientCredentialsFactory:
    if settings.app_type == "UserAssignedMSI":
        return ManagedIdentityServiceClientCredentialsFactory(settings.app_id)
    tenant = settings.tenant_id if settings.app_type == "SingleTenant" else None
    return PasswordServiceClientCredentialFactory(
        settings.app_id or None, settings.app_password or None, tenant
    )


def bot_authentication(settings: Settings) -> BotFrameworkAuthentication:
    """The SDK's authentication for this app: it checks incoming tokens (the adapter) and makes
    the connector clients that carry the bot's own credentials (ConnectorClients)."""
    return BotFrameworkAuthenticationFactory.create(
        validate_authority=True,
        credential_factory=credentials_factory(settings),
        auth_configuration=AuthenticationConfiguration(),
    )


def build_adapter(
    settings: Settings,
    authentication: BotFrameworkAuthentication,
    env: Mapping[str, str] | None = None,
) -> CloudAdapterBase:
    """`env` (default: os.environ) is where `BotOpenIdMetadata` is read."""
    metadata_url = open_id_metadata_url(os.environ if env is None else env)
    use_signing_keys(metadata_url)
    if metadata_url != DEFAULT_OPEN_ID_METADATA:
        log.info("token signing keys from %s (%s)", metadata_url, OPEN_ID_METADATA)
    return _Adapter(_CachingAuthentication(authentication, require_token=settings.authenticated))
