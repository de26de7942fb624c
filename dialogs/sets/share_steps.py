"""Sharing a result with a set: what the chair could share, and sharing one.

Only the chair shares, and only the result they pressed Share for: the board's latest closed
round (its board rating per element, from the round's own summary, leaving out any element fewer
than three trustees rated) or the chair's own latest finished self-assessment (their rating per
element). The ratings are worked out again on the server from the board's data when Share is
pressed: the card only says which result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from frameworks import Framework

from ..boards.model import Board, Round
from ..cards import Notice
from ..cards.build import count
from ..messages import Reply
from ..state import Assessment
from . import cards as set_cards
from .context import TAMPERED, Refusal, SetContext, SetHandler, person_ref
from .model import ROUND, SELF, SHARE_MIN_RATINGS, LearningSet, Share
from .payloads import SetShare

if TYPE_CHECKING:
    from .service import Sets


async def latest_round(sets: Sets, board: Board, framework: str) -> Round | None:
    boards = sets.desk.boards
    for round_id in reversed(await boards.rounds(board.tenant, board.id)):
        rnd = await boards.round(board.tenant, board.id, round_id)
        if rnd is not None and not rnd.is_open and rnd.framework == framework:
            return rnd
    return None


async def round_ratings(sets: Sets, board: Board, rnd: Round) -> tuple[dict[int, str], int]:
    """The board ratings a round can share, and how many of its elements it cannot."""
    reading = await sets.desk.rounds.read(board, rnd, compare=False)
    summary = reading.summary(False)
    shared = {
        cell.element.number: cell.board
        for cell in summary.elements
        if cell.shown and cell.board and cell.rated >= SHARE_MIN_RATINGS
    }
    return shared, len(summary.elements) - len(shared)


async def own_assessment(ctx: SetContext, framework: str) -> Assessment | None:
    store = ctx.sets.desk.store
    profile = await store.profile(ctx.who)
    last = profile.last.get(framework)
    found = await store.assessment(ctx.who, last) if last else None
    if found is None or found.finished is None or found.round is not None:
        return None
    return found


def own_ratings(assessment: Assessment) -> dict[int, str]:
    return {n: a.rating for n, a in sorted(assessment.answers.items()) if a.rating}


async def offers(ctx: SetContext, board: Board, framework: Framework) -> list[set_cards.Offer]:
    found = []
    rnd = await latest_round(ctx.sets, board, framework.id)
    if rnd is not None:
        ratings, withheld = await round_ratings(ctx.sets, board, rnd)
        title = f"The board's round, closed {set_cards.day(rnd.closed)}"
        found.append(set_cards.Offer(ROUND, rnd.id, title, ratings, withheld))
    mine = await own_assessment(ctx, framework.id)
    if mine is not None:
        title = f"Your own self-assessment, finished {set_cards.day(mine.finished)}"
        found.append(set_cards.Offer(SELF, mine.id, title, own_ratings(mine)))
    return found


async def set_offer(ctx: SetContext) -> Reply:
    learning_set = await ctx.learning_set()
    viewer, _, board = await ctx.member_board(learning_set, chair=True)
    framework = ctx.sets.framework(learning_set)
    found = await offers(ctx, board, framework)
    return ctx.show(set_cards.offer_card(learning_set, framework, viewer, found, ctx.mode))


async def set_share(ctx: SetContext) -> Reply:
    learning_set = await ctx.learning_set()
    viewer, _member, board = await ctx.member_board(learning_set, chair=True)
    given = ctx.read(SetShare)
    source, ref = given.source, given.ref
    ratings = await _ratings(ctx, learning_set, board, source, ref)
    if not ratings:
        raise Refusal(
            "That result has no rating that can be shared, so nothing was shared and nothing "
            "was changed. An element needs at least three trustees' ratings in a round to be "
            "shared."
        )
    share = Share(ratings, ctx.now, source, ref, person_ref(ctx.who.tenant, ctx.who.user))
    user = ctx.who.user if source == SELF else None
    if not await ctx.sets.store.share(learning_set.id, board.tenant, board.id, share, user):
        raise Refusal(
            "Your board is no longer in that set, so nothing was shared and nothing was changed."
        )
    await ctx.sets.keep_until(learning_set.id, ctx.turn.now)
    fresh = await ctx.learning_set()
    notice = Notice(
        f"Shared with the set: {count(len(ratings), 'rating', 'ratings')}, one per element, "
        "and nothing else. Leaving the set withdraws them."
    )
    return ctx.show(await ctx.sets.set_card(fresh, viewer, notice))


async def _ratings(
    ctx: SetContext, learning_set: LearningSet, board: Board, source: str, ref: str
) -> dict[int, str]:
    """The ratings of exactly the result named, read afresh from the board's own data."""
    if source == ROUND:
        rnd = await ctx.sets.desk.boards.round(board.tenant, board.id, ref)
        if rnd is None or rnd.framework != learning_set.framework:
            raise Refusal(
                "I can't find that round on your board, so nothing was shared and nothing was "
                "changed."
            )
        if rnd.is_open:
            raise Refusal(
                "That round is still open: it can be shared once it closes. Nothing was changed."
            )
        ratings, _ = await round_ratings(ctx.sets, board, rnd)
        return ratings
    if source == SELF:
        mine = await own_assessment(ctx, learning_set.framework)
        if mine is None or mine.id != ref:
            raise Refusal(
                "That is not your latest finished self-assessment on the set's framework, so "
                "nothing was shared and nothing was changed. Open Share a result again for the "
                "latest."
            )
        return own_ratings(mine)
    raise Refusal(TAMPERED)


VERBS: dict[str, SetHandler] = {
    "set.offer": set_offer,  # what the chair could share, exactly as it would leave (chair)
    "set.share": set_share,  # share that one result's ratings with the set (chair)
}
