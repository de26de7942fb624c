"""What every board handler works with: the turn, the board it is about, and the guards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ..messages import Card, Place, Reply, Text, Turn
from ..payloads import Payload
from ..state import Who
from .model import CLERK, Board, Member

if TYPE_CHECKING:
    from .desk import Desk

NOT_SAVED = (
    "I couldn't reach my storage just now, so nothing was changed. Please try again in a moment."
)
TAMPERED = "That card's details don't look right, so nothing was changed."


class Refusal(Exception):
    """Ends a handler with a polite answer; nothing was changed."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class RoundRules:
    reminder_before: timedelta = timedelta(hours=48)
    timezone: str = "Europe/London"
    longest: timedelta = timedelta(days=366)  # the latest deadline a round may have
    retention_days: int | None = 730  # a closed round is deleted this long after; None: kept
    detached_retention_days: int = 30  # a board the bot was removed from is deleted this long after


P = TypeVar("P", bound=Payload)


@dataclass
class DeskContext:
    desk: Desk
    turn: Turn
    data: Mapping[str, Any]  # the click's data as posted; `payload` is what it decoded to
    board: Board
    payload: Payload

    def read(self, kind: type[P]) -> P:
        """The click's payload as the handler's own verb's class (dialogs/boards/payloads.py)."""
        if not isinstance(self.payload, kind):
            raise Refusal(TAMPERED)  # a handler reached under a verb that is not its own
        return self.payload

    @property
    def who(self) -> Who:
        return self.turn.who

    @property
    def place(self) -> Place | None:
        return self.turn.place

    @property
    def now(self) -> str:
        return iso(self.turn.now)

    @property
    def role(self) -> str | None:
        return self.board.role(self.who.user)

    @property
    def mode(self) -> str:
        return self.desk.mode

    def show(self, card: Card, *extra: Card | Text) -> Reply:
        """A card answering a button replaces that button's card (for the clicker only, in a
        channel); typed text gets a new message."""
        if self.turn.action is not None:
            return Reply(replace=card, send=list(extra))
        return Reply(send=[card, *extra])


Handler = Callable[[DeskContext], Awaitable[Reply]]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---- guards ----------------------------------------------------------------------------------


def member_of(ctx: DeskContext) -> Member:
    member = ctx.board.member(ctx.who.user)
    if member is None:
        raise Refusal(
            f"Sorry, this is the board space of {ctx.board.name or 'a board'}, and I don't have "
            "you as one of its members, so nothing was changed. If you should be, please ask "
            "the board's clerk."
        )
    return member


def clerk_of(ctx: DeskContext) -> Member:
    member = member_of(ctx)
    if member.role != CLERK:
        raise Refusal(
            f"Only the board's clerk can do that, so nothing was changed. {_clerks_line(ctx.board)}"
        )
    return member


def _clerks_line(board: Board) -> str:
    names = ", ".join(m.name for m in board.clerks)
    return f"The clerk is {names}." if names else ""
