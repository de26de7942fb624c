"""Peer review: a chair asks a peer to review their board, the peer takes it up, and when they
finish, the board's chair and clerks get self versus peer.

    set card (chair) ──review.new──► form ──review.ask──► invitation in the peer chair's chat,
                                                          or a code to pass on ("review <code>")
    invitation ──start──► the element cards, "Rate Oak Learning Trust's board" (the walkthrough)
    finish ──► self versus peer to the reviewed board's chair and clerks; the review is final

The reviewer's answers are an assessment of their own (scope "round:<review id>"), reached
through `ReviewRounds`, the walkthrough's board side, which hands real rounds to the desk.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from .. import clock
from ..boards.model import CHAIR, Board
from ..boards.ports import CHAIR as CHAIR_AND_CLERKS
from ..cards import Notice
from ..engine import Joined
from ..messages import Reply, Text
from ..state import Assessment, RoundLink, Who
from . import cards as set_cards
from .audience import for_set, review_batch
from .compare import self_versus_peer
from .context import NOT_YOURS, TAMPERED, Refusal, SetContext, SetHandler
from .focus_steps import read_elements
from .model import DONE, REVIEW_DAYS, STARTED, LearningSet, Person, Review, SetMember
from .payloads import ReviewAccept, ReviewAsk, ReviewNew
from .review_store import peer_field
from .set_steps import new_code, typed_code
from .share_steps import latest_round, own_ratings

if TYPE_CHECKING:
    from ..boards.desk import Desk
    from .service import Sets

log = logging.getLogger("trustboard.sets")

CHAIR_ASKS = (
    "A peer review is asked for by the board's chair, and I don't have you as the chair of that "
    "board, so nothing was changed."
)
MOST_ELEMENTS = 8


async def _chaired(ctx: SetContext, board_id: str) -> Board:
    board = await ctx.own_board(board_id)
    if board.role(ctx.who.user) != CHAIR:
        raise Refusal(CHAIR_ASKS)
    return board


async def _in_set(
    ctx: SetContext, set_id: str | None, board: Board
) -> tuple[LearningSet | None, list[tuple[str, str]]]:
    """The set the review is asked within (the board must be a member), and the other members
    as the chair may name them: (label, name as the set shows it to this board)."""
    if set_id is None:
        return None, []
    learning_set = await ctx.sets.store.get(set_id)
    own = learning_set.member(board.tenant, board.id) if learning_set else None
    if learning_set is None or own is None:
        raise Refusal(NOT_YOURS)
    viewer = set_cards.Viewer(False, own, CHAIR)
    peers = [
        (m.label, set_cards.member_name(learning_set, m, viewer))
        for m in learning_set.members
        if m.key != own.key
    ]
    return learning_set, peers


async def review_new(ctx: SetContext) -> Reply:
    given = ctx.read(ReviewNew)
    board = await _chaired(ctx, given.board)
    learning_set, peers = await _in_set(ctx, given.set_id, board)
    framework = ctx.sets.frameworks.get(learning_set.framework if learning_set else "")
    framework = framework or next(iter(ctx.sets.frameworks.values()))
    chosen = learning_set.focus if learning_set else ()
    card = set_cards.review_form_card(
        board.name, board.id, framework, peers, chosen, ctx.mode, given.set_id
    )
    return ctx.show(card)


async def review_ask(ctx: SetContext) -> Reply:
    given = ctx.read(ReviewAsk)
    board = await _chaired(ctx, given.board)
    learning_set, peers = await _in_set(ctx, given.set_id, board)
    framework = ctx.sets.frameworks.get(given.framework)
    if framework is None or (learning_set and learning_set.framework != framework.id):
        raise Refusal(TAMPERED)
    elements = read_elements(framework, given.elements)
    if not elements or len(elements) > MOST_ELEMENTS:
        card = set_cards.review_form_card(
            board.name,
            board.id,
            framework,
            peers,
            elements,
            ctx.mode,
            given.set_id,
            Notice(
                f"Choose from one to {MOST_ELEMENTS} elements for the peer to review. Nothing "
                "was asked yet.",
                "attention",
            ),
        )
        return ctx.show(card)
    reviewer, reviewer_board = None, None
    if given.reviewer != set_cards.CODE_CHOICE:
        if learning_set is None or given.reviewer not in {label for label, _ in peers}:
            raise Refusal(TAMPERED)
        reviewer_board = await _peer_board(ctx, learning_set, given.reviewer)
        reviewer = _chair_of(reviewer_board)
    review = Review(
        id=secrets.token_hex(6),
        framework=framework.id,
        version=framework.version,
        elements=elements,
        board=SetMember(board.tenant, board.id, board.name or "A trust board", ctx.now, ""),
        asked_by=ctx.who.user,
        created=ctx.now,
        deadline=clock.iso(ctx.turn.now + timedelta(days=REVIEW_DAYS)),
        set_id=learning_set.id if learning_set else "",
        code=None if reviewer else new_code(),
        reviewer=reviewer,
    )
    await ctx.sets.reviews.create(review)
    log.info("peer review asked for")
    if reviewer_board is None or learning_set is None:
        return Reply(
            send=[
                Text(
                    "Here is the invitation code for your peer review: "
                    f"{set_cards.code_text(review.code or '')}. Pass it to the reviewer yourself; "
                    "they type review and the code in their chat with me. It works once, for the "
                    "first person to use it."
                )
            ]
        )
    # Through the outbox, under the peer's board: it goes while that board is still in the set
    # and the peer still its chair or a clerk, and a busy Teams delays it rather than losing it.
    card = set_cards.invitation_card(review, framework, ctx.mode)
    chair = reviewer_board.chair
    assert chair is not None  # _chair_of found one
    batch = review_batch(review.id, "ask")
    await ctx.sets.queue(reviewer_board, batch, [chair], card, for_set(learning_set.id))
    text = (
        "I've asked the peer for the review: the invitation is on its way to their chat with "
        "me. When they finish, you and the board's clerks get their ratings beside the board's "
        "own."
    )
    return Reply(send=[Text(text)])


NO_CHAIR = (
    "That board has no chair named yet, so nothing was asked. Choose another, or ask with an "
    "invitation code."
)


async def _peer_board(ctx: SetContext, learning_set: LearningSet, label: str) -> Board:
    member = next((m for m in learning_set.members if m.label == label), None)
    board = await ctx.sets.desk.boards.board(member.tenant, member.board) if member else None
    if board is None:
        raise Refusal(NO_CHAIR)
    return board


def _chair_of(board: Board) -> Person:
    chair = board.chair
    if chair is None or not chair.teams_id:
        raise Refusal(NO_CHAIR)
    return Person(board.tenant, chair.key, chair.name, chair.teams_id, board.service_url)


async def review_accept(ctx: SetContext) -> Reply:
    code = await typed_code(
        ctx,
        ctx.read(ReviewAccept).code,
        "An invitation code is eight letters and digits, like KQ7M-4XPD: type review and "
        "the code the board's chair gave you. Nothing was changed.",
        "Too many wrong codes in the last hour, so I am not trying any more for now, and "
        "nothing was changed.",
    )
    store = ctx.sets.store
    review_id = await ctx.sets.reviews.by_code(code)
    review = await ctx.sets.reviews.get(review_id) if review_id else None
    if review is None:
        await store.wrong_code(ctx.who.tenant, ctx.who.user)
        raise Refusal(
            "That isn't an invitation code I know (it may have been used already), so nothing "
            "was changed. Please check it with the board's chair."
        )
    board = await ctx.sets.desk.boards.board(review.board.tenant, review.board.board)
    if review.board.tenant == ctx.who.tenant and board and board.member(ctx.who.user):
        raise Refusal(
            "A peer review is by someone from outside the board, and you are one of its "
            "members, so nothing was changed."
        )
    place = ctx.place
    person = Person(
        ctx.who.tenant,
        ctx.who.user,
        ctx.who.name or "A peer",
        place.sender_id if place else "",
        place.service_url if place else "",
    )
    answer = await ctx.sets.reviews.accept(review, code, person)
    if answer not in ("ok", "already"):
        raise Refusal(
            "That invitation has been taken up by someone else already, so nothing was changed."
        )
    fresh = await ctx.sets.reviews.get(review.id) or review
    framework = ctx.sets.frameworks.get(fresh.framework)
    if framework is None:
        raise Refusal("That review uses a framework I no longer have.")
    return ctx.show(set_cards.invitation_card(fresh, framework, ctx.mode))


VERBS: dict[str, SetHandler] = {
    "review.new": review_new,  # the form: elements, and who reviews (the board's chair)
    "review.ask": review_ask,  # ask it: the peer's invitation, or a code (the board's chair)
    "review.accept": review_accept,  # take it up with a code (anyone outside the board)
}


# ---- the walkthrough's board side ---------------------------------------------------------------


class ReviewRounds:
    """What the walkthrough asks of boards (dialogs.engine.Rounds): a review's answers are the
    sets' business; every real round's, the desk's."""

    def __init__(self, desk: Desk, sets: Sets) -> None:
        self.desk = desk
        self.sets = sets

    async def join(self, who: Who, board: str, round_id: str) -> Joined | str:
        review = await self.sets.reviews.get(round_id)
        if review is None or review.board.board != board:
            return await self.desk.join(who, board, round_id)
        if not review.is_reviewer(who.tenant, who.user):
            return (
                "That peer review was asked of someone else, so nothing was changed. If you "
                "were given a code for it, type review and the code."
            )
        link = RoundLink(review.board.board, review.id, review.board.name, review.deadline, True)
        return Joined(review.framework, review.version, review.elements, link)

    async def progressed(self, who: Who, assessment: Assessment) -> None:
        link = assessment.round
        if link is None or not link.review:
            await self.desk.progressed(who, assessment)
            return
        review = await self.sets.reviews.get(link.round)
        if review is None or not review.is_reviewer(who.tenant, who.user):
            return
        if assessment.finished is None:
            await self.sets.reviews.move(review.id, STARTED)
            return
        done = {"done_at": assessment.finished, "peer": peer_field(peer_view(assessment))}
        if not await self.sets.reviews.move(review.id, DONE, done):
            return  # sent already
        await self.desk.store.lock(who, assessment, assessment.finished)
        await send_self_peer(self.sets, review, assessment)


