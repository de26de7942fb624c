"""Who may receive a learning set's message, asked when it is sent (the outbox's gate).

A set's messages to a member board's people (the comparison, a peer review's invitation, the
offer to share a closed round) are queued in the outbox under that board, with the audience
`for_set(set_id)`. When its turn comes the message goes only if, at that moment, the set still
exists, the board is still one of its members, and the recipient is still the board's chair or
one of its clerks. Anything else is asked of the board alone (dialogs/boards/audience.py).
"""

from __future__ import annotations

from ..boards import audience as board_audience
from ..boards.audience import BoardAudience
from ..boards.model import Member
from ..boards.ports import CHAIR, SETS_BATCH
from ..boards.store import BoardStore
from .model import SET_ID
from .store import SetStore

PREFIX = "set:"
SET_GONE = "Not sent: the learning set has been closed."
LEFT_SET = "Not sent: the board is no longer a member of the learning set."


def for_set(set_id: str) -> str:
    """The audience of a set's message to a member board: its chair and clerks, while the board
    is in the set."""
    return f"{PREFIX}{set_id}"


def set_batch(set_id: str, what: str) -> str:
    """An outbox batch of a set's, queued under a member board (it belongs to no round)."""
    return f"{SETS_BATCH}set-{set_id}.{what}"


def review_batch(review_id: str, what: str) -> str:
    """An outbox batch of a peer review's, queued under the board it is sent to."""
    return f"{SETS_BATCH}review-{review_id}.{what}"


def set_of(audience: str) -> str | None:
    """The set an audience names, or None when it is a board's own audience."""
    if not audience.startswith(PREFIX):
        return None
    set_id = audience[len(PREFIX) :]
    return set_id if SET_ID.match(set_id) else ""


class SetAudience(BoardAudience):
    """The board's questions, and for a set's audience first whether the board is still in it."""

    def __init__(self, boards: BoardStore, sets: SetStore) -> None:
        super().__init__(boards)
        self.sets = sets

    async def refusal(self, tenant: str, board_id: str, audience: str, teams_id: str) -> str | None:
        set_id = set_of(audience)
        if set_id is None:
            return await super().refusal(tenant, board_id, audience, teams_id)
        why_not = await self._not_in_set(set_id, tenant, board_id)
        if why_not:
            return why_not
        board = await self.boards.board(tenant, board_id)
        # The chair or any clerk: CHAIR's rule for one person (audience.py).
        return board_audience.refusal(board, CHAIR, teams_id)

    async def holders(self, tenant: str, board_id: str, audience: str) -> list[Member]:
        set_id = set_of(audience)
        if set_id is None:
            return await super().holders(tenant, board_id, audience)
        if await self._not_in_set(set_id, tenant, board_id):
            return []
        board = await self.boards.board(tenant, board_id)
        members = board.chair_and_clerks if board is not None else ()
        return [m for m in members if m.teams_id]

    async def _not_in_set(self, set_id: str, tenant: str, board_id: str) -> str | None:
        learning_set = await self.sets.get(set_id) if set_id else None
        if learning_set is None:
            return SET_GONE
        if learning_set.member(tenant, board_id) is None:
            return LEFT_SET
        return None
