"""The composition root: everything one bot process is made of, built here and only here.

    Settings ─► Bot Framework authentication (the SDK's factory, once)
                 ├─► the adapter (checks incoming tokens; bot/adapter.py)
                 └─► ConnectorClients (botbuilder's, per service URL: the bot's credentials,
                      the roster, the team's name) ─► Tokens ─► the one Connector (aiohttp)
    Connector ─► turn replies (TrustboardBot), the desk's Teams port (TeamsGateway),
                 the delivery workers' sender (TeamsSender)
    Redis ─► Store, BoardStore, Outbox, Agenda, the link secret ─► SharedLinks
    Desk(…, links) ─► Walkthrough ─► TrustboardBot;  Background(outbox, agenda, sender, gate)
    (the gate: the board, and for a learning set's messages the set, asked by the delivery
    workers who may still receive each message)

Microsoft's teams.py `App` is the model: one object owns the HTTP client, the credentials, the
API client and proactive sends. `bot/app.py` only puts HTTP routes in front of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from botframework.connector.auth import BotFrameworkAuthentication

from dialogs.boards.agenda import Agenda
from dialogs.boards.desk import Desk
from dialogs.boards.links import SharedLinks, StoredSecret, fixed_secret
from dialogs.boards.ports import Teams
from dialogs.boards.rules import RoundRules
from dialogs.boards.store import BoardStore
from dialogs.engine import Walkthrough
from dialogs.sets.audience import SetAudience
from dialogs.sets.service import Sets
from dialogs.sets.store import SetStore
from dialogs.state import Who
from dialogs.store import Keys, Store, connect
from dialogs.store.keys import split_job_id
from frameworks import Framework, load_all

from .adapter import bot_authentication, build_adapter
from .background import Background
from .config import Settings
from .connector import Connector, Tokens
from .delivery import JobStatus, Outbox, Sender, Timing
from .delivery.teams_sender import TEAMS_BOT_PREFIX, ConnectorClients, TeamsSender
from .gateway import TeamsGateway
from .mailer import BoardGate, OutboxMailer, outcome
from .turns import TrustboardBot

CALL_TIMEOUT = 15.0  # seconds for one call to the Bot Connector (a reply, a post, a roster page)
AGENDA_EVERY = 1.0  # seconds between looks for due reminders and deadlines


@dataclass(frozen=True)
class TeamsApi:
    """The bot's way to Teams: botbuilder's clients (credentials, roster, team name) and the one
    Connector that carries every message, for the bot `bot_id` ("28:<app id>")."""

    clients: ConnectorClients
    connector: Connector
    bot_id: str
    call_timeout: float

    def gateway(self) -> TeamsGateway:
        return TeamsGateway(
            self.clients, self.connector, self.bot_id, call_timeout=self.call_timeout
        )

    def sender(self) -> TeamsSender:
        return TeamsSender(self.connector, self.bot_id)


def teams_api(
    settings: Settings,
    authentication: BotFrameworkAuthentication | None = None,
    call_timeout: float = CALL_TIMEOUT,
) -> TeamsApi:
    authentication = authentication or bot_authentication(settings)
    clients = ConnectorClients(authentication, settings.app_id, call_timeout)
    connector = Connector(Tokens(clients), call_timeout=call_timeout)
    bot_id = TEAMS_BOT_PREFIX + (settings.app_id or "trustboard-local")
    return TeamsApi(clients, connector, bot_id, call_timeout)


@dataclass
class Root:
    settings: Settings
    store: Store
    api: TeamsApi
    desk: Desk
    bot: TrustboardBot
    adapter: object
    background: Background

    async def close(self) -> None:
        """After the background has stopped: let the desk's last updates finish, then close
        the Connector's session and the Redis client."""
        await self.desk.settle()
        await self.api.connector.close()
        await self.store.close()


def build(
    settings: Settings,
    frameworks: Mapping[str, Framework] | None = None,
    *,
    teams: Teams | None = None,
    sender: Sender | None = None,
    timing: Timing | None = None,
    env: Mapping[str, str] | None = None,
) -> Root:
    """`teams` and `sender` replace the real Teams port and delivery sender (tests); `env` is
    where `BotOpenIdMetadata` is read (default: os.environ)."""
    frameworks = frameworks or load_all()
    authentication = bot_authentication(settings)
    api = teams_api(settings, authentication)
    store = Store(
        connect(
            settings.redis_url,
            cluster=settings.redis_cluster,
            wait_replicas=settings.redis_wait_replicas,
            max_connections=settings.redis_max_connections,
        ),
        Keys(settings.key_prefix),
    )
    redis, prefix = store.redis, settings.key_prefix
    outbox, agenda = Outbox(redis, prefix), Agenda(redis, prefix)
    desk = Desk(
        BoardStore(redis, prefix),
        store,
        frameworks,
        teams or api.gateway(),
        OutboxMailer(outbox),
        agenda,
        settings.card_actions,
        RoundRules(
            reminder_before=timedelta(hours=settings.round_reminder_hours),
            timezone=settings.round_timezone,
            retention_days=settings.round_retention_days or None,
            detached_retention_days=settings.board_detached_retention_days,
        ),
        links=links(settings, store),
    )
    sets = Sets(SetStore(redis, store.keys), desk, desk.rules.retention_days)
    desk.rounds.sets = sets

    async def forget(who: Who, teams_id: str) -> None:
        """`forget me`, beyond their own keys: what they shared with learning sets, and the 1:1
        chat the outbox remembers on each board of the tenant."""
        await sets.forget(who)
        await desk.boards.forget_chats(who.tenant, [teams_id], who.user)

    engine = Walkthrough(
        store,
        frameworks,
        settings.card_actions,
        rounds=sets.walkthrough_rounds(),
        on_forget=forget,
        durable=bool(settings.redis_url),
    )

    async def due(item: str) -> None:
        await (sets.due(item) if sets.owns(item) else desk.due(item))

    async def delivered(status: JobStatus) -> None:
        tenant, board, _ = split_job_id(status.job_id)
        await desk.delivered(tenant, board, status.round_id, outcome(status))

    workers = settings.delivery_workers
    background = Background(
        outbox,
        agenda,
        on_outcome=delivered,
        on_due=due,
        # No workers, no sender: a web-only process sends nothing.
        sender=(sender or api.sender()) if workers > 0 else None,
        gate=BoardGate(SetAudience(desk.boards, sets.store)),
        workers=workers,
        pace=settings.pace(),
        timing=timing or delivery_timing(settings),
        agenda_every=AGENDA_EVERY,
    )
    return Root(
        settings=settings,
        store=store,
        api=api,
        desk=desk,
        bot=TrustboardBot(engine, store, api.connector, desk=desk, sets=sets),
        adapter=build_adapter(settings, authentication, env),
        background=background,
    )


def links(settings: Settings, store: Store) -> SharedLinks | None:
    """Download links need where the bot is reached (PUBLIC_URL, or localhost for a local run)
    and a secret every process shares: LINK_SECRET, or one made once and kept in Redis."""
    base = settings.public_url or (
        f"http://localhost:{settings.port}" if settings.local_mode else ""
    )
    if not base:
        return None
    if settings.link_secret:
        return SharedLinks(fixed_secret(settings.link_secret.encode()), base)
    return SharedLinks(StoredSecret(store.redis, store.keys.link_secret()), base)


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
