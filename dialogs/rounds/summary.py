"""A board-wide round, summed up: the board's heat map, response rate and draft priorities.

Pure and SDK-free: trustees' answers in, a `RoundSummary` out. No storage, no Teams.

The rules, as the summary card states them:

- **Board rating.** The median of the trustees' ratings for the element, on the scale
  R < AR < AG < G. With an even number of ratings there are two middle ones, and the board rating
  is the weaker of the two: the framework asks the board where capacity needs building, so a
  split board errs on the side of looking closer. One rating is its own median.
- **Views differ.** An element is flagged when two of its ratings are two or more steps apart
  (R with AG or G, AR with G): those are the conversations the board needs to have.
- **Who counts.** A rating counts wherever a trustee gave it, finished or not: a trustee who
  rated five elements and then ran out of time still said what they think of those five, and
  the round's minimum is easier to reach. Evidence without a rating (a draft) is not counted.
  The response rate counts finished responses only; the others are reported as in progress.
- **Minimum responses.** An element with fewer ratings than `RoundSettings.min_responses` shows
  no distribution, board rating, flag or evidence, in attributed rounds too, so a small board
  cannot tell who rated what. Such an element is never a priority.
- **Anonymity.** In an anonymous round evidence carries no name, and it is ordered by what it
  says, never by who wrote it or when, so its order gives no author away.
- **Priorities.** Elements with a board rating of Red or Amber Red, and flagged ones, in the
  framework's order. Key issues are drawn from the element's evidence, that of trustees who rated
  Red or Amber Red first.
- **Change.** Against an earlier closed round on the same framework, element by element (matched
  by the element's id, so a new framework version still lines up): "AR → AG", "no change",
  "not shown → AG" where one round had too few ratings, or "new" when the element was not in
  that round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from frameworks import RATING_CODES, Domain, Element, Framework

from ..results import focus_area
from ..state import Answer

PRIORITY_RATINGS = ("R", "AR")
SPREAD_STEPS = 2  # ratings this many steps apart or more are flagged
DEFAULT_MIN_RESPONSES = 3
NOT_SHOWN = "not shown"
NO_RATINGS = "no ratings"


@dataclass(frozen=True)
class Response:
    """One trustee's answers in the round, finished or not."""

    trustee_id: str
    name: str
    answers: Mapping[int, Answer]
    finished: bool


@dataclass(frozen=True)
class RoundSettings:
    attributed: bool
    min_responses: int = DEFAULT_MIN_RESPONSES

    def __post_init__(self) -> None:
        if self.min_responses < 1:
            raise ValueError(f"min_responses must be at least 1, not {self.min_responses}")


@dataclass(frozen=True)
class Evidence:
    text: str  # as the trustee wrote it; the card shortens it
    rating: str  # the rating it supports, so priorities can put R and AR evidence first
    name: str | None  # who wrote it; None in an anonymous round


@dataclass(frozen=True)
class ElementSummary:
    element: Element
    rated: int  # ratings given; the card does not show it when below the minimum
    shown: bool  # enough ratings for a breakdown
    counts: Mapping[str, int]  # per rating code, all four; all zero when not shown
    board: str | None  # board rating; None when not shown or not rated
    spread: bool  # ratings two or more steps apart; False when not shown
    evidence: tuple[Evidence, ...]  # R and AR first; empty when not shown
    change: str | None = None  # against the previous round; None when there is none

    @property
    def distribution(self) -> str:
        """Like "R 1 · AR 2 · AG 4 · G 1", zeros kept so a column of cells reads alike."""
        return " · ".join(f"{code} {self.counts.get(code, 0)}" for code in RATING_CODES)

    @property
    def is_priority(self) -> bool:
        return self.board in PRIORITY_RATINGS or self.spread


@dataclass(frozen=True)
class BoardDomainRow:
    domain: Domain
    cells: tuple[ElementSummary, ...]


@dataclass(frozen=True)
class BoardPriority:
    summary: ElementSummary

    @property
    def focus_area(self) -> str:
        return focus_area(self.summary.element, self.summary.board, self.summary.spread)

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        return self.summary.evidence


@dataclass(frozen=True)
class RoundSummary:
    framework: Framework
    element_numbers: tuple[int, ...]  # in the framework's order
    settings: RoundSettings
    invited: int
    finished: int
    in_progress: int
    rows: tuple[BoardDomainRow, ...]  # only domains with an element in the round
    priorities: tuple[BoardPriority, ...]
    compared: bool = False  # a previous round was given, so each element has a change

    @property
    def elements(self) -> tuple[ElementSummary, ...]:
        return tuple(cell for row in self.rows for cell in row.cells)

    def element(self, number: int) -> ElementSummary | None:
        return next((s for s in self.elements if s.element.number == number), None)

    @property
    def response_rate(self) -> int:
        return percent(self.finished, self.invited)


