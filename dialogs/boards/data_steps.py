"""The board's data, for clerks: what is kept, a download link, deleting it all."""

from __future__ import annotations

import logging

from ..cards import Notice
from ..messages import Reply, Text
from ..refusals import Refusal
from . import cards as board_cards
from .context import DeskContext, Handler, clerk_of
from .ports import TeamsError

log = logging.getLogger("trustboard.boards")


async def data_show(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    return ctx.show(board_cards.data_card(ctx.board, ctx.rounds.rules.retention_days, ctx.mode))


async def data_export(ctx: DeskContext) -> Reply:
    """A link, valid for an hour, given only in the clerk's own 1:1 chat."""
    clerk_of(ctx)
    links = ctx.rounds.links
    if links is None:
        raise Refusal(
            "Downloads are not set up on this installation (it needs PUBLIC_URL), so nothing "
            "was exported. Please ask whoever runs trustboard for your trust."
        )
    url = await links.url("export", ctx.board.tenant, ctx.board.id)
    text = Text(
        f"Here is the board's data, as JSON: [download it]({url}). The link works for an hour, "
        "for whoever holds it, so please don't forward it."
    )
    place = ctx.place
    if place is not None and place.personal:
        return Reply(send=[text])
    sender = place.sender_id if place else ""
    try:
        await ctx.rounds.teams.personal(ctx.board.service_url, ctx.board.tenant, sender, text)
    except TeamsError as exc:
        log.warning("could not open a chat with the clerk: %s", exc.brief())
        raise Refusal(
            "I couldn't open our 1:1 chat to give you the link: start a chat with me, type "
            "board, and export from there."
        ) from exc
    notice = Notice("The download link is in our 1:1 chat, so only you have it.", "accent")
    return ctx.show(
        board_cards.data_card(ctx.board, ctx.rounds.rules.retention_days, ctx.mode, notice=notice)
    )


async def data_delete(ctx: DeskContext) -> Reply:
    clerk = clerk_of(ctx)
    board = ctx.board
    await ctx.rounds.delete_board(board)
    log.info("board data deleted by a clerk")
    notice = Notice(
        f"{clerk.name} deleted the board's data on {board_cards.day(ctx.now)}. Set the board "
        "up again to start afresh.",
        "warning",
    )
    card = board_cards.setup_card(board.name, board.id, ctx.mode, notice=notice)
    if board.card and not board.detached:  # a detached board's channel is not ours to post in
        try:
            await ctx.rounds.teams.update(board.service_url, board.channel, board.card, card)
        except TeamsError as exc:
            log.info("could not update the board card: %s", exc.brief())
    return ctx.show(card)


VERBS: dict[str, Handler] = {
    "data.show": data_show,  # what is kept, and how long (clerks)
    "data.export": data_export,  # a download link in the clerk's 1:1 chat (clerks)
    "data.delete": data_delete,  # everything of the board, gone (clerks)
}
