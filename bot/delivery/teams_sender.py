"""The real sender: a 1:1 chat created with the trustee, then the message posted into it.

It uses the connector client of botbuilder 4.17.1 (`botframework.connector.aio`), built once per
service URL with the bot's credentials. Those clients run `requests` in the default thread pool
and, left alone, wait 100 s for an answer and retry some failures themselves; here every call
has a timeout of its own (which also ends the thread's wait) and the client's retries are off, so
back-off and pacing stay with the worker. Connector failures become `DeliveryError`s with the
HTTP status, the service's error code and Retry-After.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from botbuilder.schema import Activity, ChannelAccount, ConversationParameters
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticationConfiguration,
    AuthenticationConstants,
    BotFrameworkAuthenticationFactory,
    ClaimsIdentity,
)
from msrest.exceptions import ClientRequestError, HttpOperationError

from ..adapter import credentials_factory
from ..config import Settings
from .jobs import Job
from .sender import DeliveryError, Sent, parse_retry_after

T = TypeVar("T")
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


class TeamsSender:
    def __init__(
        self,
        clients: ClientSource,
        bot_id: str,
        bot_name: str = "trustboard",
        *,
        call_timeout: float = 15.0,
    ) -> None:
        self.clients = clients
        self.bot = ChannelAccount(id=bot_id, name=bot_name)
        self.call_timeout = call_timeout

    @classmethod
    def from_settings(
        cls, settings: Settings, *, call_timeout: float = 15.0, bot_name: str = "trustboard"
    ) -> TeamsSender:
        bot_id = TEAMS_BOT_PREFIX + (settings.app_id or "trustboard-local")
        clients = ConnectorClients(settings, call_timeout)
        return cls(clients, bot_id, bot_name, call_timeout=call_timeout)

    async def send(self, job: Job) -> Sent:
        client = await self.clients(job.service_url)
        parameters = ConversationParameters(
            is_group=False,
            bot=self.bot,
            members=[ChannelAccount(id=job.recipient.id, name=job.recipient.name or None)],
            tenant_id=job.tenant_id,
            channel_data={"tenant": {"id": job.tenant_id}},
        )
        created = await self._call(client.conversations.create_conversation(parameters))
        activity = Activity().deserialize({"type": "message", **job.message})
        posted = await self._call(client.conversations.send_to_conversation(created.id, activity))
        return Sent(conversation_id=created.id, activity_id=posted.id)

    async def _call(self, operation: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(operation, self.call_timeout)
        except TimeoutError as exc:
            raise DeliveryError(None, f"no answer within {self.call_timeout:g} s") from exc
        except HttpOperationError as exc:
            raise as_delivery_error(exc) from exc
        except ClientRequestError as exc:
            # Connection refused or reset, or requests' own read timeout.
            raise DeliveryError(None, f"connection problem: {exc}") from exc


def as_delivery_error(exc: HttpOperationError) -> DeliveryError:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0) or None
    headers = getattr(response, "headers", None) or {}
    code, message = _error_body(response)
    return DeliveryError(
        status,
        message or str(exc),
        code=code,
        retry_after=parse_retry_after(headers.get("Retry-After")),
    )


def _error_body(response: Any) -> tuple[str, str]:
    """The `error.code` (with any subCode) and message of a connector error response."""
    try:
        body = json.loads(getattr(response, "text", "") or "{}")
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
