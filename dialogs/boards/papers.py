"""The round's board paper (printable HTML) and its ratings as CSV, reached by a signed link.

Both are for circulating with the board's papers, so neither names anyone: evidence is quoted
without names whatever the round's setting, and an element with fewer ratings than the round's
minimum shows no breakdown here either, as on the summary card.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from frameworks import RATING_CODES

from ..cards.build import day
from ..cards.scheme import LOOKS
from ..rounds.cards import RULE, TONE, heat_rows, legend_line, responses_line, scope_line
from ..rounds.cards import small_print as summary_small_print
from ..rounds.minutes import HEADING as MINUTES_HEADING
from ..rounds.summary import RoundSummary
from .cards import round_minutes
from .model import Board, Plan, Round
from .ports import PeerResult

TEMPLATES = Path(__file__).parent / "templates"
CSS = {"R": "R", "AR": "AR", "AG": "AG", "G": "G"}


def rating_css() -> str:
    """The cards' look for each rating (dialogs/cards/scheme.py), as the paper's CSS: the same
    fills, letter colours and weights, so the paper reads like the cards, and prints."""
    rules = [
        f".{CSS[code]} {{ background: {look.fill}; color: {look.ink}; "
        f"font-weight: {700 if look.bold else 400}; }}"
        for code, look in LOOKS.items()
        if code in CSS
    ]
    none = LOOKS[None]
    rules.append(f".none {{ background: {none.fill}; color: {none.ink}; }}")
    # Printers drop backgrounds unless asked: the letters carry the rating either way.
    rules.append("td.R, td.AR, td.AG, td.G { print-color-adjust: exact; }")
    return "\n  ".join(rules)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # everything typed by people is escaped as HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(template: str, **values: Any) -> str:
    """Another printable page in the board paper's style (a learning set's comparison)."""
    return _environment().get_template(template).render(**values)


def paper_html(
    board: Board,
    rnd: Round,
    summary: RoundSummary,
    previous_closed: str | None = None,
    peer: Sequence[PeerResult] = (),
) -> str:
    framework = summary.framework
    reviews = [_peer_section(summary, result) for result in peer]
    weaker = {n for section in reviews for n in section["weaker"]}
    return (
        _environment()
        .get_template("paper.html.j2")
        .render(
            title=f"Board self-assessment: {board.name or 'the board'}",
            subtitle=f"{framework.title} · round closed {day(rnd.closed or rnd.deadline)}",
            scope=scope_line(summary),
            responses=responses_line(summary),
            tone=TONE,
            rule=RULE,
            rows=_rows(summary),
            compared=summary.compared,
            legend=legend_line(summary, previous_closed),
            rating_css=rating_css(),
            minutes_heading=MINUTES_HEADING,
            minutes=round_minutes(rnd, summary),
            columns=framework.priorities.columns,
            priorities=_priorities(rnd, summary, weaker),
            reviews=reviews,
            seeds=_seeds(summary, weaker),
            published=day(rnd.published) if rnd.published else "",
            no_priorities=NO_PRIORITIES,
            small_print=summary_small_print(summary)[:2],
            prepared=day(datetime.now(UTC).isoformat()),
        )
    )


NO_PRIORITIES = (
    "No element has a board rating of Red or Amber Red, and views nowhere differ by two or "
    "more steps."
)


def _rows(summary: RoundSummary) -> list[dict[str, Any]]:
    found = []
    for row, domain in zip(heat_rows(summary), summary.rows, strict=True):
        cells = [_cell(c, e) for c, e in zip(row["cells"], domain.cells, strict=True)]
        found.append({"title": row["title"], "cells": cells})
    return found


WEAKER_STEPS = 2  # the peer rated an element this many steps weaker than the board: a seed


def _steps(code: str | None) -> int | None:
    return RATING_CODES.index(code) if code in RATING_CODES else None


def peer_weaker(summary: RoundSummary, results: Sequence[PeerResult]) -> set[int]:
    """Elements some peer rated two or more steps weaker than the round's board rating."""
    return {n for result in results for n in _peer_section(summary, result)["weaker"]}


def _peer_section(summary: RoundSummary, result: PeerResult) -> dict[str, Any]:
    """Self versus peer: this round's board rating beside the peer's, for each element the peer
    was asked about; two or more steps apart flagged, the peer's evidence as key issues."""
    own = {s.element.number: s.board for s in summary.elements if s.shown and s.board}
    rows, weaker = [], []
    for number, (rating, evidence) in sorted(result.ratings.items()):
        element = summary.framework.element(number)
        if element is None:
            continue
        mine, theirs = _steps(own.get(number)), _steps(rating)
        apart = mine is not None and theirs is not None and abs(mine - theirs) >= WEAKER_STEPS
        if apart and theirs is not None and mine is not None and theirs < mine:
            weaker.append(number)
        rows.append(
            {
                "title": f"{number}. {element.title}",
                "own": own.get(number) or "–",
                "own_css": CSS.get(own.get(number) or "", "none"),
                "peer": rating or "–",
                "peer_css": CSS.get(rating or "", "none"),
                "flag": apart,
                "weaker": number in weaker,
                "evidence": " ".join(evidence.split()),
            }
        )
    return {"done": day(result.done) if result.done else "", "rows": rows, "weaker": weaker}


def _seeds(summary: RoundSummary, weaker: set[int]) -> list[str]:
    """Elements a peer rated two or more steps weaker that are not among the priorities yet."""
    listed = {p.summary.element.number for p in summary.priorities}
    found = []
    for number in sorted(weaker - listed):
        element = summary.framework.element(number)
        if element is not None:
            found.append(f"{number}. {element.title}")
    return found


def _priorities(rnd: Round, summary: RoundSummary, weaker: set[int]) -> list[dict[str, Any]]:
    found = []
    for p in summary.priorities:
        plan = rnd.plan.get(p.summary.element.number) or Plan()
        found.append(
            {
                "focus_area": p.focus_area,
                "css": CSS.get(p.summary.board or "", "none"),
                "key_issues": [" ".join(e.text.split()) for e in p.evidence],
                "actions": plan.actions,
                "progress": plan.progress,
                "peer_weaker": p.summary.element.number in weaker,
            }
        )
    return found


def _cell(cell: dict[str, Any], element: Any) -> dict[str, Any]:
    return {
        "code": cell["code"],
        "css": CSS.get(element.board or "", "none"),
        "label": cell["label"],
        "flag": bool(cell["flag"]),
        "details": cell["details"].split(" · Change: ")[0],
        "change": element.change or "",
    }


def ratings_csv(rnd: Round, summary: RoundSummary, ratings: list[tuple[int, str]]) -> str:
    """One row per rating given, for elements shown on the summary only; no names."""
    out = io.StringIO()
    writer = csv.writer(out)
    # The legend travels with the data: each rating's letters and its name, as on the cards.
    writer.writerow(["round", "framework", "element", "title", "rating", "rating_name"])
    shown = {s.element.number: s for s in summary.elements if s.shown}
    order = {code: i for i, code in enumerate(RATING_CODES)}
    for number, rating in sorted(ratings, key=lambda r: (r[0], order.get(r[1], 9))):
        if number in shown:
            element = shown[number].element
            name = LOOKS[rating].name if rating in LOOKS else rating
            writer.writerow([rnd.id, summary.framework.id, number, element.title, rating, name])
    return out.getvalue()
