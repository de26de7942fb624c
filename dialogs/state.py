"""What the engine remembers about a trustee and their assessments (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field

ROUND_SCOPE = "round:"


def round_scope(round_id: str) -> str:
    """The scope of a trustee's answers in a board round (a private one's is its framework)."""
    return f"{ROUND_SCOPE}{round_id}"


@dataclass(frozen=True)
class Who:
    """The person behind a turn: always taken from the authenticated activity, never a card."""

    tenant: str
    user: str
    name: str = ""


@dataclass(frozen=True)
class Answer:
    rating: str | None = None
    evidence: str = ""
    at: str | None = None


@dataclass(frozen=True)
class Assessment:
    id: str
    framework: str
    version: str
    status: str  # "open", "done" (the trustee finished) or "closed" (its round closed first)
    started: str
    updated: str
    cursor: int  # the element on screen; 0 means the review
    answers: dict[int, Answer] = field(default_factory=dict)
    finished: str | None = None
    card: str | None = None  # activity id of the card that drives it, to retire when superseded
    # A board round's answers: its scope is "round:<id>" (a private one's is its framework id),
    # it covers the round's elements only, and it locks when the round closes.
    scope: str = ""
    elements: tuple[int, ...] | None = None  # None: every element of the framework
    round: RoundLink | None = None
    locked: str | None = None  # when its round's closing locked it

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def answer(self, number: int) -> Answer:
        return self.answers.get(number, Answer())

    def rating(self, number: int) -> str | None:
        return self.answer(number).rating

    def rated_count(self) -> int:
        return sum(1 for n, a in self.answers.items() if a.rating and self.covers(n))

    def covers(self, number: int) -> bool:
        return self.elements is None or number in self.elements

    @property
    def key_scope(self) -> str:
        """The profile's key for it: `open:<scope>` while open, `last:<scope>` once done."""
        return self.scope or self.framework


@dataclass(frozen=True)
class RoundLink:
    """What a trustee's round answers need to know of their round, kept beside them."""

    board: str  # the Teams team id
    round: str
    board_name: str
    deadline: str  # ISO 8601 UTC, as opened (the round's own may have been extended since)
    review: bool = False  # a peer review of that board (dialogs/sets), not one of its rounds


@dataclass(frozen=True)
class Profile:
    open: dict[str, str] = field(default_factory=dict)  # framework id -> open assessment id
    last: dict[str, str] = field(default_factory=dict)  # framework id -> last finished id
    conversation: str | None = None  # serialised conversation reference, for proactive messages
