"""`TeamsGateway`: the board logic's `Teams` port, on the Bot Connector REST API.

The board logic (dialogs/boards) asks for plain things: the team's roster, a card posted to a
channel, a card updated, a personal message. Messages go through our own `Connector` (aiohttp,
bot/connector.py), as turn replies and delivery do; the roster and the team's name through
botbuilder 4.17.1's client (`ConnectorClients`: built once per service URL with the bot's
credentials, no retries of their own, requests' own timeout). Every failure becomes a
`TeamsError` with the HTTP status (None when there was no answer), the service's error code and
any Retry-After, so the board logic can tell a clerk what happened without knowing any Bot
Framework type.

Retries are the caller's business: a roster or a channel post is what a clerk asked for just now,
and telling them promptly beats retrying behind their back. Personal messages in bulk go through
the outbox (bot/delivery), which retries and paces.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Iterable
from typing import TypeVar

from botbuilder.schema import ChannelAccount
from botframework.connector.aio import ConnectorClient
from botframework.connector.models import ErrorResponseException
from msrest.exceptions import (
    ClientException,
    ClientRequestError,
    DeserializationError,
    HttpOperationError,
)

from dialogs.boards.ports import Posted, RosterMember, TeamsError
from dialogs.messages import Card, Text

from . import teams
from .connector import ClientSource, Connector, teams_error

T = TypeVar("T")

PAGE_SIZE = 100
MAX_PAGES = 1000  # 100,000 members: far beyond any board's team; stops a token that never ends
NO_PAGED_ROUTE = frozenset({404, 405, 501})  # emulators without /pagedmembers answer these


class TeamsGateway:
    def __init__(
        self,
        clients: ClientSource,
        connector: Connector,
        bot_id: str,
        *,
        bot_name: str = "trustboard",
        call_timeout: float = 15.0,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.clients = clients  # botbuilder's, for the roster and the team's name
        self.connector = connector  # our own, for messages (bot/connector.py)
        self.bot = {"id": bot_id, "name": bot_name}
        self.call_timeout = call_timeout
        self.page_size = page_size  # a suggestion to Teams, which may send fewer

    # -- the Teams port ------------------------------------------------------------------------

    async def roster(self, service_url: str, team_id: str) -> list[RosterMember]:
        """Every member of the team: /pagedmembers page by page, or /members where the paged
        route does not exist (some emulators)."""
        client = await self._client(service_url)
        try:
            accounts = await self._paged_members(client, team_id)
        except TeamsError as exc:
            if exc.status not in NO_PAGED_ROUTE:
                raise
            conversations = client.conversations
            accounts = await self._call(conversations.get_conversation_members(team_id)) or []
        return _members(accounts)

    async def post(self, service_url: str, conversation: str, message: Card | Text) -> Posted:
        posted = await self.connector.send(service_url, conversation, teams.message(message))
        if not posted:
            raise TeamsError(None, "Teams accepted the message but returned no activity id")
        return Posted(conversation, posted)

    async def update(self, service_url: str, conversation: str, activity: str, card: Card) -> None:
        await self.connector.update(service_url, conversation, activity, teams.message(card))

    async def personal(
        self, service_url: str, tenant: str, teams_id: str, message: Card | Text
    ) -> Posted:
        """Create (or, as Teams does for an existing 1:1 chat, find) the chat, then post in it."""
        chat = await self.connector.personal_chat(service_url, self.bot, tenant, {"id": teams_id})
        return await self.post(service_url, chat, message)

    async def team_name(self, service_url: str, team_id: str) -> str:
        """The team's name, which Teams leaves out of most activities (GET /v3/teams/{id})."""
        client = await self._client(service_url)
        return await self._call(_team_name(client, team_id))

    # -- plumbing ------------------------------------------------------------------------------

    async def _paged_members(self, client: ConnectorClient, team_id: str) -> list[ChannelAccount]:
        accounts: list[ChannelAccount] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = await self._call(
                client.conversations.get_conversation_paged_members(
                    team_id, page_size=self.page_size, continuation_token=token
                )
            )
            accounts += getattr(page, "members", None) or []
            token = getattr(page, "continuation_token", None) or None
            if token is None:
                return accounts
        # A partial roster would silently leave trustees out of a board: say so instead.
        raise TeamsError(None, f"the roster did not end after {MAX_PAGES} pages")

    async def _client(self, service_url: str) -> ConnectorClient:
        try:
            client = await self._call(self.clients(service_url))
        except ValueError as exc:
            raise TeamsError(None, f"unusable service URL: {exc}") from exc
        answer_every_status(client)
        return client

    async def _call(self, operation: Awaitable[T]) -> T:
        """One connector call, bounded by its own timeout, failures as TeamsError."""
        try:
            return await asyncio.wait_for(operation, self.call_timeout)
        except TimeoutError as exc:
            raise TeamsError(None, f"no answer within {self.call_timeout:g} s") from exc
        except HttpOperationError as exc:
            raise _from_msrest(exc) from exc
        except ClientRequestError as exc:
            # Connection refused or reset, or requests' own read timeout.
            raise TeamsError(None, f"connection problem: {exc}") from exc
        except (ClientException, DeserializationError) as exc:
            # Getting the bot's token failed, or the answer could not be read.
            raise TeamsError(None, f"{type(exc).__name__}: {exc}") from exc


def answer_every_status(client: ConnectorClient) -> None:
    """Let 5xx answers to GET and PUT through as answers.

    msrest lists most 5xx statuses for retrying; with retries off (as delivery sets them), urllib3
    then raises "too many 500 error responses" for GET and PUT instead of returning the answer,
    and the status is lost (POSTs are not affected: urllib3 never retries them). Idempotent.
    """
    client.config.retry_policy.policy.status_forcelist = frozenset()


async def _team_name(client: ConnectorClient, team_id: str) -> str:
    # botbuilder's TeamsInfo reads this with its blocking Teams client; the async client's own
    # plumbing, used as its operations use it, keeps the event loop free.
    operations = client.conversations
    team = operations._serialize.url("team_id", team_id, "str")
    url = operations._client.format_url("/v3/teams/{teamId}", teamId=team)
    request = operations._client.get(url, {}, {"Accept": "application/json"})
    response = await operations._client.async_send(request, stream=False)
    if response.status_code != 200:
        raise ErrorResponseException(operations._deserialize, response)
    try:
        details = json.loads(response.text())
    except ValueError as exc:
        raise TeamsError(200, "the team's details were not JSON") from exc
    name = details.get("name") if isinstance(details, dict) else None
    return name.strip() if isinstance(name, str) else ""


def _from_msrest(exc: HttpOperationError) -> TeamsError:
    """botbuilder's connector client's failure, read as our Connector reads an answer."""
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0) or None
    headers = getattr(response, "headers", None) or {}
    text = getattr(response, "text", "") or ""
    return teams_error(status, text, headers.get("Retry-After"), fallback=str(exc))


def _members(accounts: Iterable[ChannelAccount]) -> list[RosterMember]:
    """Roster members in the order Teams gave them; no id, no member; each id once (a later page
    can repeat members of an earlier one)."""
    found: dict[str, RosterMember] = {}
    for account in accounts:
        teams_id = getattr(account, "id", None)
        if not teams_id or teams_id in found:
            continue
        found[teams_id] = RosterMember(
            teams_id=teams_id,
            aad_object_id=getattr(account, "aad_object_id", None) or "",
            name=getattr(account, "name", None) or "",
        )
    return list(found.values())
