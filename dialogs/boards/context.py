"""What every board handler works with: the turn, the board it is about, and the guards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import clock
from ..messages import Card, Place, Reply, Text, Turn
from ..payloads import Payload
from ..refusals import TAMPERED, Refusal
from ..state import Who
from ..text import escape_markdown
from .board_service import BoardService
from .model import CLERK, Board, Member
from .records import BoardRecords
from .round_service import RoundService

P = TypeVar("P", bound=Payload)


@dataclass
class DeskContext:
    turn: Turn
    data: Mapping[str, Any]  # the click's data as posted; `payload` is what it decoded to
    board: Board
    boards: BoardService
    rounds: RoundService
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
        return clock.iso(self.turn.now)

    @property
    def role(self) -> str | None:
        return self.board.role(self.who.user)

    @property
    def mode(self) -> str:
        return self.rounds.mode

    @property
    def records(self) -> BoardRecords:
        return BoardRecords.of(self.boards.boards, self.board)

    def show(self, card: Card, *extra: Card | Text) -> Reply:
        """A card answering a button replaces that button's card (for the clicker only, in a
        channel); typed text gets a new message."""
        if self.turn.action is not None:
            return Reply(replace=card, send=list(extra))
        return Reply(send=[card, *extra])


Handler = Callable[[DeskContext], Awaitable[Reply]]


# ---- guards ----------------------------------------------------------------------------------


def member_of(ctx: DeskContext) -> Member:
    member = ctx.board.member(ctx.who.user)
    if member is None:
        raise Refusal(
            f"Sorry, this is the board space of {escape_markdown(ctx.board.name) or 'a board'}, "
            "and I don't have you as one of its members, so nothing was changed. If you should "
            "be, please ask the board's clerk."
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
    names = ", ".join(escape_markdown(m.name) for m in board.clerks)
    return f"The clerk is {names}." if names else ""
