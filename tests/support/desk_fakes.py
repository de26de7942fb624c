"""The board desk without HTTP: recording fakes of its Teams and Mailer ports, and `desk_on`.

For tests about the board dialogs themselves, where going through /api/messages and the fake
connector would add nothing (for those, serve the bot with `BotApp`, tests/support/bot_app.py):

    teams, mailer = RecordingTeams(), RecordingMailer()
    desk = desk_on(redis, teams=teams, mailer=mailer)      # the `redis` fixture: both backends
    ...
    assert [m.summary for m in teams.posted_messages()] == [...]
    assert mailer.queued[0].recipients == [("29:ada", "Ada Brook")]

`desk_on` builds the Desk as bot/root.py does (BoardStore, Store, Agenda on one Redis client, the
shipped frameworks, the default round rules), with these fakes in place of TeamsGateway and the
outbox. The fakes answer like Teams and the outbox do and keep every call in order; `fail_next`
makes the next calls to Teams raise a TeamsError, as a refused or unanswered call does.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from dialogs.boards.agenda import Agenda
from dialogs.boards.desk import Desk
from dialogs.boards.links import SharedLinks
from dialogs.boards.ports import Outcome, Posted, RosterMember, TeamsError
from dialogs.boards.rules import RoundRules
from dialogs.boards.store import BoardStore
from dialogs.messages import Card, Text
from dialogs.store import Keys, Store
from frameworks import Framework, load_all


@dataclass(frozen=True)
class TeamsCall:
    kind: str  # roster, post, update, personal, team_name
    service_url: str
    where: str  # the conversation, team or Teams user id the call is about
    message: Card | Text | None = None
    activity: str | None = None  # for update: the activity replaced
    tenant: str | None = None  # for personal


@dataclass
class RecordingTeams:
    """The desk's Teams port: rosters and team names as set, every post given a new id."""

    rosters: dict[str, list[RosterMember]] = field(default_factory=dict)  # by team id
    team_names: dict[str, str] = field(default_factory=dict)
    calls: list[TeamsCall] = field(default_factory=list)
    failures: list[TeamsError] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, *errors: TeamsError) -> None:
        """The next calls raise these, one each, in order."""
        self.failures.extend(errors)

    def _record(self, call: TeamsCall) -> None:
        self.calls.append(call)
        if self.failures:
            raise self.failures.pop(0)

    async def roster(self, service_url: str, team_id: str) -> list[RosterMember]:
        self._record(TeamsCall("roster", service_url, team_id))
        return list(self.rosters.get(team_id, []))

    async def post(self, service_url: str, conversation: str, message: Card | Text) -> Posted:
        self._record(TeamsCall("post", service_url, conversation, message))
        return Posted(conversation, f"activity-{next(self._ids)}")

    async def update(self, service_url: str, conversation: str, activity: str, card: Card) -> None:
        self._record(TeamsCall("update", service_url, conversation, card, activity=activity))

    async def personal(
        self, service_url: str, tenant: str, teams_id: str, message: Card | Text
    ) -> Posted:
        self._record(TeamsCall("personal", service_url, teams_id, message, tenant=tenant))
        return Posted(f"a:1-{teams_id}", f"activity-{next(self._ids)}")

    async def team_name(self, service_url: str, team_id: str) -> str:
        self._record(TeamsCall("team_name", service_url, team_id))
        if team_id not in self.team_names:
            raise TeamsError(404, "Team not found.")
        return self.team_names[team_id]

    def calls_of(self, *kinds: str) -> list[TeamsCall]:
        return [call for call in self.calls if call.kind in kinds]

    def posted_messages(self) -> list[Card | Text]:
        """What was posted or sent personally, in order (updates not included)."""
        return [c.message for c in self.calls_of("post", "personal") if c.message is not None]


@dataclass(frozen=True)
class Queued:
    tenant: str
    board: str
    batch: str
    service_url: str
    recipients: list[tuple[str, str]]
    message: Card | Text
    audience: str = ""
    more: tuple[Card | Text, ...] = ()


