"""The Bot Connector REST calls that carry the bot's messages, on one aiohttp session.

botbuilder's connector client runs `requests` in a thread and serialises every Activity, card
and all, through msrest: most of the bot's CPU for a message (py-spy, bench/delivery.py and
bench/turns.py). The bot's messages are plain JSON already, so they are posted as they are, with
the bearer token of the same credentials botbuilder would use (`Tokens`). Every call has its own
timeout; nothing is retried here (the delivery worker retries; a turn's reply is not retried).
A failure is a `TeamsError` (dialogs/boards/ports.py, the one Teams error type) with the HTTP
status (None without an answer), the service's error code and Retry-After.

The gateway (bot/gateway.py) keeps botbuilder's client for its occasional calls: the roster,
posting in a channel, updating a board's card.
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

from dialogs.boards.ports import TeamsError

from .delivery.sender import parse_retry_after

ClientSource = Callable[[str], Awaitable[ConnectorClient]]
TokenSource = Callable[[str], Awaitable[str | None]]


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
            raise TeamsError(None, f"unusable service URL: {exc}") from exc
        credentials = client.config.credentials
        token = None
        if getattr(credentials, "microsoft_app_id", None):  # none: an unauthenticated local run
            try:
                token = await asyncio.to_thread(credentials.get_access_token)
            except Exception as exc:  # MSAL's own errors, or no answer from Entra ID
                raise TeamsError(None, f"no token for the bot: {type(exc).__name__}") from exc
        self._held[service_url] = (token, now)
        return token


class Connector:
    def __init__(self, tokens: TokenSource, *, call_timeout: float = 15.0) -> None:
        self.tokens = tokens
        self.call_timeout = call_timeout
        self._session: aiohttp.ClientSession | None = None

    async def create_conversation(self, service_url: str, parameters: dict[str, Any]) -> str:
        """A conversation (for the bot, a 1:1 chat found or created); returns its id."""
        created = await self._call("POST", service_url, "v3/conversations", parameters)
        conversation = created.get("id")
        if not isinstance(conversation, str) or not conversation:
            raise TeamsError(None, "Teams created no conversation")
        return conversation

    async def personal_chat(
        self, service_url: str, bot: dict[str, str], tenant: str, member: dict[str, str]
    ) -> str:
        """The bot's 1:1 chat with `member` ({"id", optional "name"}): Teams creates it, or
        finds the one that exists; returns its id."""
        parameters = {
            "isGroup": False,
            "bot": bot,
            "members": [member],
            "tenantID": tenant,  # spelt as botbuilder's schema sends it
            # Teams reads the tenant from channel data; the schema's tenantId alone is not enough.
            "channelData": {"tenant": {"id": tenant}},
        }
        return await self.create_conversation(service_url, parameters)

    async def send(
        self,
        service_url: str,
        conversation: str,
        activity: dict[str, Any],
        reply_to: str | None = None,
    ) -> str:
        """Posts a message (in reply to `reply_to`, as botbuilder does in a turn); its id."""
        path = f"v3/conversations/{_part(conversation)}/activities"
        if reply_to:
            path += f"/{_part(reply_to)}"
        posted = await self._call("POST", service_url, path, activity)
        return str(posted.get("id") or "")

    async def update(
        self, service_url: str, conversation: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        path = f"v3/conversations/{_part(conversation)}/activities/{_part(activity_id)}"
        await self._call("PUT", service_url, path, {**activity, "id": activity_id})

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _call(
        self, method: str, service_url: str, path: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        token = await self.tokens(service_url)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = service_url.rstrip("/") + "/" + path
        try:
            async with asyncio.timeout(self.call_timeout):
                request = self._client().request(
                    method, url, data=json.dumps(body), headers=headers
                )
                async with request as answer:
                    status, text = answer.status, await answer.text()
                    retry_after = answer.headers.get("Retry-After")
        except TimeoutError as exc:
            raise TeamsError(None, f"no answer within {self.call_timeout:g} s") from exc
        except aiohttp.ClientError as exc:
            raise TeamsError(None, f"connection problem: {type(exc).__name__}: {exc}") from exc
        if not 200 <= status < 300:
            raise teams_error(status, text, retry_after)
        try:
            found = json.loads(text) if text else {}
        except ValueError as exc:
            raise TeamsError(None, f"HTTP {status} with a body that is not JSON") from exc
        return found if isinstance(found, dict) else {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.call_timeout)
            # trust_env: HTTPS_PROXY and NO_PROXY are honoured, as botbuilder's requests did.
            self._session = aiohttp.ClientSession(timeout=timeout, trust_env=True)
        return self._session


def _part(value: str) -> str:
    # Teams ids hold ':', ';' and '@' (a channel thread: "19:…@thread.tacv2;messageid=…").
    return quote(value, safe="")


def teams_error(
    status: int | None, text: str, retry_after: str | None, fallback: str = ""
) -> TeamsError:
    """The status, the service's error code and message, and Retry-After of a failed call."""
    code, message = _error_body(text)
    retry = parse_retry_after(retry_after)
    return TeamsError(status, message or fallback, code=code, retry_after=retry)


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
