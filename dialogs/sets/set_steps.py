"""Creating a learning set, finding and opening one, its join code, and joining it."""

from __future__ import annotations

import logging
import secrets

from ..boards.model import CHAIR, CLERK, Board
from ..cards import Notice
from ..messages import Reply, Text
from ..text import clean, length
from ..text import escape_markdown as md
from . import cards as set_cards
from .context import NOT_YOURS, TAMPERED, Refusal, SetContext, SetHandler
from .model import MAX_MEMBERS, NAME_MAX, SET_ID, LearningSet, Person, SetMember, format_code
from .payloads import SetCreate, SetJoin
from .store import CODE, WRONG_CODES_PER_HOUR

log = logging.getLogger("trustboard.sets")

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as store.CODE: no I, O, 0 or 1
MOST_FACILITATED = 20  # sets one person may facilitate at once
WRONG_CODE = (
    "That isn't a join code I know (it may have been withdrawn), so nothing was changed. "
    "Please check it with the set's facilitator."
)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(8))


def new_set_id() -> str:
    return secrets.token_hex(8)


# ---- creating -----------------------------------------------------------------------------------


async def set_new(ctx: SetContext) -> Reply:
    frameworks = list(ctx.sets.frameworks.values())
    return ctx.show(set_cards.create_card(frameworks, ctx.mode))


async def set_create(ctx: SetContext) -> Reply:
    given = ctx.read(SetCreate)
    name, fw, named = clean(given.name), given.framework, given.named
    framework = ctx.sets.frameworks.get(fw)
    if framework is None:
        raise Refusal(TAMPERED)
    problem = None
    if not name:
        problem = "Please give the set a name."
    elif length(name) > NAME_MAX:
        problem = f"The name is {length(name)} characters; the limit is {NAME_MAX}."
    elif len(await ctx.sets.store.facilitated(ctx.who.tenant, ctx.who.user)) >= MOST_FACILITATED:
        problem = (
            f"You facilitate {MOST_FACILITATED} sets already: close one before creating another."
        )
    if problem:
        card = set_cards.create_card(
            list(ctx.sets.frameworks.values()),
            ctx.mode,
            Notice(problem + " Nothing has been created yet.", "attention"),
            name=name,
            framework=fw,
            named=named == set_cards.NAMED,
        )
        return ctx.show(card)
    place = ctx.place
    learning_set = LearningSet(
        id=new_set_id(),
        name=name,
        framework=framework.id,
        named=named == set_cards.NAMED,
        created=ctx.now,
        facilitator=Person(
            tenant=ctx.who.tenant,
            user=ctx.who.user,
            name=ctx.who.name or "The facilitator",
            teams_id=place.sender_id if place else "",
            service_url=place.service_url if place else "",
        ),
        code=new_code(),
    )
    await ctx.sets.store.create(learning_set)
    await ctx.sets.keep_until(learning_set.id, ctx.turn.now)
    log.info("learning set created")
    notice = Notice(
        f"Set created. Its join code is {format_code(learning_set.code or '')}: pass it to the "
        "chairs yourself (by email, say). They type join set and the code in their chat with me.",
    )
    return ctx.show(await ctx.sets.set_card(learning_set, set_cards.Viewer(True), notice))


# ---- finding and opening ----------------------------------------------------------------------


async def set_list(ctx: SetContext) -> Reply:
    chaired = [(b.id, b.name) for b in await eligible_boards(ctx) if b.role(ctx.who.user) == CHAIR]
    card = set_cards.list_card(await ctx.sets.sets_of(ctx.who), ctx.mode, chaired=chaired)
    return ctx.show(card)


async def set_show(ctx: SetContext) -> Reply:
    learning_set = await ctx.learning_set()
    viewer, board = await ctx.viewer(learning_set)
    if viewer.facilitator:
        await ctx.sets.reach_facilitator(learning_set, ctx.turn)
    if board is not None and viewer.member and board.name and board.name != viewer.member.name:
        await ctx.sets.store.rename_member(learning_set.id, viewer.member, board.name)
    return ctx.show(await ctx.sets.set_card(learning_set, viewer))


# ---- the join code ----------------------------------------------------------------------------


async def code_new(ctx: SetContext) -> Reply:
    learning_set = await ctx.learning_set()
    ctx.facilitating(learning_set)
    code = new_code()
    if not await ctx.sets.store.new_code(learning_set.id, code, learning_set.code):
        raise Refusal(NOT_YOURS)
    fresh = await ctx.learning_set()
    notice = Notice(f"New join code: {format_code(code)}. The old one no longer works.")
    viewer, _ = await ctx.viewer(fresh)
    return ctx.show(await ctx.sets.set_card(fresh, viewer, notice))


async def code_withdraw(ctx: SetContext) -> Reply:
    learning_set = await ctx.learning_set()
    ctx.facilitating(learning_set)
    await ctx.sets.store.withdraw_code(learning_set.id, learning_set.code)
    fresh = await ctx.learning_set()
    notice = Notice("Join code withdrawn: nobody else can join until you make a new one.")
    viewer, _ = await ctx.viewer(fresh)
    return ctx.show(await ctx.sets.set_card(fresh, viewer, notice))


