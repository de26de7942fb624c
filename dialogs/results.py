"""A trustee's heat map and draft priorities, computed from their answers."""

from __future__ import annotations

from dataclasses import dataclass

from frameworks import Domain, Element, Framework

from .state import Assessment

PRIORITY_RATINGS = ("R", "AR")


@dataclass(frozen=True)
class Cell:
    element: Element
    rating: str | None  # None: not rated


@dataclass(frozen=True)
class TrusteeDomainRow:
    domain: Domain
    cells: tuple[Cell, ...]


# The bot's own words for the ratings, wherever it names one in a sentence or a table.
RATING_WORDS = {"R": "Red", "AR": "Amber Red", "AG": "Amber Green", "G": "Green"}


def focus_area(element: Element, rating: str | None, views_differ: bool = False) -> str:
    """Like "Risk management (Red)", "Board effectiveness (Amber Red; views differ)": the
    source's table mixes "(Red)" and "(AR)" in one column, so every rating is named in full, in
    one pair of brackets."""
    notes = [RATING_WORDS[rating]] if rating in RATING_WORDS else []
    if views_differ:
        notes.append("views differ")
    return f"{element.title} ({'; '.join(notes)})" if notes else element.title


@dataclass(frozen=True)
class TrusteePriority:
    element: Element
    rating: str
    key_issues: str  # the trustee's evidence, or "" when they noted none

    @property
    def focus_area(self) -> str:
        return focus_area(self.element, self.rating)


def covered(framework: Framework, assessment: Assessment) -> tuple[Element, ...]:
    """The framework's elements this assessment asks about: a board round may ask about a few."""
    return tuple(e for e in framework.elements if assessment.covers(e.number))


def heat_map(framework: Framework, assessment: Assessment) -> tuple[TrusteeDomainRow, ...]:
    # A domain the round did not ask about would be an empty heading, so it is left out.
    rows = (
        TrusteeDomainRow(
            domain,
            tuple(
                Cell(e, assessment.rating(e.number))
                for e in framework.elements_in(domain.id)
                if assessment.covers(e.number)
            ),
        )
        for domain in framework.domains
    )
    return tuple(row for row in rows if row.cells)


def priorities(framework: Framework, assessment: Assessment) -> tuple[TrusteePriority, ...]:
    return tuple(
        TrusteePriority(e, rating, assessment.answer(e.number).evidence)
        for e in covered(framework, assessment)
        if (rating := assessment.rating(e.number)) in PRIORITY_RATINGS
    )


def unrated(framework: Framework, assessment: Assessment) -> tuple[Element, ...]:
    return tuple(e for e in covered(framework, assessment) if not assessment.rating(e.number))
