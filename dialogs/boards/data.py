"""A board's data: exporting it for the clerk, deleting it, and deleting closed rounds after the
retention period.

What is exported respects each round's setting: in an anonymous round the answers carry no
names (and are listed by what they say), as on the summary; the clerk sees names beside answers
only where the round was attributed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..state import Assessment
from .model import Board, Round
from .round_steps import answers_of, batches, item, who_of

if TYPE_CHECKING:
    from .desk import Desk


async def export(desk: Desk, board: Board) -> dict[str, Any]:
    rounds = []
    for round_id in await desk.boards.rounds(board.tenant, board.id):
        rnd = await desk.boards.round(board.tenant, board.id, round_id)
        if rnd is not None:
            rounds.append(await _round(desk, board, rnd))
    return {
        "board": {"name": board.name, "team_id": board.id, "created": board.created},
        "members": [{"name": m.name, "role": m.role} for m in board.members],
        "rounds": rounds,
    }


async def _round(desk: Desk, board: Board, rnd: Round) -> dict[str, Any]:
    answers = await answers_of(desk, board, rnd)
    responses = [_response(rnd, m.name, a) for m in rnd.invited if (a := answers.get(m.key))]
    if not rnd.attributed:
        responses.sort(key=lambda r: str(r["answers"]))
    return {
        "id": rnd.id,
        "framework": rnd.framework,
        "framework_version": rnd.version,
        "elements": list(rnd.elements),
        "status": rnd.status,
        "opened": rnd.opened,
        "deadline": rnd.deadline,
        "closed": rnd.closed,
        "attributed": rnd.attributed,
        "min_responses": rnd.min_responses,
        "message": rnd.message,
        "invited": len(rnd.invited),
        "responses": responses,
        "priorities_plan": {
            str(n): {"what_the_board_will_do": p.actions, "progress_in_12_months": p.progress}
            for n, p in sorted(rnd.plan.items())
        },
        "published": rnd.published,
    }


def _response(rnd: Round, name: str, assessment: Assessment) -> dict[str, Any]:
    found: dict[str, Any] = {
        "finished": assessment.finished is not None,
        "answers": {
            str(n): {"rating": a.rating, "evidence": a.evidence}
            for n, a in sorted(assessment.answers.items())
            if assessment.covers(n) and (a.rating or a.evidence)
        },
    }
    if rnd.attributed:
        found = {"name": name, **found}
    return found


async def delete_round(desk: Desk, board: Board, rnd: Round) -> None:
    """A round and every trustee's answers in it."""
    answers = await answers_of(desk, board, rnd)
    for member in rnd.invited:
        if member.key in answers:
            await desk.store.delete_assessment(who_of(board, member), answers[member.key])
    for kind in ("close", "remind", "summary", "purge"):
        await desk.agenda.cancel(item(kind, board, rnd.id))
    await desk.mailer.forget(board.tenant, board.id, batches(rnd))
    await desk.boards.delete_round(board.tenant, board.id, rnd.id)


async def delete_board(desk: Desk, board: Board) -> int:
    """Everything of a board: rounds, trustees' answers in them, members, delivery records."""
    for round_id in await desk.boards.rounds(board.tenant, board.id):
        rnd = await desk.boards.round(board.tenant, board.id, round_id)
        if rnd is not None:
            await delete_round(desk, board, rnd)
    return await desk.boards.delete_board(board.tenant, board.id)
