"""Choosing the set's focus (the facilitator, or the member boards by vote) and its comparison.

The comparison goes to people's 1:1 chats only, never to a channel: each member board's chair
and clerks get it, each with their own board marked, and the facilitator has it on screen.
"""

from __future__ import annotations

import logging

from frameworks import Framework

from .. import clock
from ..boards import cards as board_cards
from ..boards.model import CHAIR, CLERK
from ..cards import Notice
from ..cards.build import count
from ..messages import Reply
from . import cards as set_cards
from .compare import comparison, voted_focus
from .context import TAMPERED, Refusal, SetContext, SetHandler
from .model import FOCUS_SIZES
from .payloads import SetFocus, SetVote

log = logging.getLogger("trustboard.sets")

MOST_VOTES = max(FOCUS_SIZES)


def read_elements(framework: Framework, value: str) -> tuple[int, ...]:
    """A multi-select's value ("1,5,7"): known element numbers only, each once."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not all(p.isascii() and p.isdigit() and framework.element(int(p)) for p in parts):
        raise Refusal(TAMPERED)
    return tuple(sorted({int(p) for p in parts}))


async def set_vote(ctx: SetContext) -> Reply:
    learning_set = await ctx.learning_set()
    viewer, _member, board = await ctx.member_board(learning_set)
    framework = ctx.sets.framework(learning_set)
    chosen = read_elements(framework, ctx.read(SetVote).vote)
    if not chosen or len(chosen) > MOST_VOTES:
        notice = Notice(
            f"Choose from one to {MOST_VOTES} elements for your board's vote. Nothing was changed.",
            "attention",
        )
        return ctx.show(await ctx.sets.set_card(learning_set, viewer, notice))
    if not await ctx.sets.store.vote(learning_set.id, board.tenant, board.id, chosen):
        raise Refusal("Your board is no longer in that set, so nothing was changed.")
    fresh = await ctx.learning_set()
    text = f"Your board's vote is in: {', '.join(str(n) for n in chosen)}."
    if fresh.focus_by != "facilitator":
        focus = voted_focus(framework, fresh)
        if focus and focus != fresh.focus:
            await ctx.sets.store.set_fields(
                fresh.id, {"focus": ",".join(map(str, focus)), "focus_by": "vote"}
            )
            fresh = await ctx.learning_set()
            text += " Every member board has voted, so the set's focus is chosen."
    return ctx.show(await ctx.sets.set_card(fresh, viewer, Notice(text)))


async def set_focus(ctx: SetContext) -> Reply:
    learning_set = await ctx.learning_set()
    ctx.facilitating(learning_set)
    viewer, _ = await ctx.viewer(learning_set)
    framework = ctx.sets.framework(learning_set)
    chosen = read_elements(framework, ctx.read(SetFocus).focus)
    if len(chosen) not in FOCUS_SIZES:
        notice = Notice(
            f"Choose {FOCUS_SIZES[0]} or {FOCUS_SIZES[1]} elements for the set's focus (you "
            f"chose {len(chosen)}). Nothing was changed.",
            "attention",
        )
        return ctx.show(await ctx.sets.set_card(learning_set, viewer, notice))
    fields = {"focus": ",".join(map(str, chosen)), "focus_by": "facilitator"}
    if not await ctx.sets.store.set_fields(learning_set.id, fields):
        raise Refusal("That set has been closed, so nothing was changed.")
    fresh = await ctx.learning_set()
    notice = Notice("Focus chosen. Send the comparison when the members have shared.")
    return ctx.show(await ctx.sets.set_card(fresh, viewer, notice))


async def set_compare(ctx: SetContext) -> Reply:
    """The comparison on screen, for the one who asked (a member board's chair or clerk, or the
    facilitator)."""
    learning_set = await ctx.learning_set()
    viewer, _ = await ctx.viewer(learning_set)
    if not learning_set.focus:
        raise Refusal(
            "The set has no focus elements yet, so there is nothing to compare and nothing was "
            "changed."
        )
    framework = ctx.sets.framework(learning_set)
    rows = comparison(framework, learning_set)
    card = set_cards.comparison_card(learning_set, framework, viewer, rows, ctx.mode)
    paper = await ctx.sets.comparison_link(learning_set, viewer.member) if viewer.member else None
    return ctx.show(card, *([paper] if paper else []))


async def set_send(ctx: SetContext) -> Reply:
    """The comparison to every member board's chair and clerks, in their 1:1 chats."""
    learning_set = await ctx.learning_set()
    ctx.facilitating(learning_set)
    if not learning_set.focus:
        raise Refusal(
            "Choose the set's focus elements first, so nothing was sent and nothing was changed."
        )
    framework = ctx.sets.framework(learning_set)
    rows = comparison(framework, learning_set)
    sent = missed = 0
    for member in learning_set.members:
        board = await ctx.sets.desk.boards.board(member.tenant, member.board)
        if board is None:
            continue
        for person in board.members:
            if person.role not in (CHAIR, CLERK) or not person.teams_id:
                continue
            viewer = set_cards.Viewer(False, member, person.role)
            card = set_cards.comparison_card(learning_set, framework, viewer, rows, ctx.mode)
            if await ctx.sets.personal(board.service_url, board.tenant, person.teams_id, card):
                sent += 1
                paper = await ctx.sets.comparison_link(learning_set, member)
                if paper is not None:
                    await ctx.sets.personal(board.service_url, board.tenant, person.teams_id, paper)
            else:
                missed += 1
    viewer, _ = await ctx.viewer(learning_set)
    text = f"Comparison sent to {count(sent, 'chair or clerk', 'chairs and clerks')}"
    text += f" of the {count(len(learning_set.members), 'member board', 'member boards')}."
    if missed:
        text += f" {count(missed, 'person', 'people')} could not be reached: try again later."
    card = set_cards.comparison_card(
        learning_set,
        framework,
        viewer,
        rows,
        ctx.mode,
        Notice(text, "warning" if missed else "good"),
    )
    return ctx.show(card)


async def set_round(ctx: SetContext) -> Reply:
    """The board's round form, in one step, with the set's focus elements chosen: the clerk
    picks the deadline and opens it as any round (the board desk takes it from there)."""
    learning_set = await ctx.learning_set()
    viewer, _, board = await ctx.member_board(learning_set)
    if viewer.role != CLERK:
        raise Refusal("Only the board's clerk opens its rounds, so nothing was changed.")
    if not learning_set.focus:
        raise Refusal("The set has no focus elements yet, so nothing was changed.")
    framework = ctx.sets.framework(learning_set)
    rounds = ctx.sets.desk.rounds
    await rounds.none_open(board)
    today = clock.today(ctx.turn.now).isoformat()
    card = board_cards.round_form_card(
        board, framework, ctx.mode, today=today, elements=learning_set.focus
    )
    return ctx.show(card)


VERBS: dict[str, SetHandler] = {
    "set.vote": set_vote,  # a member board's vote for the focus (its chair or a clerk)
    "set.focus": set_focus,  # the set's three or four focus elements (facilitator)
    "set.round": set_round,  # the round form prefilled with the focus elements (a member's clerk)
    "set.compare": set_compare,  # the comparison, for the one who asks
    "set.send": set_send,  # the comparison to every member's chair and clerks (facilitator)
}
