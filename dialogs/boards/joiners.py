"""Inviting someone who joined the team while a round was open (clerks).

The round card lists them as "joined after the round opened", each with an Invite button: the
round was opened for the trustees of the day, so a newcomer answers only if the clerk says so.
"""

from __future__ import annotations

from ..cards import Notice
from ..messages import Reply
from .context import DeskContext, Handler, Refusal, clerk_of
from .payloads import RoundInvite
from .round_steps import _invite, _show_round_card


async def round_invite(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    asked = ctx.read(RoundInvite)
    rnd = await ctx.desk.boards.round(ctx.board.tenant, ctx.board.id, asked.round)
    if rnd is None:
        raise Refusal("I can't find that round on this board, so nothing was changed.")
    key = asked.member
    if not rnd.is_open:
        raise Refusal("That round has closed, so nobody was invited.")
    member = ctx.board.member(key)
    if member is None:
        raise Refusal("That person is no longer in the board's team, so nobody was invited.")
    if not member.is_trustee or not member.teams_id:
        raise Refusal(
            f"{member.name} is not a trustee of the board, so they were not invited. Change "
            "their role first (Manage roles) if they should answer."
        )
    desk, board = ctx.desk, ctx.board
    if rnd.invitee(key) is not None:
        return await _show_round_card(
            ctx, rnd, Notice(f"{member.name} was invited already.", "accent")
        )
    if not await desk.boards.invite_late(board.tenant, board.id, rnd.id, member):
        raise Refusal("That round closed a moment ago, so nobody was invited.")
    fresh = await desk.boards.round(board.tenant, board.id, rnd.id) or rnd
    # One batch for everyone invited late: the outbox sends each person its invitation once.
    await _invite(desk, board, fresh, reminder=False, batch=f"{rnd.id}.late", to=[member])
    notice = Notice(f"Invitation on its way to {member.name}, in their chat with me.")
    return await _show_round_card(ctx, fresh, notice)


VERBS: dict[str, Handler] = {
    "round.invite": round_invite,  # invite someone who joined the team mid-round (clerks)
}
