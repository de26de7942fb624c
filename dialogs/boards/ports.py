"""What the board logic needs from Teams, as plain calls; `bot/` implements them.

Nothing here is a Bot Framework type: a card is `dialogs.messages.Card`, a member is `Member`.
Every call raises `TeamsError` when Teams refuses or does not answer, carrying the HTTP status
(None when there was no answer), the service's error code and any Retry-After, so the caller can
tell a clerk what happened and the delivery worker can decide whether to try again. It is the one
Teams error type: `bot/` raises it from every call it makes to Teams.
"""

from __future__ import annotations

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


class Mailer(Protocol):
    """Personal messages to many trustees, through the durable, paced delivery queue."""

    async def queue(
        self,
        tenant: str,
        board: str,
        batch: str,
        service_url: str,
        recipients: list[tuple[str, str]],
        message: Card,
    ) -> None:
        """Queue `message` for each (Teams id, name); the same batch and person again is a no-op."""
        ...

    async def unreachable(self, tenant: str, board: str, batches: list[str]) -> dict[str, str]:
        """Teams ids that could not be reached in these batches, with what the clerk can do."""
        ...

    async def forget(self, tenant: str, board: str, batches: list[str]) -> None:
        """Delete the delivery records of these batches (who was sent what, and when)."""
        ...


class BoardSets(Protocol):
    """The learning sets a board is in, as its data export and deletion need them."""

    async def board_export(self, board: Board) -> list[dict[str, Any]]:
        """What the board shared with which set, and when."""
        ...

    async def board_deleted(self, board: Board) -> None:
        """The board leaves every set; what it shared is withdrawn."""
        ...

    async def round_closed(self, board: Board, rnd: Round) -> None:
        """A round's summary went to the chair: ask them whether to share it with their sets."""
        ...
