"""The real sender: a 1:1 chat created with the trustee, then the message posted into it; or,
for a channel post, the message posted into the channel.

Both calls go through `Connector` (bot/connector.py: aiohttp, the bot's own token), which posts
the job's JSON as it is. `ConnectorClients` builds botbuilder's connector clients, once per
service URL, for the credentials they carry and for the gateway's occasional calls.
"""

from __future__ import annotations

from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticationConfiguration,
    AuthenticationConstants,
    BotFrameworkAuthenticationFactory,
    ClaimsIdentity,
)

from ..adapter import credentials_factory
from ..config import Settings
from ..connector import Connector, Tokens
from .jobs import Job
from .sender import Sent

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
    def __init__(self, connector: Connector, bot_id: str, bot_name: str = "trustboard") -> None:
        self.connector = connector
        self.bot = {"id": bot_id, "name": bot_name}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, call_timeout: float = 15.0, bot_name: str = "trustboard"
    ) -> TeamsSender:
        bot_id = TEAMS_BOT_PREFIX + (settings.app_id or "trustboard-local")
        tokens = Tokens(ConnectorClients(settings, call_timeout))
        return cls(Connector(tokens, call_timeout=call_timeout), bot_id, bot_name)

    async def send(self, job: Job) -> Sent:
        message = {"type": "message", **job.message}
        if job.conversation:  # a channel the bot is in: no chat to open
            posted = await self.connector.send(job.service_url, job.conversation, message)
            return Sent(conversation_id=job.conversation, activity_id=posted)
        member = {"id": job.recipient.id}
        if job.recipient.name:
            member["name"] = job.recipient.name
        conversation = await self.connector.personal_chat(
            job.service_url, self.bot, job.tenant_id, member
        )
        posted = await self.connector.send(job.service_url, conversation, message)
        return Sent(conversation_id=conversation, activity_id=posted)

    async def close(self) -> None:
        await self.connector.close()
