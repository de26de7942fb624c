"""What every board handler works with: the turn, the board it is about, and the guards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..handling import HandlerContext
from ..messages import Reply, Turn
from ..payloads import Payload
from ..refusals import Refusal
from ..text import escape_markdown
from .board_service import BoardService
from .model import CLERK, Board, Member
from .records import BoardRecords
from .round_service import RoundService


@dataclass
class DeskContext(HandlerContext):
    turn: Turn
    data: Mapping[str, Any]  # the click's data as posted; `payload` is what it decoded to
    board: Board
    boards: BoardService
    rounds: RoundService
    payload: Payload

    @property
    def role(self) -> str | None:
        return self.board.role(self.who.user)

    @property
    def mode(self) -> str:
        return self.rounds.mode

    @property
    def records(self) -> BoardRecords:
        return BoardRecords.of(self.boards.boards, self.board)


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
