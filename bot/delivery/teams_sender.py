"""The real sender: a 1:1 chat created with the trustee, then the message posted into it.

It posts with aiohttp, with the bearer token of the credentials botbuilder 4.17.1 would use
(`Tokens`). botbuilder's own connector client (`botframework.connector.aio`) runs `requests` in
the default thread pool and serialises through msrest, which cost most of the bot's CPU when
inviting a board (bench/delivery.py); the gateway (bot/gateway.py) still uses it, through
`ConnectorClients`, for its occasional calls. Every call has a timeout of its own and nothing is
retried here, so back-off and pacing stay with the worker. Failures become `DeliveryError`s with
the HTTP status, the service's error code and Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticationConfiguration,
    AuthenticationConstants,
    BotFrameworkAuthenticationFactory,
    ClaimsIdentity,
)
from msrest.exceptions import HttpOperationError

from ..adapter import credentials_factory
from ..config import Settings
from .jobs import Job
from .sender import DeliveryError, Sent, parse_retry_after

ClientSource = Callable[[str], Awaitable[ConnectorClient]]

TEAMS_BOT_PREFIX = "28:"  # Teams names a bot "28:<app id>"


class ConnectorClients:
    """Connector clients of this app, one per service URL, set up for delivery."""

    def __init__(self, settings: Settings, call_timeout: float) -> None:
        authentication = BotFrameworkAuthenticationFactory.create(
            validate_authority=True,
            credential_factory=credentials_factory(settings),
            auth_configuration=AuthenticationConfiguration(),
        )
        identity = ClaimsIdentity(
            {
                AuthenticationConstants.AUDIENCE_CLAIM: settings.app_id,
                AuthenticationConstants.APP_ID_CLAIM: settings.app_id,
            },
            True,
        )
        self._factory = authentication.create_connector_factory(identity)
        self._call_timeout = call_timeout
        self._clients: dict[str, ConnectorClient] = {}

    async def __call__(self, service_url: str) -> ConnectorClient:
        client = self._clients.get(service_url)
        if client is None:
            client = await self._factory.create(service_url, None)
            configure(client, self._call_timeout)
            self._clients[service_url] = client
        return client


def configure(client: ConnectorClient, call_timeout: float) -> None:
    """No retries inside the client (the worker owns them) and requests' own timeout."""
    client.config.retry_policy.retries = 0
    client.config.connection.timeout = call_timeout


class Tokens:
    """The bearer token for a service URL, from the credentials botbuilder would use.

    MSAL caches the token and fetches a new one (a blocking HTTP call) only near its expiry, so
    it is asked in a thread, and at most every `reuse` seconds.
    """

    def __init__(self, clients: ClientSource, reuse: float = 300.0) -> None:
        self.clients = clients
        self.reuse = reuse
        self._held: dict[str, tuple[str | None, float]] = {}

    async def __call__(self, service_url: str) -> str | None:
        held = self._held.get(service_url)
        now = time.monotonic()
        if held is not None and now - held[1] < self.reuse:
            return held[0]
        try:
            client = await self.clients(service_url)
        except ValueError as exc:
            raise DeliveryError(None, f"unusable service URL: {exc}") from exc
        credentials = client.config.credentials
        token = None
        if getattr(credentials, "microsoft_app_id", None):  # none: an unauthenticated local run
            try:
                token = await asyncio.to_thread(credentials.get_access_token)
            except Exception as exc:  # MSAL's own errors, or no answer from Entra ID
                raise DeliveryError(None, f"no token for the bot: {type(exc).__name__}") from exc
        self._held[service_url] = (token, now)
        return token


class TeamsSender:
    """Creates the 1:1 chat, then posts the message in it, with one aiohttp session.

    botbuilder's connector client spent 5 to 8 ms of CPU a message in msrest and requests
    (py-spy, bench/delivery.py); a job's message is already plain JSON, so it is posted as is.
    """

    def __init__(
        self,
        tokens: Callable[[str], Awaitable[str | None]],
        bot_id: str,
        bot_name: str = "trustboard",
        *,
        call_timeout: float = 15.0,
    ) -> None:
        self.tokens = tokens
        self.bot = {"id": bot_id, "name": bot_name}
        self.call_timeout = call_timeout
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, call_timeout: float = 15.0, bot_name: str = "trustboard"
    ) -> TeamsSender:
        bot_id = TEAMS_BOT_PREFIX + (settings.app_id or "trustboard-local")
        tokens = Tokens(ConnectorClients(settings, call_timeout))
        return cls(tokens, bot_id, bot_name, call_timeout=call_timeout)

    async def send(self, job: Job) -> Sent:
        base = job.service_url.rstrip("/") + "/v3/conversations"
        member = {"id": job.recipient.id}
        if job.recipient.name:
            member["name"] = job.recipient.name
        chat = {
            "isGroup": False,
            "bot": self.bot,
            "members": [member],
            "tenantID": job.tenant_id,  # spelt as botbuilder's schema sends it
            # Teams reads the tenant from channel data; the schema's tenantId alone is not enough.
            "channelData": {"tenant": {"id": job.tenant_id}},
        }
        created = await self._post(job.service_url, base, chat)
        conversation = created.get("id")
        if not isinstance(conversation, str) or not conversation:
            raise DeliveryError(None, "Teams created no conversation")
        url = f"{base}/{quote(conversation, safe='')}/activities"
        posted = await self._post(job.service_url, url, {"type": "message", **job.message})
        return Sent(conversation_id=conversation, activity_id=str(posted.get("id") or ""))

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _post(self, service_url: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        token = await self.tokens(service_url)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with asyncio.timeout(self.call_timeout):
                async with self._client().post(
                    url, data=json.dumps(body), headers=headers
                ) as answer:
                    status, text = answer.status, await answer.text()
                    retry_after = answer.headers.get("Retry-After")
        except TimeoutError as exc:
            raise DeliveryError(None, f"no answer within {self.call_timeout:g} s") from exc
        except aiohttp.ClientError as exc:
            raise DeliveryError(None, f"connection problem: {type(exc).__name__}: {exc}") from exc
        if not 200 <= status < 300:
            raise delivery_error(status, text, retry_after)
        try:
            found = json.loads(text) if text else {}
        except ValueError as exc:
            raise DeliveryError(None, f"HTTP {status} with a body that is not JSON") from exc
        return found if isinstance(found, dict) else {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.call_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout, raise_for_status=False)
        return self._session


def as_delivery_error(exc: HttpOperationError) -> DeliveryError:
    """A botbuilder connector client's failure (the gateway still uses that client)."""
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0) or None
    headers = getattr(response, "headers", None) or {}
    text = getattr(response, "text", "") or ""
    return delivery_error(status, text, headers.get("Retry-After"), fallback=str(exc))


def delivery_error(
    status: int | None, text: str, retry_after: str | None, fallback: str = ""
) -> DeliveryError:
    """The status, the service's error code and message, and Retry-After of a failed call."""
    code, message = _error_body(text)
    retry = parse_retry_after(retry_after)
    return DeliveryError(status, message or fallback, code=code, retry_after=retry)


def _error_body(text: str) -> tuple[str, str]:
    """The `error.code` (with any subCode) and message of a connector error response."""
    try:
        body = json.loads(text or "{}")
    except ValueError:
        return "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    code = str(error.get("code") or "")
    inner = error.get("innerHttpError") if isinstance(error.get("innerHttpError"), dict) else {}
    sub = error.get("subCode") or (inner or {}).get("subCode")
    if sub:
        code = f"{code}/{sub}" if code else str(sub)
    return code, str(error.get("message") or "")
