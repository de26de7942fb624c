"""A board leaving a set (everything it shared goes with it), and the facilitator closing one
(the set is deleted)."""

from __future__ import annotations

import logging

from ..messages import Reply, Text
from ..text import escape_markdown as md
from .cards import excerpt, set_name
from .context import SetContext, SetHandler

log = logging.getLogger("trustboard.sets")


async def set_leave(ctx: SetContext) -> Reply:
    learning_set = await ctx.learning_set()
    _, _member, board = await ctx.member_board(learning_set)
    await ctx.sets.store.leave(learning_set.id, board.tenant, board.id)
    log.info("a board left a learning set")
    await ctx.sets.tell_facilitator(
        learning_set,
        Text(f"{md(board.name or 'A board')} left your learning set {md(learning_set.name)}."),
    )
    return Reply(
        send=[
            Text(
                f"{md(excerpt(board.name, 120) or 'Your board')} has left "
                f"{md(set_name(learning_set))}. "
                "Everything it shared with the set, and its vote, were withdrawn."
            )
        ]
    )


async def set_close(ctx: SetContext) -> Reply:
    learning_set = await ctx.learning_set()
    ctx.facilitating(learning_set)
    await ctx.sets.close(learning_set, "closed by its facilitator")
    return Reply(
        send=[
            Text(
                f"{md(set_name(learning_set))} is closed and its data deleted: its members, what "
                "they shared and their votes. I have told the member boards' chairs and clerks."
            )
        ]
    )


VERBS: dict[str, SetHandler] = {
    "set.leave": set_leave,  # the board leaves; what it shared is withdrawn (its chair or a clerk)
    "set.close": set_close,  # the set and everything in it deleted (facilitator)
}
