"""A set's numbers, worked out from what its members shared. Pure: no storage, no Teams.

- **Elements of mutual interest.** For each element, how many members rated it Red or Amber Red
  in their latest share, and whether members differ (two of them two or more steps apart, as a
  round flags trustees). Ranked by that count, then differing first, then the framework's order.
  Only counts leave here: the ranking never says which member rated what.
- **The vote.** Each member board votes for up to four elements (its latest vote counts). Once
  every member has voted, the four with most votes become the focus, ties broken by the ranking;
  the facilitator can choose instead at any time.
- **The comparison.** For each focus element, each member's rating from its latest share, and
  its change since the share before: "AR → AG", "no change", or "first share".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from frameworks import RATING_CODES, Element, Framework

from .model import FOCUS_SIZES, LearningSet, SetMember

WEAK = ("R", "AR")
SPREAD_STEPS = 2
FIRST_SHARE = "first share"
NO_CHANGE = "no change"


@dataclass(frozen=True)
class Interest:
    element: Element
    weak: int  # members who rated it Red or Amber Red
    rated: int  # members whose share rated it
    differ: bool


@dataclass(frozen=True)
class Cell:
    member: SetMember
    rating: str | None  # None: not shared, or the share did not rate it
    change: str | None  # None when there is no rating


@dataclass(frozen=True)
class Row:
    element: Element
    cells: tuple[Cell, ...]


def differ(ratings: list[str]) -> bool:
    steps = [RATING_CODES.index(r) for r in ratings if r in RATING_CODES]
    return bool(steps) and max(steps) - min(steps) >= SPREAD_STEPS


def interests(framework: Framework, learning_set: LearningSet) -> list[Interest]:
    """Every element some member's share rated, ranked as above."""
    found = []
    for element in framework.elements:
        ratings = [
            share.ratings[element.number]
            for share in learning_set.shares.values()
            if share.ratings.get(element.number) in RATING_CODES
        ]
        if ratings:
            weak = sum(1 for r in ratings if r in WEAK)
            found.append(Interest(element, weak, len(ratings), differ(ratings)))
    found.sort(key=lambda i: (-i.weak, not i.differ, i.element.number))
    return found


def tally(learning_set: LearningSet) -> Counter[int]:
    return Counter(n for vote in learning_set.votes.values() for n in vote)


def everyone_voted(learning_set: LearningSet) -> bool:
    keys = {m.key for m in learning_set.members}
    return bool(keys) and keys <= {k for k, v in learning_set.votes.items() if v}


def voted_focus(framework: Framework, learning_set: LearningSet) -> tuple[int, ...]:
    """The four most voted elements (ties by the ranking), once every member has voted."""
    if not everyone_voted(learning_set):
        return ()
    votes = tally(learning_set)
    order = {i.element.number: place for place, i in enumerate(interests(framework, learning_set))}
    candidates = sorted(
        (n for n in votes if framework.element(n) is not None),
        key=lambda n: (-votes[n], order.get(n, len(order) + n)),
    )
    chosen = candidates[: max(FOCUS_SIZES)]
    if len(chosen) < min(FOCUS_SIZES):
        return ()
    return tuple(sorted(chosen))


def change(before: str | None, now: str | None, first: bool) -> str | None:
    if now is None:
        return None
    if first:
        return FIRST_SHARE
    if before is None:
        return "new"
    return NO_CHANGE if before == now else f"{before} → {now}"


def comparison(framework: Framework, learning_set: LearningSet) -> list[Row]:
    rows = []
    for number in learning_set.focus:
        element = framework.element(number)
        if element is None:
            continue
        cells = []
        for member in learning_set.members:
            share = learning_set.shares.get(member.key)
            rating = share.ratings.get(number) if share else None
            before = share.previous.get(number) if share else None
            first = share is None or share.previous_at is None
            cells.append(Cell(member, rating, change(before, rating, first)))
        rows.append(Row(element, tuple(cells)))
    return rows


# -- peer review: self versus peer ----------------------------------------------------------------


@dataclass(frozen=True)
class SelfPeer:
    element: Element
    own: str | None  # the board's own rating, from its round or its chair's self-assessment
    peer: str | None
    evidence: str  # the peer's, as they wrote it

    @property
    def flagged(self) -> bool:
        """Two or more steps apart, as a round flags trustees whose views differ."""
        return self.own is not None and self.peer is not None and differ([self.own, self.peer])


def self_versus_peer(
    framework: Framework,
    elements: tuple[int, ...],
    own: dict[int, str],
    peer: dict[int, tuple[str | None, str]],
) -> list[SelfPeer]:
    rows = []
    for number in elements:
        element = framework.element(number)
        if element is None:
            continue
        rating, evidence = peer.get(number, (None, ""))
        rows.append(SelfPeer(element, own.get(number), rating, evidence))
    return rows
