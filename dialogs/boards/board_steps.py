"""Setting a board up and managing its roles (clerks only)."""

from __future__ import annotations

from ..cards import Notice
from ..messages import Reply
from ..refusals import Refusal
from ..store import StoreUnavailable
from . import cards as board_cards
from .context import DeskContext, Handler, clerk_of, member_of
from .model import CLERK, Board, Member
from .payloads import ROLES_PAGE, RolesSave, RolesShow

# ---- board and roles -------------------------------------------------------------------------


async def setup(ctx: DeskContext) -> Reply:
    """The first person to set a board up becomes its clerk; the roster comes from Teams."""
    if ctx.board.set_up:
        if member_of(ctx).role == CLERK:
            return await refresh_members(ctx)
        return ctx.show(await ctx.boards.card(ctx.board, viewer=_viewer(ctx, ctx.board)))
    clerk = Member(
        key=ctx.who.user,
        teams_id=(ctx.place.sender_id if ctx.place else ""),
        name=ctx.who.name or "The clerk",
    )
    roster = await ctx.boards.roster(ctx.board, ctx.turn.place)
    if not await ctx.records.claim_clerk(clerk, roster):
        board = await _reload(ctx)
        return ctx.show(await ctx.boards.card(board, viewer=_viewer(ctx, board)))
    board = await _reload(ctx)
    await ctx.boards.refresh_card(board)
    notice = Notice(
        f"The board is set up and you are its clerk. I found {len(board.members)} members "
        "in the team: everyone else is a trustee for now. Choose Manage roles to name the chair "
        "and anyone who is not a trustee.",
    )
    return ctx.show(await ctx.boards.card(board, notice, viewer=_viewer(ctx, board)))


def _viewer(ctx: DeskContext, board: Board) -> Member | None:
    """Who pressed: the card they get back shows the buttons their role allows."""
    return board.member(ctx.who.user)


async def _reload(ctx: DeskContext) -> Board:
    board = await ctx.records.board()
    if board is None:
        raise StoreUnavailable("board vanished")
    ctx.board = board
    return board


async def show_board(ctx: DeskContext) -> Reply:
    member = member_of(ctx)
    return ctx.show(await ctx.boards.card(ctx.board, viewer=member))


async def refresh_members(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    roster = await ctx.boards.roster(ctx.board, ctx.turn.place)
    before = {m.key for m in ctx.board.members}
    removed = await ctx.records.merge_roster(ctx.who.user, roster)
    board = await _reload(ctx)
    added = len({m.key for m in board.members} - before)
    await ctx.boards.refresh_card(board)
    notice = Notice(
        f"Members brought up to date from Teams: {added} joined, {removed or 0} left. "
        "Newcomers are trustees until you change their role.",
        "accent",
    )
    return ctx.show(await ctx.boards.card(board, notice, viewer=_viewer(ctx, board)))


def _page(ctx: DeskContext, page: int) -> int:
    """The page asked for, within the pages the board's members fill now."""
    pages = max(1, -(-len(ctx.board.members) // ROLES_PAGE))
    return min(page, pages - 1)


async def roles_show(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    page = _page(ctx, ctx.read(RolesShow).page)
    return ctx.show(board_cards.roles_card(ctx.board, page, ctx.mode))


async def roles_save(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    saved = ctx.read(RolesSave)
    if any(ctx.board.member(key) is None for key in saved.keys):
        raise Refusal(
            "Someone on that card is no longer a member of the board, so nothing was "
            "changed. Here are the members as they are now."
        )
    page = _page(ctx, saved.page)
    result = await ctx.records.set_roles(ctx.who.user, saved.changes)
    if not result.ok:
        notice = Notice(_role_problem(result.problem or ""), "attention")
        return ctx.show(board_cards.roles_card(ctx.board, page, ctx.mode, notice=notice))
    board = await _reload(ctx)
    await ctx.boards.refresh_card(board)
    text = "Roles saved."
    if result.demoted:
        former = board.member(result.demoted)
        text += f" {former.name if former else 'The former chair'} is now a trustee."
    if board.role(ctx.who.user) != CLERK:
        no_longer = Notice(text + " You are no longer a clerk.")
        return ctx.show(await ctx.boards.card(board, no_longer, viewer=_viewer(ctx, board)))
    return ctx.show(board_cards.roles_card(board, page, ctx.mode, notice=Notice(text)))


def _role_problem(problem: str) -> str:
    if problem == "no_clerk":
        return "A board needs at least one clerk, so nothing was changed."
    if problem == "two_chairs":
        return "A board has one chair: choose one person as chair. Nothing was changed."
    if problem == "not_clerk":
        return "Only a clerk can change roles, so nothing was changed."
    return "Those roles could not be saved, so nothing was changed. Please try again."


VERBS: dict[str, Handler] = {
    "board.setup": setup,  # set the board up (the clicker becomes clerk), or refresh it
    "board.show": show_board,  # the board card again
    "board.refresh": refresh_members,  # bring members up to date from Teams
    "roles.show": roles_show,  # a page of members and their roles (clerks)
    "roles.save": roles_save,  # save that page's roles (clerks)
}