@dataclass(frozen=True)
class QueuedPost:
    """A channel post (`channel` set) or a message for a role (`audience`), as queued."""

    tenant: str
    board: str
    batch: str
    messages: list[Card | Text]
    channel: str = ""
    audience: str = ""


@dataclass
class RecordingMailer:
    """The desk's Mailer: queued messages kept in order; a batch and person queued again is a
    no-op, as the outbox makes it; `unreachable_ids` is what `unreachable` answers."""

    queued: list[Queued] = field(default_factory=list)
    posts: list[QueuedPost] = field(default_factory=list)  # to the channel, or to a role
    outcomes_of: dict[str, list[Outcome]] = field(default_factory=dict)  # by batch
    unreachable_ids: dict[str, str] = field(default_factory=dict)
    forgotten: list[tuple[str, str, list[str]]] = field(default_factory=list)

    async def queue(
        self,
        tenant: str,
        board: str,
        batch: str,
        service_url: str,
        recipients: list[tuple[str, str]],
        message: Card | Text,
        *,
        audience: str,
        more: Sequence[Card | Text] = (),
    ) -> None:
        mine = [q for q in self.queued if (q.tenant, q.board) == (tenant, board)]
        seen = {(q.batch, teams_id) for q in mine for teams_id, _ in q.recipients}
        fresh = [r for r in recipients if (batch, r[0]) not in seen]
        queued = Queued(tenant, board, batch, service_url, fresh, message, audience, tuple(more))
        self.queued.append(queued)

    async def post(
        self,
        tenant: str,
        board: str,
        batch: str,
        service_url: str,
        channel: str,
        message: Card | Text,
    ) -> None:
        self._once(QueuedPost(tenant, board, batch, [message], channel=channel))

    async def to_role(
        self,
        tenant: str,
        board: str,
        batch: str,
        service_url: str,
        audience: str,
        messages: list[Card | Text],
    ) -> None:
        self._once(QueuedPost(tenant, board, batch, list(messages), audience=audience))

    def _once(self, post: QueuedPost) -> None:
        key = (post.tenant, post.board, post.batch, post.channel, post.audience)
        if all((p.tenant, p.board, p.batch, p.channel, p.audience) != key for p in self.posts):
            self.posts.append(post)

    async def outcomes(self, tenant: str, board: str, batch: str) -> list[Outcome]:
        """What `outcomes_of` says; else each post of the batch, still queued."""
        if batch in self.outcomes_of:
            return list(self.outcomes_of[batch])
        return [
            Outcome("queued", p.channel, channel=bool(p.channel))
            for p in self.posts
            if (p.tenant, p.board, p.batch) == (tenant, board, batch)
        ]

    async def retry_failed(self, tenant: str, board: str, batch: str) -> int:
        return 0

    async def unreachable(self, tenant: str, board: str, batches: list[str]) -> dict[str, str]:
        return dict(self.unreachable_ids)

    async def forget(self, tenant: str, board: str, batches: list[str]) -> None:
        self.forgotten.append((tenant, board, list(batches)))

    def recipients(self) -> list[str]:
        """Every Teams id a message was queued for, in order."""
        return [teams_id for q in self.queued for teams_id, _ in q.recipients]


def desk_on(
    redis: Redis,
    *,
    teams: RecordingTeams | None = None,
    mailer: RecordingMailer | None = None,
    frameworks: Mapping[str, Framework] | None = None,
    prefix: str = "tb",
    mode: str = "execute",
    rules: RoundRules | None = None,
    links: SharedLinks | None = None,
) -> Desk:
    """The board desk on `redis` with recording fakes of its ports (made here if not given; read
    them back as `desk.teams` and `desk.mailer`)."""
    return Desk(
        BoardStore(redis, prefix),
        Store(redis, Keys(prefix)),
        frameworks or load_all(),
        teams or RecordingTeams(),
        mailer or RecordingMailer(),
        Agenda(redis, prefix),
        mode,
        rules or RoundRules(),
        links=links,
    )
