"""What every learning-set handler works with: the turn, the set, and the guards.

A card's data is untrusted: a set id, a board id or a code from it only says what the person
asks about. Whether they may is decided from the authenticated turn: the person's tenant and id,
their role on the board in *their own* tenant (read from the board's keys), and the set's record
of its facilitator and members. A refusal says the same thing whether the set does not exist or
is not theirs, so a forged id learns nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..boards.model import CHAIR, CLERK, Board
from ..handling import HandlerContext
from ..messages import Reply, Turn
from ..payloads import Payload
from ..refusals import NOT_SAVED, TAMPERED, Refusal
from .cards import Viewer
from .model import LearningSet, SetMember

if TYPE_CHECKING:
    from .service import Sets

NOT_YOURS = (
    "I can't find that learning set among yours, so nothing was changed. Type sets to see the "
    "sets your board is in."
)
CHAIR_ONLY = (
    "Only the board's chair can do that for the board (nothing leaves a board unless its chair "
    "chooses), so nothing was changed."
)
FACILITATOR_ONLY = "Only the set's facilitator can do that, so nothing was changed."
PRIVATE_ONLY = (
    "Learning sets are run in a private chat with me, never in a channel, so that what one "
    "board shares reaches only the other members' chairs and clerks. Open a chat with me "
    "(select my name, then Chat) and type sets. Nothing was changed."
)

__all__ = [
    "CHAIR_ONLY",
    "FACILITATOR_ONLY",
    "NOT_SAVED",
    "NOT_YOURS",
    "TAMPERED",
    "Refusal",
    "SetContext",
    "SetHandler",
    "person_ref",
]


def person_ref(tenant: str, user: str) -> str:
    """Who pressed Share, as the set keeps it: enough for `forget me` to find their shares, and
    no id another tenant could read anything from."""
    return hashlib.sha256(f"{tenant}\0{user}".encode()).hexdigest()[:24]


@dataclass
class SetContext(HandlerContext):
    sets: Sets
    turn: Turn
    payload: Payload

    @property
    def mode(self) -> str:
        return self.sets.mode

    # -- what the button carried ------------------------------------------------------------------

    def set_id(self) -> str:
        value = getattr(self.payload, "set_id", None)
        if not isinstance(value, str):
            raise Refusal(TAMPERED)
        return value

    def board_id(self, required: bool = True) -> str | None:
        value = getattr(self.payload, "board", None)
        if value is None and required:
            raise Refusal(TAMPERED)
        return value

    # -- the guards -------------------------------------------------------------------------------

    async def learning_set(self) -> LearningSet:
        found = await self.sets.store.get(self.set_id())
        if found is None:
            raise Refusal(NOT_YOURS)
        return found

    async def own_board(self, board_id: str) -> Board:
        """A board of the person's own tenant (never another's, whatever the card says)."""
        board = await self.sets.desk.boards.board(self.who.tenant, board_id)
        if board is None:
            raise Refusal(NOT_YOURS)
        return board

    async def viewer(self, learning_set: LearningSet) -> tuple[Viewer, Board | None]:
        """The facilitator, or the chair or a clerk of the member board the card names."""
        facilitator = learning_set.is_facilitator(self.who.tenant, self.who.user)
        board_id = self.board_id(required=not facilitator)
        if board_id is None:
            return Viewer(facilitator=True), None
        member = learning_set.member(self.who.tenant, board_id)
        if member is None:
            if facilitator:
                return Viewer(facilitator=True), None
            raise Refusal(NOT_YOURS)
        board = await self.own_board(board_id)
        role = board.role(self.who.user)
        if role not in (CHAIR, CLERK):
            if facilitator:
                return Viewer(facilitator=True), None
            raise Refusal(NOT_YOURS)
        return Viewer(facilitator, member, role), board

    async def member_board(
        self, learning_set: LearningSet, *, chair: bool = False
    ) -> tuple[Viewer, SetMember, Board]:
        viewer, board = await self.viewer(learning_set)
        if viewer.member is None or board is None:
            raise Refusal(
                "That needs the chair or a clerk of a member board, and you are neither here, "
                "so nothing was changed."
            )
        if chair and viewer.role != CHAIR:
            raise Refusal(CHAIR_ONLY)
        return viewer, viewer.member, board

    def facilitating(self, learning_set: LearningSet) -> None:
        if not learning_set.is_facilitator(self.who.tenant, self.who.user):
            raise Refusal(FACILITATOR_ONLY if self._is_member(learning_set) else NOT_YOURS)

    def _is_member(self, learning_set: LearningSet) -> bool:
        board_id = getattr(self.payload, "board", None)
        return (
            isinstance(board_id, str) and learning_set.member(self.who.tenant, board_id) is not None
        )


SetHandler = Callable[[SetContext], Awaitable[Reply]]
