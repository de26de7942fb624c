"""Inviting someone who joined the team while a round was open (clerks).

The round card lists them as "joined after the round opened", each with an Invite button: the
round was opened for the trustees of the day, so a newcomer answers only if the clerk says so.
"""

from __future__ import annotations

from ..cards import Notice
from ..messages import Reply
from ..refusals import Refusal
from ..text import escape_markdown
from .context import DeskContext, Handler, clerk_of
from .payloads import RoundInvite
from .round_steps import ROUND_GONE, show_to_clerk


async def round_invite(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    asked = ctx.read(RoundInvite)
    rnd = await ctx.records.round(asked.round)
    if rnd is None:
        raise Refusal(ROUND_GONE)
    if not rnd.is_open:
        raise Refusal("That round has closed, so nobody was invited.")
    member = ctx.board.member(asked.member)
    if member is None:
        raise Refusal("That person is no longer in the board's team, so nobody was invited.")
    if not member.is_trustee or not member.teams_id:
        raise Refusal(
            f"{escape_markdown(member.name)} is not a trustee of the board, so they were not "
            "invited. Change their role first (Manage roles) if they should answer."
        )
    if rnd.invitee(member.key) is not None:
        reading = await ctx.rounds.read(ctx.board, rnd)
        notice = Notice(f"{member.name} was invited already.", "accent")
        return await show_to_clerk(ctx, reading, notice)
    invited = await ctx.rounds.invite_late(ctx.board, rnd, member)
    if invited is None:
        raise Refusal("That round closed a moment ago, so nobody was invited.")
    notice = Notice(f"Invitation on its way to {member.name}, in their chat with me.")
    return await show_to_clerk(ctx, invited, notice)


VERBS: dict[str, Handler] = {
    "round.invite": round_invite,  # invite someone who joined the team mid-round (clerks)
}