# ---- joining ----------------------------------------------------------------------------------


def read_code(text: str) -> str | None:
    code = "".join(text.split()).replace("-", "").upper()
    return code if CODE.match(code) else None


async def typed_code(ctx: SetContext, text: str, unreadable: str, too_many: str) -> str:
    """A join or invitation code as typed, read, from someone still within their hourly budget
    of wrong codes (so codes cannot be guessed); refused with `unreadable` or `too_many`."""
    code = read_code(text)
    if code is None:
        raise Refusal(unreadable)
    if await ctx.sets.store.wrong_codes(ctx.who.tenant, ctx.who.user) >= WRONG_CODES_PER_HOUR:
        raise Refusal(too_many)
    return code


async def set_join(ctx: SetContext) -> Reply:
    given = ctx.read(SetJoin)
    code = await typed_code(
        ctx,
        given.code,
        "A join code is eight letters and digits, like KQ7M-4XPD: type join set and the "
        "code the set's facilitator gave you. Nothing was changed.",
        "Too many wrong join codes in the last hour, so I am not trying any more for now, "
        "and nothing was changed. Please check the code with the set's facilitator and try "
        "again later.",
    )
    store = ctx.sets.store
    set_id = await store.by_code(code)
    learning_set = await store.get(set_id) if set_id and SET_ID.match(set_id) else None
    if learning_set is None or learning_set.code != code:
        await store.wrong_code(ctx.who.tenant, ctx.who.user)
        raise Refusal(WRONG_CODE)
    boards = await eligible_boards(ctx)
    if not boards:
        raise Refusal(
            "A board joins a learning set through its chair or a clerk, and I don't have you as "
            "the chair or a clerk of a board set up with me, so nothing was changed. (A board is "
            "set up from its team's channel: add me to the team, then Set up this board.)"
        )
    wanted = ctx.board_id(required=False)
    if wanted is not None:
        chosen = next((b for b in boards if b.id == wanted), None)
        if chosen is None:
            raise Refusal(NOT_YOURS)
    elif len(boards) == 1:
        chosen = boards[0]
    else:
        choices = [(b.id, b.name) for b in boards]
        return ctx.show(set_cards.join_card(code, choices, ctx.mode))
    return await _join(ctx, learning_set, code, chosen)


async def eligible_boards(ctx: SetContext) -> list[Board]:
    """The person's boards in their own tenant that they chair or clerk."""
    found = []
    desk = ctx.sets.desk
    for board_id in await desk.boards.tenant_boards(ctx.who.tenant):
        board = await desk.boards.board(ctx.who.tenant, board_id)
        if board is not None and board.set_up and board.role(ctx.who.user) in (CHAIR, CLERK):
            found.append(board)
    return found


async def _join(ctx: SetContext, learning_set: LearningSet, code: str, board: Board) -> Reply:
    member = SetMember(board.tenant, board.id, board.name or "A trust board", ctx.now, "")
    answer = await ctx.sets.store.join(learning_set.id, code, member)
    if answer == "full":
        raise Refusal(
            f"That set already has {MAX_MEMBERS} boards, the most a set can have, so your board "
            "was not added. Please tell the set's facilitator."
        )
    if answer in ("code", "gone"):
        raise Refusal(WRONG_CODE)
    fresh = await ctx.sets.store.get(learning_set.id) or learning_set
    joined = fresh.member(board.tenant, board.id)
    viewer = set_cards.Viewer(
        fresh.is_facilitator(ctx.who.tenant, ctx.who.user), joined, board.role(ctx.who.user)
    )
    if answer == "already":
        notice = Notice("Your board is already a member of this set.", "accent")
        return ctx.show(await ctx.sets.set_card(fresh, viewer, notice))
    await ctx.sets.keep_until(fresh.id, ctx.turn.now)
    seen_as = (
        "Other members see its name."
        if fresh.named
        else f"Other members see it as Trust {joined.label if joined else '?'}."
    )
    notice = Notice(
        f"{set_cards.excerpt(board.name, 120) or 'Your board'} joined {set_cards.set_name(fresh)}. "
        f"{seen_as} The facilitator, {fresh.facilitator.name}, sees which trusts joined. Nothing "
        "of the board's is shared until its chair presses Share."
    )
    await ctx.sets.tell_facilitator(
        fresh, Text(f"{md(board.name or 'A board')} joined your learning set {md(fresh.name)}.")
    )
    return ctx.show(await ctx.sets.set_card(fresh, viewer, notice))


VERBS: dict[str, SetHandler] = {
    "set.new": set_new,  # the form to create a set (anyone, in a 1:1 chat)
    "set.create": set_create,  # create it: the creator is its facilitator
    "set.list": set_list,  # the person's sets, joining one, creating one
    "set.show": set_show,  # the set's card (facilitator; chair or clerk of a member board)
    "set.code.new": code_new,  # a new join code; the old one stops working (facilitator)
    "set.code.withdraw": code_withdraw,  # nobody else can join (facilitator)
    "set.join": set_join,  # join with a code (the chair or a clerk, for their board)
}
