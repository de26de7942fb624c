"""What the board logic needs from Teams, as plain calls; `bot/` implements them.

Nothing here is a Bot Framework type: a card is `dialogs.messages.Card`, a member is `Member`.
Every call raises `TeamsError` when Teams refuses or does not answer, carrying the HTTP status
(None when there was no answer), the service's error code and any Retry-After, so the caller can
tell a clerk what happened and the delivery worker can decide whether to try again. It is the one
Teams error type: `bot/` raises it from every call it makes to Teams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..messages import Card, Text
from .model import Board, Round

RETRYABLE = frozenset({412, 429, 502, 503, 504})
UNREACHABLE = frozenset({403, 404})  # the person or the conversation cannot be reached


class TeamsError(Exception):
    """Teams refused a call or did not answer. `status` is None for no HTTP answer at all;
    `code` is the service's error code, with any subCode after a slash
    ("Forbidden/MessageWritesBlocked"); `retry_after` is in seconds."""

    def __init__(
        self,
        status: int | None,
        message: str = "",
        *,
        code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message or (f"HTTP {status}" if status else "no answer"))
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE

    @property
    def unreachable(self) -> bool:
        return self.status in UNREACHABLE

    def summary(self) -> str:
        """Status, code and Teams' own message, for the job's record (not for logs)."""
        status = f"HTTP {self.status}" if self.status else "no answer"
        code = f" {self.code}" if self.code else ""
        return f"{status}{code}: {self}"

    def brief(self) -> str:
        """Status and code only, for logs: Teams' message could quote what was sent."""
        status = f"HTTP {self.status}" if self.status else "no answer"
        return f"{status} {self.code}".strip()


@dataclass(frozen=True)
class RosterMember:
    teams_id: str  # "29:…"
    aad_object_id: str  # may be empty for guests in some tenants
    name: str

    @property
    def key(self) -> str:
        return self.aad_object_id or self.teams_id


@dataclass(frozen=True)
class Posted:
    conversation: str
    activity: str


class Teams(Protocol):
    async def roster(self, service_url: str, team_id: str) -> list[RosterMember]:
        """Every member of the team, page by page (Teams pages the roster)."""
        ...

    async def post(self, service_url: str, conversation: str, message: Card | Text) -> Posted:
        """A new message in a conversation the bot is in (a channel, a 1:1 chat)."""
        ...

    async def update(self, service_url: str, conversation: str, activity: str, card: Card) -> None:
        """Replace a message the bot sent, for everyone who can see it."""
        ...

    async def personal(
        self, service_url: str, tenant: str, teams_id: str, message: Card | Text
    ) -> Posted:
        """A message in the bot's 1:1 chat with someone, created if need be, sent now."""
        ...

    async def team_name(self, service_url: str, team_id: str) -> str:
        """The team's name as Teams has it now ("" if it has none)."""
        ...


# Who may receive what the bot sends on its own. A message is queued with one of these and the
# board is asked again when it is sent (dialogs/boards/audience.py): whoever no longer qualifies
# then gets nothing.
TRUSTEES = "trustee"  # a current trustee (the chair is one): invitations, reminders
CHAIR = "chair"  # the chair, or the clerks while there is no chair: attributed content, the plan
CLERKS = "clerks"  # the board's clerks: what went wrong, and what to do about it
CLERK_COPIES = "clerk-copies"  # the clerks' own copy of the summary, while the chair has theirs
CHANNEL = "channel"  # the board's channel, while the bot is still in the team
# A batch of a learning set's or a peer review's (dialogs/sets), queued under a member board: it
# belongs to no round, so the delivery callback leaves the board's rounds alone.
SETS_BATCH = "sets-"


@dataclass(frozen=True)
class Outcome:
    """What became of one message of a batch (or of a role, handed on to each holder)."""

    state: str  # queued, retrying, delivered, unreachable, failed, dropped, forwarded
    to: str  # the person's Teams id; the conversation of a channel post; "" for a role
    channel: bool = False  # a post into the board's channel
    reason: str | None = None  # unreachable, failed or dropped: plain English, for the clerk
    conversation: str | None = None  # delivered: where it is
    activity: str | None = None  # delivered: its id there

    @property
    def delivered(self) -> bool:
        return self.state == "delivered"

    @property
    def final(self) -> bool:
        """Nothing more will happen to it by itself (a failed one can be queued again)."""
        return self.state not in ("queued", "retrying")


class Mailer(Protocol):
    """What the bot sends on its own initiative (invitations, reminders, the channel's summary,
    the chair's copy, notices), through the durable, paced outbox: queued now, sent when Teams
    takes it, retried when Teams is busy or down, each message once per batch and recipient."""

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
        """Queue `message` for each (Teams id, name), followed by `more` in the same chat; the
        same batch and person again is a no-op. Each is sent only if they still belong to
        `audience` when it is sent."""
        ...

    async def post(
        self,
        tenant: str,
        board: str,
        batch: str,
        service_url: str,
        channel: str,
        message: Card | Text,
    ) -> None:
        """Queue a post into the board's channel; sent only if the board is still attached."""
        ...

    async def to_role(
        self,
        tenant: str,
        board: str,
        batch: str,
        service_url: str,
        audience: str,
        messages: list[Card | Text],
    ) -> None:
        """Queue `messages`, in order, for whoever holds `audience` (CHAIR, CLERKS) on the board
        when they are sent."""
        ...

    async def outcomes(self, tenant: str, board: str, batch: str) -> list[Outcome]:
        """What became of each message of a batch, in the order they were queued."""
        ...

    async def retry_failed(self, tenant: str, board: str, batch: str) -> int:
        """Queue again the messages of a batch that failed (Teams down for longer than the
        outbox's own retries); how many."""
        ...

    async def unreachable(self, tenant: str, board: str, batches: list[str]) -> dict[str, str]:
        """Teams ids that could not be reached in these batches, with what the clerk can do."""
        ...

    async def forget(self, tenant: str, board: str, batches: list[str]) -> None:
        """Delete the delivery records of these batches (who was sent what, and when)."""
        ...


@dataclass(frozen=True)
class PeerResult:
    """A finished peer review of the board, as its board paper shows it: by element number, the
    peer's rating (None: not rated) and evidence. Never the reviewer's name."""

    done: str  # when the reviewer finished
    ratings: dict[int, tuple[str | None, str]]


class BoardSets(Protocol):
    """The learning sets a board is in, as its data export and deletion need them."""

    async def board_export(self, board: Board) -> list[dict[str, Any]]:
        """What the board shared with which set, and when."""
        ...

    async def board_deleted(self, board: Board) -> None:
        """The board leaves every set; what it shared is withdrawn."""
        ...

    async def peer_results(self, board: Board, framework: str) -> list[PeerResult]:
        """The board's finished peer reviews on that framework, oldest first."""
        ...

    async def comparison_page(self, board: Board, set_id: str) -> str | None:
        """A set's comparison as a printable page for a member board; None if it is not one."""
        ...

    async def round_closed(self, board: Board, rnd: Round) -> None:
        """A round's summary went to the chair: ask them whether to share it with their sets."""
        ...