async def own_view(sets: Sets, review: Review, board: Board) -> tuple[dict[int, str], str]:
    """The board's own ratings of the reviewed elements, and where they come from: its latest
    closed round on the framework, else its chair's own latest self-assessment."""
    rnd = await latest_round(sets, board, review.framework)
    if rnd is not None:
        summary = (await sets.desk.rounds.read(board, rnd, compare=False)).summary(False)
        ratings = {c.element.number: c.board for c in summary.elements if c.shown and c.board}
        return ratings, f"its round of {set_cards.day(rnd.closed)}"
    chair = Who(board.tenant, review.asked_by)
    profile = await sets.desk.store.profile(chair)
    last = profile.last.get(review.framework)
    mine = await sets.desk.store.assessment(chair, last) if last else None
    if mine is not None and mine.round is None:
        return own_ratings(mine), f"the chair's self-assessment of {set_cards.day(mine.finished)}"
    return {}, "no round or self-assessment yet"


def peer_view(assessment: Assessment) -> dict[int, tuple[str | None, str]]:
    return {
        n: (a.rating, a.evidence) for n, a in assessment.answers.items() if assessment.covers(n)
    }


async def send_self_peer(sets: Sets, review: Review, assessment: Assessment) -> int:
    """Self versus peer queued in the outbox for the reviewed board's chair and clerks, each in
    their 1:1 chat (sent only if they still are when it goes); how many it was queued for."""
    board = await sets.desk.boards.board(review.board.tenant, review.board.board)
    framework = sets.frameworks.get(review.framework)
    if board is None or framework is None:
        return 0
    own, source = await own_view(sets, review, board)
    rows = self_versus_peer(framework, review.elements, own, peer_view(assessment))
    card = set_cards.self_peer_card(review, framework, rows, source, sets.mode)
    people = [m for m in board.chair_and_clerks if m.teams_id]
    await sets.queue(board, review_batch(review.id, "peer"), people, card, CHAIR_AND_CLERKS)
    return len(people)
