"""Load and validate framework files.

Clerks will bring frameworks of their own, so a broken file is rejected with a message that names
the file, the element and the field, never half-loaded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from .model import (
    RATING_CODES,
    Domain,
    Element,
    Framework,
    Line,
    Marker,
    Priorities,
    Question,
    Rating,
)

SCHEMA = "trustboard.framework/1"
DATA_DIR = Path(__file__).parent / "data"
MAX_LINE = 1200  # one element card must stay well under Teams' 28 KB card limit
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_DEBRIS = re.compile(r"</?(p|ul|li|ol|i|b|br|span|div)\b[^>]*>|[•▪†‡¹²³⁴⁵⁶⁷⁸⁹⁰]", re.IGNORECASE)


class FrameworkError(ValueError):
    """A framework file that cannot be used, with where and why."""


class _Reader:
    """Reads one JSON object, naming the place of any error."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise FrameworkError(f"{where}: expected an object")
        self.data = data
        self.where = where

    def fail(self, field: str, why: str) -> FrameworkError:
        return FrameworkError(f"{self.where}: field '{field}': {why}")

    def only(self, allowed: Iterable[str]) -> None:
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            raise self.fail(unknown[0], "unknown field (misspelt?)")

    def text(self, field: str, *, optional: bool = False, limit: int = MAX_LINE) -> str:
        value = self.data.get(field)
        if value is None and optional:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, "must be a non-empty string")
        if value != value.strip() or "  " in value or "\n" in value:
            raise self.fail(field, "has stray whitespace")
        if len(value) > limit:
            raise self.fail(field, f"is {len(value)} characters; the limit is {limit}")
        debris = _DEBRIS.search(value)
        if debris:
            raise self.fail(field, f"contains PDF debris {debris.group(0)!r}")
        return value

    def ident(self, field: str) -> str:
        value = self.data.get(field)
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(field, "must be a lower-case id of letters, digits and hyphens")
        return value

    def items(self, field: str, *, optional: bool = False) -> list[Any]:
        value = self.data.get(field, [] if optional else None)
        if not isinstance(value, list) or (not value and not optional):
            raise self.fail(field, "must be a non-empty list")
        return value

    def refs(self, field: str, known: Iterable[str]) -> tuple[str, ...]:
        values = self.items(field, optional=True)
        known = set(known)
        for value in values:
            if value not in known:
                raise self.fail(field, f"refers to {value!r}, which is not defined")
        return tuple(values)


def load_framework(path: Path) -> Framework:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameworkError(f"{path.name}: not readable JSON: {exc}") from exc
    return parse_framework(raw, path.name)


def parse_framework(raw: Any, name: str) -> Framework:
    top = _Reader(raw, name)
    top.only(_TOP_FIELDS)
    if raw.get("schema") != SCHEMA:
        raise top.fail("schema", f"must be {SCHEMA!r}")
    markers = tuple(
        _marker(m, f"{name}: markers[{i}]")
        for i, m in enumerate(top.items("markers", optional=True))
    )
    footnotes = _footnotes(top)
    domains = tuple(
        _domain(d, f"{name}: domains[{i}]", footnotes) for i, d in enumerate(top.items("domains"))
    )
    _unique(top, "domains", [d.id for d in domains])
    context = _Context(footnotes, {m.id for m in markers}, {d.id for d in domains})
    elements = tuple(_element(e, i, name, context) for i, e in enumerate(top.items("elements")))
    _unique(top, "elements", [e.id for e in elements])
    for domain in domains:
        if not any(e.domain == domain.id for e in elements):
            raise top.fail("domains", f"domain {domain.id!r} has no elements")
    scale = _Reader(raw.get("scale"), f"{name}: scale")
    guidance = scale.text("guidance")
    headings = _Reader(raw.get("descriptor_headings"), f"{name}: descriptor_headings")
    return Framework(
        id=top.ident("id"),
        version=top.text("version"),
        title=top.text("title"),
        short_title=top.text("short_title", limit=40),
        publisher=top.text("publisher"),
        published=top.text("published", optional=True) or None,
        source=top.text("source"),
        copyright=top.text("copyright", optional=True) or None,
        introduction=tuple(_paragraphs(top, "introduction")),
        scale_guidance=guidance,
        paper_only=_paper_only(scale, guidance),
        ratings=_ratings(scale),
        red_heading=headings.text("red", limit=60),
        green_heading=headings.text("green", limit=60),
        markers=markers,
        markers_note=_markers_note(top, markers),
        footnotes=footnotes,
        domains=domains,
        elements=elements,
        priorities=_priorities(raw.get("priorities"), f"{name}: priorities", footnotes),
    )


