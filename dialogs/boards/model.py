"""A board, its members and its rounds, as plain data (no I/O, no Teams types).

A board is one Microsoft Teams team of a trust board: it is identified by (tenant, team id), and
every key of it in Redis carries both, so one board can never reach another's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..state import round_scope

CLERK = "clerk"
CHAIR = "chair"
TRUSTEE = "trustee"
OTHER = "other"  # in the team but not a trustee: an executive, an observer
ROLES = (CLERK, CHAIR, TRUSTEE, OTHER)
ROLE_NAMES = {
    CLERK: "Clerk",
    CHAIR: "Chair",
    TRUSTEE: "Trustee",
    OTHER: "Not a trustee",
}

OPEN = "open"
CLOSED = "closed"

# Progress of one invited trustee in a round, as the clerk's round card shows it.
RESPONDED = "responded"
IN_PROGRESS = "in_progress"
NOT_STARTED = "not_started"
UNREACHABLE = "unreachable"
PROGRESS_NAMES = {
    RESPONDED: "Responded",
    IN_PROGRESS: "In progress",
    NOT_STARTED: "Not started",
    UNREACHABLE: "Unreachable",
}


@dataclass(frozen=True)
class Member:
    key: str  # what identifies them on a turn (Who.user): the Entra object id, else the Teams id
    teams_id: str  # "29:…", needed to open a 1:1 chat with them
    name: str
    role: str = TRUSTEE

    @property
    def is_trustee(self) -> bool:
        # The chair is a trustee and answers rounds like any other.
        return self.role in (TRUSTEE, CHAIR)


@dataclass(frozen=True)
class Board:
    tenant: str
    id: str  # the Teams team id
    name: str
    service_url: str
    channel: str  # the channel conversation the board's public card lives in
    created: str
    card: str | None = None  # activity id of the board's public card in the channel
    members: tuple[Member, ...] = ()
    # When the bot was removed from the team (ISO 8601 UTC); None while it is in it. A detached
    # board posts nothing more to its channel (see dialogs/boards/membership.py).
    detached: str | None = None

    @property
    def set_up(self) -> bool:
        return any(m.role == CLERK for m in self.members)

    def member(self, key: str) -> Member | None:
        return next((m for m in self.members if m.key == key), None)

    def role(self, key: str) -> str | None:
        member = self.member(key)
        return member.role if member else None

    @property
    def clerks(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.role == CLERK)

    @property
    def chair(self) -> Member | None:
        return next((m for m in self.members if m.role == CHAIR), None)

    @property
    def trustees(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.is_trustee)

    @property
    def chair_and_clerks(self) -> tuple[Member, ...]:
        """Who a learning set's messages and a peer review's results go to."""
        return tuple(m for m in self.members if m.role in (CHAIR, CLERK))


@dataclass(frozen=True)
class CardRef:
    """Where a card we may update later lives."""

    conversation: str
    activity: str


@dataclass(frozen=True)
class Plan:
    """The chair's plan for one priority: what the board will do, the progress it wants."""

    actions: str = ""
    progress: str = ""


@dataclass(frozen=True)
class Round:
    id: str  # 12 hex digits
    framework: str
    version: str
    elements: tuple[int, ...]  # in the framework's order
    deadline: str  # ISO 8601 UTC
    attributed: bool
    min_responses: int
    message: str
    status: str  # open or closed
    opened: str
    opened_by: str  # member key of the clerk
    invited: tuple[Member, ...]  # the trustees at opening, as they were then
    remind_at: str | None = None  # the automatic reminder; None once sent or when too late
    closed: str | None = None
    closed_by: str | None = None  # member key, or "deadline"
    clerk_card: CardRef | None = None
    summary_card: CardRef | None = None  # the summary in the channel
    reminders: int = 0  # reminders the clerk has sent by hand
    previous: str | None = None  # the board's previous closed round on the same framework
    plan: dict[int, Plan] = field(default_factory=dict)  # by element number
    plan_version: int = 0
    published: str | None = None
    # Changes to the team while the round was open, by member key: when an invitee left it, and
    # when someone joined it (who may then be invited). See dialogs/boards/membership.py.
    left: dict[str, str] = field(default_factory=dict)
    joined: dict[str, str] = field(default_factory=dict)
    # Steps of an operation on the round not done yet (see RoundService.resume): "invite",
    # "summary", "remind:2"… Empty once every operation on it has finished.
    todo: tuple[str, ...] = ()
    # Whether the channel's copy shows the key issues (evidence, never names) to the whole team;
    # by default only the board's trustees, chair and clerks see them (dialogs/boards/evidence.py).
    issues_to_team: bool = False

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def scope(self) -> str:
        """The trustee-side scope of this round's answers (see Assessment.scope)."""
        return round_scope(self.id)

    def invitee(self, key: str) -> Member | None:
        return next((m for m in self.invited if m.key == key), None)


@dataclass(frozen=True)
class Progress:
    member: Member
    state: str  # responded, in_progress, not_started, unreachable
    rated: int = 0
    reason: str | None = None  # why unreachable, and what the clerk can do
    left: str | None = None  # when they left the team, if they did while the round was open
