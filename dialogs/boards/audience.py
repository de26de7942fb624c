"""Who may receive what the board sends, decided when it is sent rather than when it was queued.

Everything the bot sends on its own goes through the outbox with an audience (ports.py: TRUSTEES,
CHAIR, CLERKS, CHANNEL). Just before each message goes, the delivery worker asks `BoardAudience`
(through the gate in bot/mailer.py), which reads the board as it is at that moment:

- `refusal(board, audience, teams_id)`: None if that person may have it now, else why not. A
  member who has left the board (no longer in its members) or lost the role gets nothing.
- `holders(board, audience)`: who receives a message addressed to a role. CHAIR: the chair, or
  while the board has none (they left the team, say) its clerks, who then agree the priorities.
  CLERK_COPIES: the clerks other than the chair, while there is a chair (each gets the summary
  and the papers, without the plan, when they cannot see it in the channel: the bot has left the
  team, or Teams refused the post). CLERKS: the clerks.
- `channel_refusal(board)`: None while the bot may post in the board's channel.

So whatever changes a board's members or roles (the clerk's Refresh members, a member leaving the
team, the bot removed from it) needs only store the board as it now is: messages still queued for
someone who no longer qualifies are dropped, unsent, when their turn comes.
"""

from __future__ import annotations

from .model import CHAIR as CHAIR_ROLE
from .model import CLERK, Board, Member
from .ports import CHAIR, CHANNEL, CLERK_COPIES, CLERKS, TRUSTEES
from .store import BoardStore

GONE = "Not sent: the board's data has been deleted."
LEFT = "Not sent: they are no longer a member of the board."
NOT_TRUSTEE = "Not sent: they are no longer one of the board's trustees."
NOT_CHAIR = "Not sent: they are no longer the board's chair or one of its clerks."
NOT_CLERK = "Not sent: they are no longer one of the board's clerks."
DETACHED = "Not posted: trustboard has been removed from the board's team."
NO_CHANNEL = "Not posted: trustboard does not know the board's channel."
UNKNOWN = "Not sent: it was queued for an audience this version does not know."

_MAY = {
    TRUSTEES: (lambda m: m.is_trustee, NOT_TRUSTEE),
    CHAIR: (lambda m: m.role in (CHAIR_ROLE, CLERK), NOT_CHAIR),
    CLERKS: (lambda m: m.role == CLERK, NOT_CLERK),
    CLERK_COPIES: (lambda m: m.role == CLERK, NOT_CLERK),
}


def channel_refusal(board: Board | None) -> str | None:
    if board is None:
        return GONE
    if board.detached:
        return DETACHED
    return None if board.channel else NO_CHANNEL


def refusal(board: Board | None, audience: str, teams_id: str) -> str | None:
    if board is None:
        return GONE
    if audience == CHANNEL:
        return channel_refusal(board)
    rule = _MAY.get(audience)
    if rule is None:
        return UNKNOWN
    member = next((m for m in board.members if m.teams_id and m.teams_id == teams_id), None)
    if member is None:
        return LEFT
    may, why_not = rule
    return None if may(member) else why_not


def holders(board: Board | None, audience: str) -> list[Member]:
    if board is None:
        return []
    chair = board.chair
    if audience == CHAIR:
        found = [chair] if chair else list(board.clerks)
    elif audience == CLERK_COPIES:
        found = [m for m in board.clerks if chair and m.key != chair.key]
    elif audience == CLERKS:
        found = list(board.clerks)
    else:
        found = []
    return [m for m in found if m.teams_id]


class BoardAudience:
    """The questions above, for a board read from the store afresh each time."""

    def __init__(self, boards: BoardStore) -> None:
        self.boards = boards

    async def refusal(self, tenant: str, board_id: str, audience: str, teams_id: str) -> str | None:
        return refusal(await self.boards.board(tenant, board_id), audience, teams_id)

    async def holders(self, tenant: str, board_id: str, audience: str) -> list[Member]:
        return holders(await self.boards.board(tenant, board_id), audience)