def board_rating(ratings: Iterable[str]) -> str | None:
    """The median rating; with an even count, the weaker of the two middle ones."""
    ordered = sorted(ratings, key=RATING_CODES.index)
    if not ordered:
        return None
    return ordered[(len(ordered) - 1) // 2]


def views_differ(ratings: Iterable[str]) -> bool:
    steps = [RATING_CODES.index(r) for r in ratings]
    return bool(steps) and max(steps) - min(steps) >= SPREAD_STEPS


def percent(part: int, whole: int) -> int:
    """Rounded half up, but never 100 until everyone is in, nor 0 once someone is."""
    if whole <= 0:
        return 0
    value = (200 * part + whole) // (2 * whole)
    if part < whole:
        value = min(value, 99)
    if part > 0:
        value = max(value, 1)
    return value


def summarise(
    framework: Framework,
    element_numbers: Iterable[int],
    responses: Sequence[Response],
    invited: int,
    settings: RoundSettings,
    previous: RoundSummary | None = None,
) -> RoundSummary:
    numbers = _round_numbers(framework, element_numbers)
    _check(framework, responses, invited, previous)
    cells = {
        n: _element_summary(framework.elements[n - 1], responses, settings, previous)
        for n in numbers
    }
    rows = tuple(
        BoardDomainRow(
            domain,
            tuple(cells[e.number] for e in framework.elements_in(domain.id) if e.number in cells),
        )
        for domain in framework.domains
    )
    rows = tuple(row for row in rows if row.cells)
    finished = sum(1 for r in responses if r.finished)
    return RoundSummary(
        framework=framework,
        element_numbers=numbers,
        settings=settings,
        invited=invited,
        finished=finished,
        in_progress=len(responses) - finished,
        rows=rows,
        priorities=tuple(BoardPriority(cells[n]) for n in numbers if cells[n].is_priority),
        compared=previous is not None,
    )


def _round_numbers(framework: Framework, element_numbers: Iterable[int]) -> tuple[int, ...]:
    numbers = set(element_numbers)
    if not numbers:
        raise ValueError("a round needs at least one element")
    unknown = sorted(n for n in numbers if framework.element(n) is None)
    if unknown:
        raise ValueError(f"{framework.id} has no element {unknown}")
    return tuple(sorted(numbers))


def _check(
    framework: Framework,
    responses: Sequence[Response],
    invited: int,
    previous: RoundSummary | None,
) -> None:
    ids = [r.trustee_id for r in responses]
    if len(set(ids)) != len(ids):
        raise ValueError("a trustee answers a round once: trustee ids repeat")
    ratings = {a.rating for r in responses for a in r.answers.values() if a.rating is not None}
    odd = ratings - set(RATING_CODES)
    if odd:
        raise ValueError(f"ratings not on the scale {RATING_CODES}: {sorted(odd)}")
    if invited < len(responses):
        raise ValueError(f"{len(responses)} responses but only {invited} trustees invited")
    if previous is not None and previous.framework.id != framework.id:
        raise ValueError(f"the previous round is on {previous.framework.id}, not {framework.id}")


def _element_summary(
    element: Element,
    responses: Sequence[Response],
    settings: RoundSettings,
    previous: RoundSummary | None,
) -> ElementSummary:
    rated = [(r, a) for r in responses if (a := r.answers.get(element.number)) and a.rating]
    ratings = [a.rating for _, a in rated if a.rating]
    shown = len(ratings) >= settings.min_responses  # at least 1, so some were rated
    board = board_rating(ratings) if shown else None
    summary = ElementSummary(
        element=element,
        rated=len(ratings),
        shown=shown,
        counts={code: ratings.count(code) if shown else 0 for code in RATING_CODES},
        board=board,
        spread=shown and views_differ(ratings),
        evidence=_evidence(rated, settings.attributed) if shown else (),
    )
    if previous is None:
        return summary
    return _with_change(summary, previous)


def _evidence(rated: list[tuple[Response, Answer]], attributed: bool) -> tuple[Evidence, ...]:
    items = [
        Evidence(a.evidence.strip(), a.rating or "", r.name if attributed else None)
        for r, a in rated
        if a.evidence.strip()
    ]

    def order(item: Evidence) -> tuple[int, int, str, str]:
        first = 0 if item.rating in PRIORITY_RATINGS else 1
        if attributed:
            return (first, RATING_CODES.index(item.rating), (item.name or "").casefold(), item.text)
        # By content only: R/AR versus AG/G decides which come first, never who or when.
        return (first, 0, item.text.casefold(), item.text)

    return tuple(sorted(items, key=order))


def _with_change(summary: ElementSummary, previous: RoundSummary) -> ElementSummary:
    before = next((s for s in previous.elements if s.element.id == summary.element.id), None)
    if before is None:
        change = "new"
    elif before.board is None and summary.board is None:
        change = "no board rating either time"
    elif before.board == summary.board:
        change = "no change"
    else:
        change = f"{_label(before)} → {_label(summary)}"
    return replace(summary, change=change)


def _label(summary: ElementSummary) -> str:
    if summary.board:
        return summary.board
    return NOT_SHOWN if summary.rated else NO_RATINGS
