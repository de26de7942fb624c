"""A board's data, exported for the clerk (deleting it is the round service's: it deletes each
round, as the retention period does).

What is exported respects each round's setting: in an anonymous round the answers carry no
names (and are listed by what they say), as on the summary; the clerk sees names beside answers
only where the round was attributed.
"""

from __future__ import annotations

import json
from typing import Any

from ..state import Assessment
from .model import Board, Round
from .reading import Reader
from .records import BoardRecords


async def export(reader: Reader, records: BoardRecords, board: Board) -> dict[str, Any]:
    rounds = []
    for round_id in await records.rounds():
        rnd = await records.round(round_id)
        if rnd is not None:
            rounds.append(_round(rnd, await reader.answers(board, rnd)))
    return {
        "board": {"name": board.name, "team_id": board.id, "created": board.created},
        "members": [{"name": m.name, "role": m.role} for m in board.members],
        "rounds": rounds,
    }


def export_json(found: dict[str, Any]) -> str:
    return json.dumps(found, ensure_ascii=False, indent=1)


def _round(rnd: Round, answers: dict[str, Assessment]) -> dict[str, Any]:
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
