"""Read the CST source documents (plain-text PDF extractions) well enough to check the data files.

Two layouts:
- governance: one tab-separated table; an element's row can run on over a page break into rows with
  an empty first cell, and many of its bullets have lost their glyph, so only whole cells compare.
- strong trusts: one section per element ("N. Title", then a single tab-separated row), every
  question in `<p>`, every bullet after `▪`, so it splits into items exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COLUMNS = ("questions", "red", "green")
MARKER_IDS = {"†": "tqd", "‡": "culture"}
SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SUPERSCRIPT_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_TAG = re.compile(r"</?(?:p|ul|li|i|b)\b[^>]*>")
_LINK = re.compile(r"\[([^\]]*)\]\(#\)")
_NUMBERED = re.compile(r"(\d+)\. (.+)")


def clean(text: str) -> str:
    """The words only: no tags, bullets, markers, footnote digits, link syntax or runs of spaces."""
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = re.sub(r"[•▪†‡]", " ", text)
    text = _SUPERSCRIPT_RUN.sub(" ", text)
    text = text.replace("*", "")
    return " ".join(text.split())


def footnote_ids(text: str) -> list[str]:
    return [run.translate(SUPERSCRIPTS) for run in _SUPERSCRIPT_RUN.findall(text)]


def marker_ids(text: str) -> list[str]:
    return [MARKER_IDS[c] for c in text if c in MARKER_IDS]


def split_title(text: str) -> tuple[str, list[str]]:
    """'Expertise⁵' -> ('Expertise', ['5'])."""
    return clean(text), footnote_ids(text)


@dataclass
class SeedItem:
    """One question or descriptor line as the source prints it."""

    text: str
    bullet: bool
    markers: list[str]
    footnotes: list[str]


@dataclass
class SeedElement:
    number: int
    title: str
    title_footnotes: list[str] = field(default_factory=list)
    domain_heading: str = ""
    domain_footnotes: list[str] = field(default_factory=list)
    raw: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in COLUMNS})

    def joined(self, column: str) -> str:
        """The column's words over all its cells, page breaks joined with a space."""
        return clean(" ".join(self.raw[column]))

    def footnotes(self, column: str) -> list[str]:
        return [n for cell in self.raw[column] for n in footnote_ids(cell)]

    def markers(self, column: str) -> list[str]:
        return [m for cell in self.raw[column] for m in marker_ids(cell)]

    def items(self, column: str) -> list[SeedItem]:
        """The column split at `<p>` and bullet glyphs (exact only where the source kept them)."""
        items: list[SeedItem] = []
        for cell in self.raw[column]:
            bullet = False
            for token in re.split(r"(</?p>|</?ul\b[^>]*>|[▪•])", cell):
                if token == "<p>" or token.startswith("<ul"):
                    bullet = False
                elif token in ("▪", "•"):
                    bullet = True
                elif not token.startswith("<") and clean(token):
                    items.append(
                        SeedItem(clean(token), bullet, marker_ids(token), footnote_ids(token))
                    )
        return items


def heat_map(text: str, start: str, end: str) -> dict[int, tuple[str, str]]:
    """Governance heat map: {number: (domain, element title)} from a heading-then-list layout."""
    section = text.split(start, 1)[1].split(end, 1)[0]
    found: dict[int, tuple[str, str]] = {}
    domain = ""
    for line in filter(None, map(str.strip, section.splitlines())):
        match = _NUMBERED.fullmatch(line)
        if match:
            found[int(match[1])] = (domain, match[2])
        else:
            domain = line
    return found


def overview(text: str, start: str) -> dict[int, tuple[str, str]]:
    """Strong trusts overview: {number: (domain, element title)} from 'Domain<TAB>1. A 2. B'."""
    section = text.split(start, 1)[1]
    found: dict[int, tuple[str, str]] = {}
    for line in section.splitlines():
        if "\t" not in line:
            if found:
                break
            continue
        domain, elements = line.split("\t", 1)
        for number, title in re.findall(r"(\d+)\. (.+?)(?= \d+\. |$)", elements.strip()):
            found[int(number)] = (domain.strip(), title)
    return found


def governance_elements(text: str) -> dict[int, SeedElement]:
    table = text.split("THE IMPROVEMENT CAPACITY FRAMEWORK FOR GOVERNANCE", 1)[1]
    elements: dict[int, SeedElement] = {}
    current: SeedElement | None = None
    for line in table.splitlines():
        cells = line.split("\t")
        if len(cells) < 5 or cells[0].startswith("Element (board competence)"):
            continue
        head = clean(cells[0])
        if head:
            match = _NUMBERED.fullmatch(head)
            assert match, f"unexpected first cell in the governance table: {head!r}"
            title, notes = split_title(match[2])
            current = SeedElement(int(match[1]), title, notes)
            elements[current.number] = current
        assert current is not None, f"continuation row before any element: {line[:60]!r}"
        for column, cell in zip(COLUMNS, cells[1:4], strict=True):
            current.raw[column].append(cell)
    return elements


def strong_trusts_elements(text: str) -> dict[int, SeedElement]:
    lines = text.splitlines()
    elements: dict[int, SeedElement] = {}
    for i, line in enumerate(lines):
        match = _NUMBERED.fullmatch(line.strip())
        if not match:
            continue
        heading = next(x.strip() for x in reversed(lines[:i]) if x.strip())
        row = next(x for x in lines[i + 1 :] if x.startswith("<p>"))
        cells = row.split("\t")
        title, notes = split_title(match[2])
        element = SeedElement(int(match[1]), title, notes, *split_title(heading))
        for column, cell in zip(COLUMNS, cells[:3], strict=True):
            element.raw[column].append(cell)
        elements[element.number] = element
    return elements


def paragraphs(text: str, start: str, end: str) -> list[str]:
    """The clean paragraphs strictly between two lines of the source, list dashes dropped."""
    section = text.split(f"\n{start}\n", 1)[1].split(f"\n{end}\n", 1)[0]
    lines = (line.strip().removeprefix("- ") for line in section.splitlines())
    return [clean(line) for line in lines if clean(line)]