_TOP_FIELDS = (
    "schema",
    "id",
    "version",
    "title",
    "short_title",
    "publisher",
    "published",
    "source",
    "copyright",
    "introduction",
    "scale",
    "descriptor_headings",
    "markers",
    "markers_note",
    "footnotes",
    "domains",
    "elements",
    "priorities",
)


class _Context:
    def __init__(self, footnotes: dict[str, str], markers: set[str], domains: set[str]) -> None:
        self.footnotes = footnotes
        self.markers = markers
        self.domains = domains


def _unique(reader: _Reader, field: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise reader.fail(field, f"id {value!r} is used twice")
        seen.add(value)


def _paragraphs(reader: _Reader, field: str, limit: int = 4000) -> list[str]:
    """A list of strings, each checked like any text and named by its place: `field[i]`."""
    return [
        _Reader({f"{field}[{i}]": p}, reader.where).text(f"{field}[{i}]", limit=limit)
        for i, p in enumerate(reader.items(field))
    ]


def _footnotes(top: _Reader) -> dict[str, str]:
    notes: dict[str, str] = {}
    for i, item in enumerate(top.items("footnotes", optional=True)):
        note = _Reader(item, f"{top.where}: footnotes[{i}]")
        note.only(("id", "text"))
        note_id = note.data.get("id")
        if not isinstance(note_id, str) or not note_id:
            raise note.fail("id", "must be a non-empty string")
        if note_id in notes:
            raise note.fail("id", f"footnote {note_id!r} is defined twice")
        notes[note_id] = note.text("text", limit=2000)
    return notes


def _marker(item: Any, where: str) -> Marker:
    reader = _Reader(item, where)
    reader.only(("id", "symbol"))
    return Marker(reader.ident("id"), _symbol(reader))


def _markers_note(top: _Reader, markers: tuple[Marker, ...]) -> str | None:
    """The source's sentence saying what the symbols mean: it alone may carry them."""
    value = top.data.get("markers_note")
    if not markers:
        if value is not None:
            raise top.fail("markers_note", "explains markers, but the framework has none")
        return None
    text = value if isinstance(value, str) else ""
    plain = text
    for symbol in (m.symbol for m in markers):
        if symbol not in text:
            raise top.fail("markers_note", f"must be the sentence that explains {symbol!r}")
        plain = plain.replace(symbol, "")
    _Reader({"markers_note": plain.replace("  ", " ")}, top.where).text("markers_note")
    return text


def _paper_only(scale: _Reader, guidance: str) -> tuple[str, ...]:
    """Sentences of the guidance about the printed form (its rating column), not shown in chat."""
    sentences = _paragraphs(scale, "paper_only") if "paper_only" in scale.data else []
    for i, sentence in enumerate(sentences):
        if sentence not in guidance:
            raise scale.fail(f"paper_only[{i}]", "is not a sentence of the guidance")
    return tuple(sentences)


def _symbol(reader: _Reader) -> str:
    value = reader.data.get("symbol")
    if not isinstance(value, str) or not 1 <= len(value) <= 3:
        raise reader.fail("symbol", "must be one to three characters")
    return value


def _domain(item: Any, where: str, footnotes: dict[str, str]) -> Domain:
    reader = _Reader(item, where)
    reader.only(("id", "title", "heading", "overview_title", "footnotes"))
    title = reader.text("title", limit=80)
    return Domain(
        id=reader.ident("id"),
        title=title,
        heading=reader.text("heading", optional=True, limit=80) or title,
        footnotes=reader.refs("footnotes", footnotes),
        overview_title=reader.text("overview_title", optional=True, limit=80) or title,
    )


def _element(item: Any, index: int, name: str, ctx: _Context) -> Element:
    number = item.get("number") if isinstance(item, dict) else None
    where = f"{name}: element {number if isinstance(number, int) else f'#{index + 1}'}"
    reader = _Reader(item, where)
    reader.only(
        (
            "number",
            "id",
            "title",
            "heat_map_title",
            "domain",
            "footnotes",
            "questions",
            "red",
            "green",
        )
    )
    if number != index + 1:
        raise reader.fail(
            "number", f"must be {index + 1}: elements are numbered 1, 2, 3 … in order"
        )
    domain = reader.ident("domain")
    if domain not in ctx.domains:
        raise reader.fail("domain", f"refers to {domain!r}, which is not one of the domains")
    title = reader.text("title", limit=120)
    return Element(
        number=number,
        id=reader.ident("id"),
        title=title,
        heat_map_title=reader.text("heat_map_title", optional=True, limit=120) or title,
        domain=domain,
        footnotes=reader.refs("footnotes", ctx.footnotes),
        questions=tuple(
            _question(q, f"{where}: questions[{i}]", ctx)
            for i, q in enumerate(reader.items("questions"))
        ),
        red=tuple(_line(x, f"{where}: red[{i}]", ctx) for i, x in enumerate(reader.items("red"))),
        green=tuple(
            _line(x, f"{where}: green[{i}]", ctx) for i, x in enumerate(reader.items("green"))
        ),
    )


def _question(item: Any, where: str, ctx: _Context) -> Question:
    reader = _Reader(item, where)
    reader.only(("text", "markers", "footnotes"))
    return Question(
        reader.text("text"),
        reader.refs("markers", ctx.markers),
        reader.refs("footnotes", ctx.footnotes),
    )


def _line(item: Any, where: str, ctx: _Context) -> Line:
    reader = _Reader(item, where)
    reader.only(("text", "bullet", "footnotes"))
    bullet = reader.data.get("bullet", False)
    if not isinstance(bullet, bool):
        raise reader.fail("bullet", "must be true or false")
    return Line(reader.text("text"), bullet, reader.refs("footnotes", ctx.footnotes))


def _ratings(scale: _Reader) -> tuple[Rating, ...]:
    items = scale.items("ratings")
    codes = [item.get("code") if isinstance(item, dict) else None for item in items]
    if tuple(codes) != RATING_CODES:
        raise scale.fail("ratings", f"must be the four ratings {', '.join(RATING_CODES)} in order")
    ratings = []
    for code, item in zip(RATING_CODES, items, strict=True):
        reader = _Reader(item, f"{scale.where}: rating {code}")
        reader.only(("code", "name", "wording"))
        ratings.append(
            Rating(
                code,
                reader.text("name", limit=30),
                reader.text("wording", optional=True, limit=40) or None,
            )
        )
    return tuple(ratings)


def _priorities(item: Any, where: str, footnotes: dict[str, str]) -> Priorities:
    reader = _Reader(item, where)
    reader.only(("guidance", "columns", "footnotes", "examples", "columns_source"))
    text = "\n\n".join(_paragraphs(reader, "guidance"))
    names = _paragraphs(reader, "columns", limit=120)
    if len(names) != 4:
        raise reader.fail("columns", "must name exactly four columns")
    return Priorities(
        text, (names[0], names[1], names[2], names[3]), reader.refs("footnotes", footnotes)
    )


@cache
def load_all(directory: Path = DATA_DIR) -> dict[str, Framework]:
    """Every framework in the data folder, by id. Fails whole if any file is broken."""
    frameworks: dict[str, Framework] = {}
    for path in sorted(directory.glob("*.json")):
        framework = load_framework(path)
        if framework.id in frameworks:
            raise FrameworkError(
                f"{path.name}: field 'id': {framework.id!r} is used by another file"
            )
        frameworks[framework.id] = framework
    if not frameworks:
        raise FrameworkError(f"{directory.name}: no framework files found")
    return frameworks
