"""The aiohttp app: `POST /api/messages` for the Bot Framework, `GET /healthz` for operators.

Requests are checked here before the SDK sees them, because its own path answers 500 for
malformed input: bad JSON, the wrong content type, an oversized body or a missing field get
400/413/415, a bad token 401, each with a short JSON explanation and no stack trace.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web
from botbuilder.schema import Activity
from redis.exceptions import RedisError

from dialogs.boards import data as board_data
from dialogs.boards import papers, round_steps
from dialogs.boards.agenda import Agenda
from dialogs.boards.context import RoundRules
from dialogs.boards.desk import Desk
from dialogs.boards.links import Links
from dialogs.boards.ports import Teams
from dialogs.boards.store import BoardStore
from dialogs.engine import Walkthrough
from dialogs.store import Keys, Store, connect
from dialogs.store.keys import split_job_id
from frameworks import Framework, load_all

from .adapter import build_adapter
from .background import Background
from .config import Settings
from .connector import Connector, Tokens
from .delivery import JobStatus, Outbox, Sender, Timing
from .delivery.teams_sender import ConnectorClients
from .gateway import TeamsGateway
from .mailer import OutboxMailer
from .turns import TrustboardBot

log = logging.getLogger("trustboard.http")

MAX_BODY = 256 * 1024  # a Teams activity is far smaller; anything bigger is refused with 413
NEEDS_CONVERSATION = {"message", "invoke", "conversationUpdate"}
BOT = web.AppKey("bot", TrustboardBot)
ADAPTER = web.AppKey("adapter", object)
STORE = web.AppKey("store", Store)
SETTINGS = web.AppKey("settings", Settings)
DESK = web.AppKey("desk", Desk)
BACKGROUND = web.AppKey("background", Background)


def problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def activity_problem(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return "The activity must be a JSON object."
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        return "The activity has no 'type'."
    if kind not in NEEDS_CONVERSATION:
        return None
    service_url = raw.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("http://", "https://")):
        return "The activity has no valid 'serviceUrl'."
    for field in ("conversation", "from", "recipient"):
        part = raw.get(field)
        if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"]:
            return f"The activity has no '{field}.id'."
    for field in ("text", "replyToId", "name"):
        if raw.get(field) is not None and not isinstance(raw[field], str):
            return f"The activity's '{field}' must be a string."
    return None


async def messages(request: web.Request) -> web.Response:
    if request.content_type != "application/json":
        return problem(415, "Send the activity as application/json.")
    try:
        raw = await request.json()
    except ValueError:
        return problem(400, "The body is not valid JSON.")
    reason = activity_problem(raw)
    if reason:
        return problem(400, reason)
    try:
        activity = Activity().deserialize(raw)
    except Exception:
        return problem(400, "The activity could not be read.")
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
    return web.json_response(response.body, status=int(response.status))


async def link(request: web.Request) -> web.StreamResponse:
    """A signed, expiring link: a board's data for its clerk, or a round's board paper and
    ratings for its chair and clerks (see dialogs/boards/links.py)."""
    desk = request.app[DESK]
    grant = desk.links.open(request.match_info["token"]) if desk.links else None
    if grant is None:
        return problem(404, "This link has expired or is not valid: ask for a new one in Teams.")
    board = await desk.boards.board(grant.tenant, grant.board)
    rnd = await desk.boards.round(grant.tenant, grant.board, grant.round) if grant.round else None
    if board is None or (grant.kind != "export" and (rnd is None or rnd.is_open)):
        return problem(404, "There is nothing here any more: the board's data may be deleted.")
    if grant.kind == "export":
        return _download(
            json.dumps(await board_data.export(desk, board), ensure_ascii=False, indent=1),
            "application/json",
            "trustboard-board-data.json",
        )
    assert rnd is not None
    summary = await round_steps.summary_of(desk, board, rnd, attributed=False)
    if grant.kind == "paper":
        html = papers.paper_html(board, rnd, summary)
        return web.Response(text=html, content_type="text/html", headers=PRIVATE)
    ratings = await round_steps.ratings_of(desk, board, rnd)
    csv_text = papers.ratings_csv(rnd, summary, ratings)
    return _download(csv_text, "text/csv", f"trustboard-ratings-{rnd.id}.csv")


PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


def _download(text: str, content_type: str, filename: str) -> web.Response:
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'}
    return web.Response(text=text, content_type=content_type, headers=headers)


async def healthz(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    kind = "redis" if settings.redis_url else "embedded"
    if await request.app[STORE].ping():
        return web.json_response({"status": "ok", "store": kind})
    return web.json_response({"status": "unavailable", "store": kind}, status=503)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status == 413:
            return problem(413, f"The request is larger than {MAX_BODY // 1024} KB.")
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Something went wrong on our side; nothing you saved is affected.")


def create_app(
    settings: Settings,
    frameworks: dict[str, Framework] | None = None,
    *,
    teams: Teams | None = None,
    sender: Sender | None = None,
    timing: Timing | None = None,
) -> web.Application:
    frameworks = frameworks or load_all()
    store = Store(connect(settings.redis_url), Keys(settings.key_prefix))
    desk = Desk(
        BoardStore(store.redis, settings.key_prefix),
        store,
        frameworks,
        teams or TeamsGateway.from_settings(settings),
        OutboxMailer(Outbox(store.redis, settings.key_prefix)),
        Agenda(store.redis, settings.key_prefix),
        settings.card_actions,
        RoundRules(
            reminder_before=timedelta(hours=settings.round_reminder_hours),
            timezone=settings.round_timezone,
            retention_days=settings.round_retention_days or None,
        ),
    )
    engine = Walkthrough(store, frameworks, settings.card_actions, rounds=desk)
    app = web.Application(client_max_size=MAX_BODY, middlewares=[errors])
    app[SETTINGS] = settings
    app[STORE] = store
    app[DESK] = desk
    replies = Connector(
        Tokens(ConnectorClients(settings, REPLY_TIMEOUT)), call_timeout=REPLY_TIMEOUT
    )
    app[BOT] = TrustboardBot(engine, store, replies, desk=desk)
    app[ADAPTER] = build_adapter(settings)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/links/{token}", link)
    app.on_startup.append(lambda _: _set_up_links(settings, desk))

    async def close(_: web.Application) -> None:
        await desk.settle()
        await replies.close()
        if isinstance(desk.teams, TeamsGateway):
            await desk.teams.close()
        await store.close()

    app.on_cleanup.append(close)
    background = Background(
        settings,
        store.redis,
        settings.key_prefix,
        on_outcome=lambda status: _delivered(desk, status),
        on_due=desk.due,
        sender=sender,
        timing=timing or delivery_timing(settings),
        agenda_every=AGENDA_EVERY,
    )
    background.attach(app)
    app[BACKGROUND] = background
    return app


AGENDA_EVERY = 1.0  # seconds between looks for due reminders and deadlines
REPLY_TIMEOUT = 15.0  # seconds for one reply of a turn to be accepted by the connector


def delivery_timing(settings: Settings) -> Timing:
    """How long one send may take, and how long a dead process's unfinished sends wait before
    another process takes them (DELIVERY_ATTEMPT_TIMEOUT, DELIVERY_CLAIM_IDLE)."""
    attempt, idle = settings.delivery_attempt_timeout, settings.delivery_claim_idle
    return Timing(
        attempt_timeout=attempt,
        claim_idle=idle,
        claim_every=min(5.0, idle / 4),
        block=min(1.0, idle / 4),
        lease_margin=min(5.0, attempt / 4),
    )


async def _set_up_links(settings: Settings, desk: Desk) -> None:
    """Download links need where the bot is reached and a secret every process shares."""
    base = settings.public_url or (
        f"http://localhost:{settings.port}" if settings.local_mode else ""
    )
    if not base:
        log.warning("PUBLIC_URL is not set: clerks cannot download their board's data")
        return
    secret = settings.link_secret
    if not secret:
        key = Keys(settings.key_prefix).link_secret()
        try:
            await desk.store.redis.set(key, secrets.token_hex(32), nx=True)
            secret = await desk.store.redis.get(key) or ""
        except (RedisError, OSError) as exc:
            log.warning("no link secret (Redis: %s); download links are off for now", exc)
            return
    desk.links = Links(secret.encode(), base)


async def _delivered(desk: Desk, status: JobStatus) -> None:
    tenant, board, _ = split_job_id(status.job_id)
    await desk.delivered(tenant, board, status.round_id, status.state)
