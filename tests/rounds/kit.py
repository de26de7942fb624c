"""Rounds to summarise, and ways to read the round summary card as a chair would."""

from __future__ import annotations

from typing import Any

from dialogs.messages import Card
from dialogs.rounds import Response, RoundSettings, RoundSummary, round_summary_card, summarise
from dialogs.state import Answer
from frameworks import Framework
from tests.cards.kit import FRAMEWORKS, GOV, STAMP, STRONG
from tests.dialogs.cardkit import priority_grid, walk

GOVERNANCE: Framework = FRAMEWORKS[GOV]
STRONG_TRUSTS: Framework = FRAMEWORKS[STRONG]
ALL = tuple(e.number for e in GOVERNANCE.elements)
CLOSED = "2026-03-03T17:30:00+00:00"
EARLIER = "2025-03-04T17:30:00+00:00"
# Names nobody would write in evidence, so "no name on the card" can be checked by search.
NAMES = ("Ottoline Quarrie", "Barnaby Voss", "Cressida Mulholland", "Dorian Fairweather")
NAMES += ("Euphemia Strand", "Fergus Oyelaran", "Gwendolen Pike", "Horatio Nkemelu")
ATTRIBUTED = RoundSettings(attributed=True)
ANONYMOUS = RoundSettings(attributed=False)


def response(
    index: int,
    ratings: dict[int, str | None],
    evidence: str | dict[int, str] = "",
    finished: bool = True,
) -> Response:
    """Trustee `index` (named from NAMES) with `ratings`; each answer carries `evidence`."""
    answers = {
        n: Answer(rating, evidence if isinstance(evidence, str) else evidence.get(n, ""), STAMP)
        for n, rating in ratings.items()
    }
    name = NAMES[index] if index < len(NAMES) else f"Trustee number {index}"
    return Response(f"user-{index:02d}", name, answers, finished)


def rated(number: int, codes: str, evidence: dict[int, str] | None = None) -> list[Response]:
    """One finished response per code in `codes` ("R AR AG G"), all on element `number`."""
    notes = evidence or {}
    return [
        response(i, {number: code}, {number: notes.get(i, "")})
        for i, code in enumerate(codes.split())
    ]


def card_for(summary: RoundSummary, board: str = "Oakfield Learning Trust", **kwargs: Any) -> Card:
    return round_summary_card(summary, board, CLOSED, "execute", **kwargs)


def summary_of(
    responses: list[Response],
    numbers: tuple[int, ...] = ALL,
    invited: int | None = None,
    settings: RoundSettings = ATTRIBUTED,
    framework: Framework = GOVERNANCE,
    previous: RoundSummary | None = None,
) -> RoundSummary:
    count = len(responses) if invited is None else invited
    return summarise(framework, numbers, responses, count, settings, previous)


def texts(card: Card) -> list[str]:
    """Every piece of text on the card, in order (TextRuns and TextBlocks)."""
    return [
        n["text"] for n in walk(card.content["body"]) if n.get("type") in ("TextRun", "TextBlock")
    ]


def heat_cells(card: Card) -> dict[str, dict[str, Any]]:
    """Each heat-map cell by its label ("5. Risk management"): code, style, flag, details."""
    cells = {}
    for node in walk(card.content["body"]):
        if node.get("type") != "ColumnSet":
            continue
        code_column, text_column = node["columns"]
        title, details = text_column["items"]
        label, *flag = (run["text"] for run in title["inlines"])
        cells[label] = {
            "code": code_column["items"][0]["text"],
            "style": code_column["style"],
            "flag": "".join(flag).strip(),
            "details": details["text"],
        }
    return cells


def table_rows(card: Card) -> list[list[list[str]]]:
    """The priorities: the heading row, then a row per priority, each cell the texts it shows."""
    return priority_grid(card.content)
