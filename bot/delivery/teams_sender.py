"""The real sender: a 1:1 chat opened with the trustee (create-conversation, which finds the
chat if there is one), and the message posted into it; or the message posted into a
conversation known already (the board's channel, a chat the outbox remembers).

Both calls go through `Connector` (bot/connector.py: aiohttp, the bot's own token), which posts
the job's JSON as it is. `ConnectorClients` builds botbuilder's connector clients, once per
service URL, for the credentials they carry and for the gateway's occasional calls; both are
built once per process, in bot/root.py.
"""

from __future__ import annotations

from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
)

from ..connector import Connector
from .jobs import Job
from .sender import Sent

TEAMS_BOT_PREFIX = "28:"  # Teams names a bot "28:<app id>"


class ConnectorClients:
    """Connector clients of this app, one per service URL, set up for delivery."""

    def __init__(
        self, authentication: BotFrameworkAuthentication, app_id: str, call_timeout: float
    ) -> None:
        identity = ClaimsIdentity(
            {
                AuthenticationConstants.AUDIENCE_CLAIM: app_id,
                AuthenticationConstants.APP_ID_CLAIM: app_id,
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


# How much longer than the caller's bound requests' own timeout is. The client sends from a thread
# that cannot be cancelled: the caller's bound (asyncio.wait_for in bot/gateway.py) is what ends a
# call, and requests' timeout only ends the thread left behind. Were the two equal, whichever timer
# fired first would say what happened ("no answer within 15 s", or a read timeout as a connection
# problem), depending on the machine's load.
THREAD_MARGIN = 2.0  # seconds


def configure(client: ConnectorClient, call_timeout: float) -> None:
    """No retries inside the client (the worker owns them), and requests' own timeout a little
    past the caller's, so that an abandoned call's thread ends too."""
    client.config.retry_policy.retries = 0
    client.config.connection.timeout = call_timeout + THREAD_MARGIN


class TeamsSender:
    def __init__(self, connector: Connector, bot_id: str, bot_name: str = "trustboard") -> None:
        self.connector = connector
        self.bot = {"id": bot_id, "name": bot_name}

    async def open_chat(self, job: Job) -> str:
        member = {"id": job.recipient.id}
        if job.recipient.name:
            member["name"] = job.recipient.name
        return await self.connector.personal_chat(job.service_url, self.bot, job.tenant_id, member)

    async def send(self, job: Job, chat: str = "") -> Sent:
        message = {"type": "message", **job.message}
        # A channel the bot is in, or a chat opened already: no chat to open.
        conversation = job.conversation or chat or await self.open_chat(job)
        posted = await self.connector.send(job.service_url, conversation, message)
        return Sent(conversation_id=conversation, activity_id=posted)
