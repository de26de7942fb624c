"""The aiohttp app: `POST /api/messages` for the Bot Framework, `GET /healthz` for operators.

Requests are checked here before the SDK sees them, because its own path answers 500 for
malformed input: bad JSON, the wrong content type, an oversized body or a missing field get
400/413/415, a bad token 401, each with a short JSON explanation and no stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dialogs.boards.desk import Desk
from dialogs.boards.ports import Teams
from dialogs.store import Store, StoreUnavailable
from frameworks import Framework

from . import activity as inbound
from . import health, store_mode
from .background import Background
from .cluster_health import cluster_health
from .config import Settings
from .delivery import Sender, Timing
from .logs import failure
from .root import build
from .teams import Encoded
from .turns import TrustboardBot

log = logging.getLogger("trustboard.http")

MAX_BODY = 256 * 1024  # a Teams activity is far smaller; anything bigger is refused with 413
BOT = web.AppKey("bot", TrustboardBot)
ADAPTER = web.AppKey("adapter", object)
STORE = web.AppKey("store", Store)
SETTINGS = web.AppKey("settings", Settings)
DESK = web.AppKey("desk", Desk)
BACKGROUND = web.AppKey("background", Background)


def problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def messages(request: web.Request) -> web.Response:
    if request.content_type != "application/json":
        return problem(415, "Send the activity as application/json.")
    try:
        raw = await request.json()
    except ValueError:
        return problem(400, "The body is not valid JSON.")
    reason = inbound.problem(raw)
    if reason:
        return problem(400, reason)
    try:
        activity = inbound.read(raw)
    except inbound.Unreadable as exc:
        return problem(400, str(exc))
    bot = request.app[BOT]
    adapter: Any = request.app[ADAPTER]
    try:
        response = await adapter.process_activity(
            request.headers.get("Authorization", ""), activity, lambda ctx: bot.on_turn(ctx, raw)
        )
    except PermissionError:
        return problem(401, "The request is not authorised.")
    if response is None:
        return web.Response(status=200)
    if response.body is None:
        return web.Response(status=int(response.status))
    if isinstance(response.body, Encoded):
        return web.Response(
            text=response.body, status=int(response.status), content_type="application/json"
        )
    return web.json_response(response.body, status=int(response.status))


async def link(request: web.Request) -> web.StreamResponse:
    """A signed, expiring link: a board's data for its clerk, or a round's board paper and
    ratings for its chair and clerks (see dialogs/boards/links.py)."""
    found = await request.app[DESK].rounds.download(request.match_info["token"])
    if found.missing:
        return problem(404, found.missing)
    if found.filename is None:
        return web.Response(text=found.body, content_type=found.content_type, headers=PRIVATE)
    return _download(found.body, found.content_type, found.filename)


PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


def _download(text: str, content_type: str, filename: str) -> web.Response:
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'}
    return web.Response(text=text, content_type=content_type, headers=headers)


async def healthz(request: web.Request) -> web.Response:
    """200 only if the store accepts a write now; 503 with the reason if it is full, read-only
    or unreachable. Either way, the background loops and when each last made progress."""
    settings, store = request.app[SETTINGS], request.app[STORE]
    if settings.redis_cluster:
        kind = "redis cluster"
    else:
        kind = "redis" if settings.redis_url else "embedded"
    found = await _probe(settings, store)
    body = health.report(kind, found, request.app[BACKGROUND].loops())
    return web.json_response(body, status=200 if found.ok else 503)


async def _probe(settings: Settings, store: Store) -> health.StoreHealth:
    """The store's health. A probe that fails in a way its own checks do not expect (once, mid
    failover in the cluster tests: the cause went unlogged then) is a store that cannot be
    probed, never a 500 without a body: an orchestrator reads this body to decide whether to
    send turns here, and an operator its reason."""
    try:
        if settings.redis_cluster:
            return await cluster_health(store.redis, store.keys, health.process_name())
        return await health.store_health(store.redis, store.keys.health(health.process_name()))
    except Exception as exc:
        log.error("the store's health could not be probed: %s", failure(exc))
        return health.StoreHealth(health.UNREACHABLE)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status == 413:
            return problem(413, f"The request is larger than {MAX_BODY // 1024} KB.")
        raise
    except StoreUnavailable:
        log.warning("store unavailable on %s %s", request.method, _route(request))
        return problem(503, "The bot's storage cannot be reached just now: try again shortly.")
    except Exception as exc:
        # The route, not the path: a link's path is its token. Type and place, not the message.
        log.error("unhandled error on %s %s: %s", request.method, _route(request), failure(exc))
        return problem(500, "Something went wrong on our side; nothing you saved is affected.")


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "an unknown route"


def create_app(
    settings: Settings,
    frameworks: dict[str, Framework] | None = None,
    *,
    teams: Teams | None = None,
    sender: Sender | None = None,
    timing: Timing | None = None,
) -> web.Application:
    """The HTTP routes in front of one process's parts, which bot/root.py builds."""
    root = build(settings, frameworks, teams=teams, sender=sender, timing=timing)
    app = web.Application(client_max_size=MAX_BODY, middlewares=[errors])
    app[SETTINGS] = settings
    app[STORE] = root.store
    app[DESK] = root.desk
    app[BOT] = root.bot
    app[ADAPTER] = root.adapter
    app[BACKGROUND] = root.background
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/links/{token}", link)
    app.on_startup.append(lambda _: store_mode.check(settings))  # before anything uses Redis
    if root.desk.links is None:
        app.on_startup.append(_no_links)
    app.on_cleanup.append(lambda _: root.close())
    root.background.attach(app)  # stops before root.close, which closes what it uses
    return app


async def _no_links(_: web.Application) -> None:
    log.warning("PUBLIC_URL is not set: clerks cannot download their board's data")
