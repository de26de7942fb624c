"""What the engine remembers about a trustee and their assessments (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    status: str  # "open" or "done"
    started: str
    updated: str
    cursor: int  # the element on screen; 0 means the review
    answers: dict[int, Answer] = field(default_factory=dict)
    finished: str | None = None
    card: str | None = None  # activity id of the card that drives it, to retire when superseded

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def answer(self, number: int) -> Answer:
        return self.answers.get(number, Answer())

    def rating(self, number: int) -> str | None:
        return self.answer(number).rating

    def rated_count(self) -> int:
        return sum(1 for a in self.answers.values() if a.rating)


@dataclass(frozen=True)
class Profile:
    open: dict[str, str] = field(default_factory=dict)  # framework id -> open assessment id
    last: dict[str, str] = field(default_factory=dict)  # framework id -> last finished id
    conversation: str | None = None  # serialised conversation reference, for proactive messages
