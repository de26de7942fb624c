"""A local fake of the Bot Framework connector (the `serviceUrl` Teams gives a bot).

It serves the REST routes the Python SDK calls, answers like the service does, records every call
in order, and can be told to fail the next calls (429 with Retry-After, 403 blocked, …):

    async with FakeConnector() as connector:
        activity = message("hi", service_url=connector.url)
        ...
        await connector.wait_for(1)
        assert connector.texts() == ["Hello"]

Routes it does not know are logged, kept in `unknown` and answered 404, so a wrong URL shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .net import LOOPBACK

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
POSTING = frozenset({"send", "reply"})

Condition = int | Callable[["FakeConnector"], Any]


@dataclass(frozen=True)
class Call:
    """One request as the fake saw it."""

    method: str
    kind: str  # send, reply, update, delete, create, members, member, pagedmembers, team, unknown
    path: str  # as sent, still percent-encoded
    conversation_id: str | None  # decoded; for `create`, the id of the new conversation
    activity_id: str | None  # from the path: the activity replied to, updated or deleted
    body: Any  # the JSON body, None if there was none
    status: int  # what the fake answered
    assigned_id: str | None = None  # the id given to a new activity (send, reply, create)
    member_id: str | None = None  # from the path of a `member` lookup
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case

    @property
    def ok(self) -> bool:
        return self.status < 400


@dataclass
class Failure:
    remaining: int
    status: int
    body: Any
    headers: dict[str, str]
    kinds: frozenset[str] | None  # None: any known route
    member: str | None = None  # only creating a chat with this member (a Teams user id)
    conversation: str | None = None  # only calls on this conversation (a channel, say)
    when: Callable[[Any], bool] | None = None  # only calls whose JSON body this accepts

    def matches(self, kind: str, body: Any, conversation: str | None = None) -> bool:
        if self.remaining <= 0 or (self.kinds is not None and kind not in self.kinds):
            return False
        if self.conversation is not None and conversation != self.conversation:
            return False
        if self.when is not None and not self.when(body):
            return False
        return self.member is None or (kind == "create" and self.member in _member_ids(body))


def _member_ids(body: Any) -> list[str]:
    members = body.get("members") if isinstance(body, dict) else None
    return [m.get("id") for m in members or [] if isinstance(m, dict)]


@dataclass(frozen=True)
class _Route:
    kind: str
    conversation_id: str | None = None
    activity_id: str | None = None
    member_id: str | None = None


def route(method: str, raw_path: str) -> _Route:
    """Which connector operation a request is, from its method and percent-encoded path."""
    parts = [unquote(part) for part in raw_path.split("/")[1:]]
    if method == "GET" and parts[:2] == ["v3", "teams"] and len(parts) == 3 and parts[2]:
        return _Route("team", parts[2])
    if parts[:2] != ["v3", "conversations"] or any(part == "" for part in parts):
        return _Route("unknown")
    rest = parts[2:]
    if not rest:
        return _Route("create" if method == "POST" else "unknown")
    conversation, tail = rest[0], rest[1:]
    kind = {
        ("POST", "activities", 0): "send",
        ("POST", "activities", 1): "reply",
        ("PUT", "activities", 1): "update",
        ("DELETE", "activities", 1): "delete",
        ("GET", "members", 0): "members",
        ("GET", "members", 1): "member",
        ("GET", "pagedmembers", 0): "pagedmembers",
    }.get((method, tail[0] if tail else "", len(tail) - 1), "unknown")
    if kind == "unknown":
        return _Route("unknown")
    second = tail[1] if len(tail) > 1 else None
    if kind == "member":
        return _Route(kind, conversation, member_id=second)
    return _Route(kind, conversation, activity_id=second)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class FakeConnector:
    def __init__(
        self,
        roster: Sequence[Mapping[str, Any]] = (),
        rosters: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.roster: list[dict[str, Any]] = [dict(m) for m in roster]
        self.rosters: dict[str, list[dict[str, Any]]] = {
            conversation: [dict(m) for m in members]
            for conversation, members in (rosters or {}).items()
        }
        self.calls: list[Call] = []
        self.unknown: list[str] = []  # "METHOD /path" of every request to a route it does not know
        self.failures: list[Failure] = []
        self.team_names: dict[str, str] = {}  # GET /v3/teams/{id}; unknown teams answer 404
        self._ids = itertools.count(1_700_000_000_000 + secrets.randbelow(10**11))
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The serviceUrl to put in activities, with the trailing slash Teams uses."""
        return f"http://{LOOPBACK}:{self.port}/"

    async def start(self) -> FakeConnector:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((LOOPBACK, 0))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeConnector:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- configuration -------------------------------------------------------------------------

    def set_roster(
        self, members: Sequence[Mapping[str, Any]], conversation_id: str | None = None
    ) -> None:
        """The members returned by /members and /pagedmembers (of one conversation, or of all)."""
        copied = [dict(m) for m in members]
        if conversation_id is None:
            self.roster = copied
        else:
            self.rosters[conversation_id] = copied

    def fail_next(
        self,
        count: int,
        status: int,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        kinds: Sequence[str] | None = None,
        member: str | None = None,
        conversation: str | None = None,
        when: Callable[[Any], bool] | None = None,
    ) -> Failure:
        """Answer the next `count` calls (of `kinds`, or any known route; or only creating a chat
        with `member`; or only on `conversation`; or only those whose body `when` accepts) with
        `status`. Returns the failure: set its `remaining` to 0 to end it early."""
        if body is None:
            body = error_body(f"Http{status}", f"Injected failure {status}.")
        chosen = frozenset(kinds) if kinds is not None else None
        failure = Failure(
            count, status, body, dict(headers or {}), chosen, member, conversation, when
        )
        self.failures.append(failure)
        return failure

    def throttle(
        self,
        count: int = 1,
        retry_after: float = 1,
        kinds: Sequence[str] | None = None,
        **only: Any,
    ) -> Failure:
        """429 Too Many Requests with a Retry-After header (in seconds), as Teams throttles;
        `only` narrows it as for `fail_next` (member, conversation, when)."""
        body = error_body("Throttled", "Too many requests. Retry after the given delay.")
        headers = {"Retry-After": f"{retry_after:g}"}
        return self.fail_next(count, 429, body=body, headers=headers, kinds=kinds, **only)

    def block(
        self, count: int = 1, kinds: Sequence[str] | None = None, member: str | None = None
    ) -> None:
        """403 as Teams answers when the user blocked (or uninstalled) the bot."""
        body = error_body(
            "ConversationBlockedByUser", "User blocked the conversation with the bot."
        )
        self.fail_next(count, 403, body=body, kinds=kinds, member=member)

    def clear(self) -> None:
        """Forget the recorded calls (failures still queued stay queued)."""
        self.calls.clear()
        self.unknown.clear()

    # -- what was recorded ---------------------------------------------------------------------

    def calls_of(self, *kinds: str, conversation_id: str | None = None) -> list[Call]:
        return [
            call
            for call in self.calls
            if (not kinds or call.kind in kinds)
            and (conversation_id is None or call.conversation_id == conversation_id)
        ]

    def sent(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """The activities posted successfully (send, reply, create with an activity), in order.

        Each is the body the bot sent, with "id" set to the id this fake gave it.
        """
        posted = []
        for call in self.calls_of("send", "reply", "create", conversation_id=conversation_id):
            activity = call.body
            if call.kind == "create":
                activity = call.body.get("activity") if isinstance(call.body, dict) else None
            if call.ok and isinstance(activity, dict):
                posted.append({**activity, "id": call.assigned_id})
        return posted

    def updates(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """The successful updates (PUT), in order, each with "id" set to the activity updated."""
        return [
            {**call.body, "id": call.activity_id}
            for call in self.calls_of("update", conversation_id=conversation_id)
            if call.ok and isinstance(call.body, dict)
        ]

    def activity(self, activity_id: str) -> dict[str, Any] | None:
        """The current face of one activity: as posted, or as last updated."""
        versions = [a for a in [*self.sent(), *self.updates()] if a.get("id") == activity_id]
        return versions[-1] if versions else None

    def cards(
        self, conversation_id: str | None = None, *, include_updates: bool = False
    ) -> list[dict[str, Any]]:
        """The Adaptive Card contents of the posted activities (and of updates if asked)."""
        activities = self.sent(conversation_id)
        if include_updates:
            activities += self.updates(conversation_id)
        return [card for activity in activities for card in adaptive_cards(activity)]

    def texts(self, conversation_id: str | None = None) -> list[str]:
        """The non-empty texts of the posted activities, in order."""
        return [a["text"] for a in self.sent(conversation_id) if a.get("text")]

    async def wait_for(self, condition: Condition, timeout: float = 10) -> Any:
        """Wait until `condition` holds: an int is a number of posted activities (returns them);
        a callable gets this connector and its first truthy result is returned."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            done, result = self._check(condition)
            if done:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting; {self.summary()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def _check(self, condition: Condition) -> tuple[bool, Any]:
        if isinstance(condition, int):
            sent = self.sent()
            return len(sent) >= condition, sent
        result = condition(self)
        return bool(result), result

    def summary(self) -> str:
        lines = [f"{c.method} {c.kind} {c.conversation_id} -> {c.status}" for c in self.calls]
        return f"{len(self.calls)} calls:\n" + "\n".join(lines)

    # -- serving -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        target = route(request.method, request.rel_url.raw_path)
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._record(request, target, None, 400, error_body("BadSyntax", "Not JSON"))
        if target.kind == "unknown":
            self.unknown.append(f"{request.method} {request.rel_url}")
            log.warning("fake connector: unknown route %s %s", request.method, request.rel_url)
            return self._record(request, target, body, 404, error_body("NotFound", "No route"))
        failure = self._take_failure(target.kind, body, target.conversation_id)
        if failure is not None:
            return self._record(
                request, target, body, failure.status, failure.body, headers=failure.headers
            )
        return self._serve(request, target, body)

    def _take_failure(
        self, kind: str, body: Any, conversation: str | None = None
    ) -> Failure | None:
        for failure in self.failures:
            if failure.matches(kind, body, conversation):
                failure.remaining -= 1
                return failure
        return None

    def _serve(self, request: web.Request, target: _Route, body: Any) -> web.Response:
        if target.kind in POSTING:
            new_id = self._new_id()
            return self._record(request, target, body, 201, {"id": new_id}, assigned_id=new_id)
        if target.kind == "update":
            return self._record(request, target, body, 200, {"id": target.activity_id})
        if target.kind == "delete":
            return self._record(request, target, body, 200, None)
        if target.kind == "create":
            return self._create(request, target, body)
        if target.kind == "team":
            return self._team(request, target, body)
        return self._members(request, target, body)

    def _create(self, request: web.Request, target: _Route, body: Any) -> web.Response:
        group = isinstance(body, dict) and bool(body.get("isGroup"))
        conversation = f"19:{secrets.token_hex(16)}@thread.v2" if group else self._personal_id()
        new_id = self._new_id()
        answer = {"id": conversation, "activityId": new_id, "serviceUrl": self.url}
        created = _Route("create", conversation_id=conversation)
        return self._record(request, created, body, 201, answer, assigned_id=new_id)

    def _team(self, request: web.Request, target: _Route, body: Any) -> web.Response:
        team = target.conversation_id or ""
        if team not in self.team_names:
            missing = error_body("NotFound", "Team not found.")
            return self._record(request, target, body, 404, missing)
        details = {"id": team, "name": self.team_names[team], "aadGroupId": "a-group"}
        return self._record(request, target, body, 200, details)

    def _members(self, request: web.Request, target: _Route, body: Any) -> web.Response:
        members = self.rosters.get(target.conversation_id or "", self.roster)
        if target.kind == "members":
            return self._record(request, target, body, 200, members)
        if target.kind == "member":
            found = [m for m in members if target.member_id in (m.get("id"), m.get("aadObjectId"))]
            if found:
                return self._record(request, target, body, 200, found[0])
            missing = error_body("MemberNotFoundInConversation", "Member not found.")
            return self._record(request, target, body, 404, missing)
        return self._record(request, target, body, 200, _page(members, request.query))

    def _record(
        self,
        request: web.Request,
        target: _Route,
        body: Any,
        status: int,
        answer: Any,
        *,
        assigned_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        call = Call(
            method=request.method,
            kind=target.kind,
            path=request.rel_url.raw_path,
            conversation_id=target.conversation_id,
            activity_id=target.activity_id,
            member_id=target.member_id,
            body=body,
            status=status,
            assigned_id=assigned_id,
            query=dict(request.query),
            headers={name.lower(): value for name, value in request.headers.items()},
        )
        self.calls.append(call)
        self._changed.set()
        self._changed = asyncio.Event()
        if answer is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(answer, status=status, headers=headers)

    def _new_id(self) -> str:
        return str(next(self._ids))

    @staticmethod
    def _personal_id() -> str:
        return "a:1" + secrets.token_urlsafe(48)


def _page(members: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    """One page of /pagedmembers; the continuation token is the index of the next member."""
    size = int(query.get("pageSize") or 200)
    start = int(query.get("continuationToken") or 0)
    page: dict[str, Any] = {"members": members[start : start + size]}
    if start + size < len(members):
        page["continuationToken"] = str(start + size)
    return page


def adaptive_cards(activity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Adaptive Card contents among an activity's attachments."""
    attachments = activity.get("attachments") or []
    return [
        a["content"]
        for a in attachments
        if isinstance(a, dict) and a.get("contentType") == ADAPTIVE_CARD and "content" in a
    ]
