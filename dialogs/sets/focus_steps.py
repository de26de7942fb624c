"""Choosing the set's focus (the facilitator, or the member boards by vote) and its comparison.

The comparison goes to people's 1:1 chats only, never to a channel: each member board's chair
and clerks get it, each with their own board marked, and the facilitator has it on screen.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Sequence

from frameworks import Framework

from .. import clock
from ..boards import cards as board_cards
from ..boards.model import CHAIR, CLERK, Board
from ..boards.ports import Outcome
from ..cards import Notice
from ..cards.build import count
from ..messages import Reply
from . import cards as set_cards
from .audience import for_set, set_batch
from .compare import Row, comparison, voted_focus
from .context import TAMPERED, Refusal, SetContext, SetHandler
from .model import FOCUS_SIZES, LearningSet, SetMember
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
    """The comparison to every member board's chair and clerks, in their 1:1 chats, through the
    outbox: each gets it once while this comparison stands (a new share makes a new one), and
    only if, when it goes, their board is still in the set and they are still its chair or a
    clerk. Those Teams kept refusing for longer than the outbox's retries are queued again."""
    learning_set = await ctx.learning_set()
    ctx.facilitating(learning_set)
    if not learning_set.focus:
        raise Refusal(
            "Choose the set's focus elements first, so nothing was sent and nothing was changed."
        )
    framework = ctx.sets.framework(learning_set)
    rows = comparison(framework, learning_set)
    batch = set_batch(learning_set.id, f"compare-{_digest(learning_set, rows)}")
    tally = Counter[str]()
    for member in learning_set.members:
        board = await ctx.sets.desk.boards.board(member.tenant, member.board)
        if board is not None:
            tally.update(await _send_to(ctx, learning_set, framework, rows, member, board, batch))
    viewer, _ = await ctx.viewer(learning_set)
    text = _sent_text(tally, len(learning_set.members))
    card = set_cards.comparison_card(
        learning_set,
        framework,
        viewer,
        rows,
        ctx.mode,
        Notice(text, "warning" if tally["missed"] else "good"),
    )
    return ctx.show(card)


async def _send_to(
    ctx: SetContext,
    learning_set: LearningSet,
    framework: Framework,
    rows: Sequence[Row],
    member: SetMember,
    board: Board,
    batch: str,
) -> Counter[str]:
    """Queue the comparison for one member board's chair and clerks not sent it yet; how many
    are on its way ("sent"), had this one already ("had") or could not be reached ("missed")."""
    mailer = ctx.sets.desk.mailer
    before = {o.to: o for o in await mailer.outcomes(board.tenant, board.id, batch)}
    people = [p for p in board.chair_and_clerks if p.teams_id]
    tally = Counter(_standing(before.get(p.teams_id)) for p in people)
    fresh = [p for p in people if p.teams_id not in before]
    if fresh:
        viewer = set_cards.Viewer(False, member, CHAIR)
        card = set_cards.comparison_card(learning_set, framework, viewer, rows, ctx.mode)
        paper = await ctx.sets.comparison_link(learning_set, member)
        more = [paper] if paper else []
        await ctx.sets.queue(board, batch, fresh, card, for_set(learning_set.id), more)
    await mailer.retry_failed(board.tenant, board.id, batch)
    return tally


def _standing(found: Outcome | None) -> str:
    if found is None or not found.final or found.state == "failed":
        return "sent"  # new, still going, or (failed) queued again
    return "had" if found.delivered else "missed"  # unreachable, or dropped


def _digest(learning_set: LearningSet, rows: Sequence[Row]) -> str:
    """What the comparison says: the same comparison sent again reaches nobody twice."""
    said = [
        (row.element.number, [(c.member.key, c.rating, c.change) for c in row.cells])
        for row in rows
    ]
    raw = json.dumps([learning_set.named, said], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _sent_text(tally: Counter[str], members: int) -> str:
    boards = count(members, "member board", "member boards")
    text = (
        f"Comparison on its way to {count(tally['sent'], 'chair or clerk', 'chairs and clerks')} "
        f"of the {boards}, in their chats with me."
    )
    if tally["had"]:
        text += f" {count(tally['had'], 'person', 'people')} had this same comparison already."
    if tally["missed"]:
        text += (
            f" {count(tally['missed'], 'person', 'people')} could not be reached with it "
            "(they may have blocked the bot)."
        )
    return text


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
