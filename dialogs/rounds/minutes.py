"""The round in a few plain sentences, for the clerk to paste into the board's minutes.

Factual and in the frameworks' diagnostic tone: what was asked, who answered, where the board
rated itself strongest and weakest, where views differed, and the priorities. It counts people
and never names them, whatever the round's setting, and says nothing of an element with too few
ratings to show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from frameworks import RATING_CODES

from ..clock import day
from ..results import RATING_WORDS
from .summary import BoardDomainRow, RoundSummary

HEADING = "For the minutes"
NUMBER_WORDS = (
    "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve",
)  # fmt: skip


def minutes(
    summary: RoundSummary, closed_on: str, plans: Mapping[int, tuple[str, str]] | None = None
) -> list[str]:
    """The paragraphs: `closed_on` is an ISO timestamp; `plans` the chair's agreed plan by
    element number (what the board will do, the progress it wants), once published."""
    return [
        _responses(summary, closed_on),
        *_domains(summary),
        _views(summary),
        _priorities(summary, plans or {}),
    ]


def _words(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else f"{n:,}"


def _count(n: int, one: str, many: str) -> str:
    return f"{_words(n)} {one if n == 1 else many}"


def _listed(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def _responses(summary: RoundSummary, closed_on: str) -> str:
    fw = summary.framework
    total = len(fw.elements)
    asked = len(summary.element_numbers)
    scope = f"all {total} elements" if asked == total else f"{asked} of its {total} elements"
    invited, finished = summary.invited, summary.finished
    if finished == invited:
        who = f"All {_words(invited)} trustees invited" if invited > 1 else "The trustee invited"
    else:
        of = _count(invited, "trustee", "trustees")
        who = f"{_words(finished).capitalize()} of the {of} invited"
    text = (
        f"The board's self-assessment round on the {fw.title} ({scope}) closed on "
        f"{day(closed_on)}. {who} completed it ({summary.response_rate}%)"
    )
    if summary.in_progress:
        verb = "was" if summary.in_progress == 1 else "were"
        text += f"; {_words(summary.in_progress)} more {verb} part-way through"
    return text + "."


def _score(row: BoardDomainRow) -> float | None:
    """The domain's shown board ratings on the scale R=0 … G=3, averaged; None if none shown."""
    rated = [RATING_CODES.index(c.board) for c in row.cells if c.shown and c.board]
    return sum(rated) / len(rated) if rated else None


def _domains(summary: RoundSummary) -> list[str]:
    scored = [(s, row) for row in summary.rows if (s := _score(row)) is not None]
    hidden = sum(1 for c in summary.elements if not c.shown)
    lines = []
    if len(scored) >= 2 and max(s for s, _ in scored) > min(s for s, _ in scored):
        top, bottom = max(s for s, _ in scored), min(s for s, _ in scored)
        strongest = [row for s, row in scored if s == top]
        weakest = [row for s, row in scored if s == bottom]
        lines.append(
            f"The board rated itself strongest in {_domain_list(strongest)} and weakest in "
            f"{_domain_list(weakest)}."
        )
    elif len(scored) == 1 or scored:
        rows = [row for _, row in scored]
        ratings = sorted({c.board for row in rows for c in row.cells if c.shown and c.board})
        words = _listed([RATING_WORDS[r] for r in sorted(ratings, key=RATING_CODES.index)])
        lines.append(f"Board ratings in {_domain_list(rows)} were {words}.")
    if hidden:
        lines.append(
            f"{_count(hidden, 'element', 'elements').capitalize()} had fewer than "
            f"{summary.settings.min_responses} ratings, so no rating is reported for "
            f"{'it' if hidden == 1 else 'them'}."
        )
    return [" ".join(lines)] if lines else []


def _domain_list(rows: Sequence[BoardDomainRow]) -> str:
    return _listed([f"{row.domain.title} ({_ratings_of(row)})" for row in rows])


def _ratings_of(row: BoardDomainRow) -> str:
    shown = [(c.element, c.board) for c in row.cells if c.shown and c.board]
    return "; ".join(f"{e.number}. {e.title}: {RATING_WORDS[board]}" for e, board in shown)


def _views(summary: RoundSummary) -> str:
    differ = [c for c in summary.elements if c.spread]
    if not differ:
        return "Trustees' views were nowhere two or more steps apart."
    named = _listed([f"{c.element.number}. {c.element.title}" for c in differ])
    return (
        f"Trustees' views were two or more steps apart on "
        f"{_count(len(differ), 'element', 'elements')}: {named}."
    )


def _priorities(summary: RoundSummary, plans: Mapping[int, tuple[str, str]]) -> str:
    found = summary.priorities
    if not found:
        return (
            "No element had a board rating of Red or Amber Red, so the round found no "
            "priorities for improvement."
        )
    named = _listed([p.focus_area for p in found])
    text = f"The draft priorities for improvement are {named}."
    agreed = [p for p in found if any(plans.get(p.summary.element.number, ("", "")))]
    if plans and agreed:
        text += (
            f" The chair has agreed a plan for {_count(len(agreed), 'of them', 'of them')}"
            if len(agreed) < len(found)
            else " The chair has agreed a plan for each"
        )
        text += ", set out in the priorities table."
    return text
