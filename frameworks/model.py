"""The framework as the rest of the bot sees it: frozen, validated, SDK-free."""

from __future__ import annotations

from dataclasses import dataclass

RATING_CODES: tuple[str, ...] = ("R", "AR", "AG", "G")


@dataclass(frozen=True)
class Line:
    text: str
    bullet: bool = False
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    text: str
    markers: tuple[str, ...] = ()
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rating:
    code: str
    name: str
    wording: str | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.wording})" if self.wording else self.name


@dataclass(frozen=True)
class Marker:
    id: str
    symbol: str


@dataclass(frozen=True)
class Domain:
    id: str
    title: str
    heading: str
    footnotes: tuple[str, ...] = ()
    overview_title: str = ""  # the overview table's wording, when it differs from the title


@dataclass(frozen=True)
class Element:
    number: int
    id: str
    title: str
    heat_map_title: str
    domain: str
    questions: tuple[Question, ...]
    red: tuple[Line, ...]
    green: tuple[Line, ...]
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Priorities:
    guidance: str
    columns: tuple[str, str, str, str]
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Framework:
    id: str
    version: str
    title: str
    short_title: str
    publisher: str
    published: str | None
    source: str
    copyright: str | None
    introduction: tuple[str, ...]
    scale_guidance: str
    paper_only: tuple[str, ...]
    ratings: tuple[Rating, ...]
    red_heading: str
    green_heading: str
    markers: tuple[Marker, ...]
    markers_note: str | None
    footnotes: dict[str, str]
    domains: tuple[Domain, ...]
    elements: tuple[Element, ...]
    priorities: Priorities

    @property
    def chat_guidance(self) -> str:
        """The scale guidance without the sentences about the paper form's columns."""
        text = self.scale_guidance
        for sentence in self.paper_only:
            text = text.replace(sentence, "")
        return " ".join(text.split())

    def element(self, number: int) -> Element | None:
        if 1 <= number <= len(self.elements):
            return self.elements[number - 1]
        return None

    def domain(self, domain_id: str) -> Domain:
        return next(d for d in self.domains if d.id == domain_id)

    def rating(self, code: str) -> Rating:
        return next(r for r in self.ratings if r.code == code)

    def marker(self, marker_id: str) -> Marker:
        return next(m for m in self.markers if m.id == marker_id)

    def elements_in(self, domain_id: str) -> tuple[Element, ...]:
        return tuple(e for e in self.elements if e.domain == domain_id)
