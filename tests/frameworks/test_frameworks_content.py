"""The two CST frameworks as shipped: pinned structure, clean text, verbatim against the sources.

The pinned tables do not need the source documents. The seed tests read the plain-text PDF
extractions in TRUSTBOARD_SEEDS (default: ../shared/seeds next to the repository) and skip only
when that folder is missing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frameworks import RATING_CODES, Framework, load_all
from frameworks.loader import DATA_DIR
from tests.frameworks import seedtext
from tests.frameworks.seedtext import COLUMNS, SeedElement

GOVERNANCE = "cst-trust-governance"
STRONG_TRUSTS = "cst-strong-trusts"

SEEDS = Path(
    os.environ.get(
        "TRUSTBOARD_SEEDS", Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
    )
)
SEED_FILES = {GOVERNANCE: "000_6c5487058afd21d8.txt", STRONG_TRUSTS: "001_0556af0668362df4.txt"}

# (domain title, domain heading, element numbers), in the source's order.
GOVERNANCE_DOMAINS = [
    ("Strategic leadership", "Strategic leadership", [1, 2, 3, 4, 5]),
    ("Accountability", "Accountability", [6, 7, 8, 9, 10, 11]),
    ("People", "People", [12]),
    ("Structures", "Structures", [13]),
    ("Compliance", "Compliance", [14]),
    ("Evaluation", "Evaluation", [15, 16]),
]
# The overview table and the section headings word two domains differently; both are kept. The
# document names its second domain "Expert, ethical leadership" (its two section headings); only
# the overview table drops the comma, which `overview_title` keeps for the record.
STRONG_TRUSTS_DOMAINS = [
    ("Strategic governance", "Strategic governance", [1, 2]),
    ("Expert, ethical leadership", "Expert, ethical leadership", [3, 4]),
    ("High quality, inclusive education", "High quality, inclusive education", [5, 6]),
    ("School improvement at scale", "School improvement at scale", [7, 8]),
    ("Workforce resilience and wellbeing", "Workforce resilience and wellbeing", [9, 10]),
    ("Finance and operations", "Finance and operations", [11, 12]),
    ("Public benefit and civic duty", "Public benefit and civic purpose", [13, 14]),
]

GOVERNANCE_TITLES = [
    "Setting direction",
    "Culture, values and ethos",
    "Decision-making",
    "Collaborative working and civic responsibility",
    "Risk management",
    "Educational improvement",
    "Analysis of data",
    "Financial frameworks/ accountability",
    "Financial management",
    "Staffing and performance management",
    "External accountability",
    "Building an effective team",
    "Structures of governance",
    "Statutory/contractual requirements",
    "Self-review",
    "Board effectiveness",
]
# The heat map words four elements differently from their table rows.
GOVERNANCE_HEAT_MAP_TITLES = [
    "Setting direction",
    "Culture, values and ethos",
    "Decision making",
    "Collaborative working/ civic responsibilities",
    "Risk management",
    "Educational improvement",
    "Analysis of data",
    "Financial frameworks",
    "Financial management",
    "Staffing and performance management",
    "External accountability",
    "Building an effective team",
    "Structures of governance",
    "Statutory/ contractual requirements",
    "Self-review",
    "Board effectiveness",
]
STRONG_TRUSTS_TITLES = [
    "Strategy and culture",
    "Accountability",
    "Expertise",
    "Ethics",
    "Conception of quality",
    "Inclusion",
    "Culture of improvement",
    "Knowledge building",
    "Working culture",
    "Workload and wellbeing",
    "Financial strategy and probity",
    "Effective and efficient use of resources",
    "Collaboration and accountability",
    "Civic purpose and wider common good",
]

# (questions, red lines, green lines) per element, counted in the source documents. The governance
# red/green counts include the leading "The Board:" line.
COUNTS = {
    GOVERNANCE: [
        (4, 5, 6), (6, 4, 5), (2, 5, 6), (3, 4, 6), (2, 4, 5), (2, 4, 4), (3, 3, 4), (3, 4, 4),
        (2, 4, 3), (5, 5, 5), (1, 3, 4), (2, 4, 4), (2, 5, 6), (1, 4, 4), (2, 4, 4), (3, 4, 4),
    ],
    STRONG_TRUSTS: [
        (7, 6, 6), (6, 5, 6), (6, 5, 5), (1, 7, 7), (8, 6, 6), (5, 6, 7), (5, 5, 5), (4, 3, 3),
        (5, 7, 5), (2, 3, 4), (4, 8, 8), (3, 3, 3), (3, 4, 5), (4, 3, 3),
    ],
}  # fmt: skip

T, C = "tqd", "culture"
# The marker of each strong-trusts question, in order ("" for none): † is "tqd", ‡ is "culture".
STRONG_TRUSTS_QUESTION_MARKERS = [
    [T, C, "", "", T, T, T],
    [T, T, T, T, T, T],
    ["", "", "", "", "", ""],
    [C],
    ["", "", "", T, T, T, T, T],
    [C, T, T, "", T],
    [T, "", T, T, T],
    [C, T, T, T],
    [C, C, T, T, T],
    [T, T],
    [T, T, T, T],
    [C, T, T],
    [T, "", ""],
    [T, "", "", ""],
]

# Where each footnote is attached: (place, footnote id).
GOVERNANCE_FOOTNOTES = [("element 16 green[3]", "1")]
STRONG_TRUSTS_FOOTNOTES = [
    ("domain strategic-governance", "2"),
    ("domain school-improvement-at-scale", "8"),
    ("element 1 questions[0]", "3"),
    ("element 2 questions[1]", "4"),
    ("element 3", "5"),
    ("element 5 questions[3]", "6"),
    ("element 6 green[0]", "7"),
    ("element 8", "9"),
    ("element 13 green[3]", "10"),
    ("priorities", "1"),
]

DEBRIS = [
    ("an HTML tag", re.compile(r"</?(p|ul|li|ol|i|b|br|span|div)\b[^>]*>|</", re.IGNORECASE)),
    ("a bullet glyph", re.compile(r"[•▪◦●]")),
    ("a marker symbol", re.compile(r"[†‡]")),
    ("a superscript digit", re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]")),
    ("a double space", re.compile(r"  ")),
    ("a leading or trailing space", re.compile(r"^\s|\s$")),
    ("a newline or tab", re.compile(r"[\n\r\t]")),
    ("a PDF page artefact", re.compile(r"\bPage \d+\b|\b\d+ of \d+\b", re.IGNORECASE)),
    ("markdown link syntax", re.compile(r"\]\(|\[[^\]]*\]")),
    ("markdown emphasis", re.compile(r"\*")),
    ("the rating column", re.compile(r"\bR AR AG G\b")),
]


@pytest.fixture(scope="module")
def frameworks() -> dict[str, Framework]:
    return load_all()


@pytest.fixture(scope="module")
def governance(frameworks: dict[str, Framework]) -> Framework:
    return frameworks[GOVERNANCE]


@pytest.fixture(scope="module")
def strong_trusts(frameworks: dict[str, Framework]) -> Framework:
    return frameworks[STRONG_TRUSTS]


def raw_files() -> list[Path]:
    return sorted(DATA_DIR.glob("*.json"))


# --- what load_all gives ------------------------------------------------------------------------


def test_both_frameworks_load(frameworks: dict[str, Framework]) -> None:
    assert set(frameworks) == {GOVERNANCE, STRONG_TRUSTS}
    assert [p.name for p in raw_files()] == [
        "01-cst-trust-governance.json",
        "02-cst-strong-trusts.json",
    ]


def test_titles_and_publication(governance: Framework, strong_trusts: Framework) -> None:
    assert governance.title == "Improvement capacity framework for trust governance"
    assert governance.short_title == "Trust governance"
    assert governance.published is None
    assert strong_trusts.title == "Building strong trusts: assurance framework"
    assert strong_trusts.short_title == "Building strong trusts"
    assert strong_trusts.published == "September 2023"
    for framework in (governance, strong_trusts):
        assert framework.publisher == "Confederation of School Trusts"


def test_element_counts(governance: Framework, strong_trusts: Framework) -> None:
    assert len(governance.elements) == 16
    assert len(strong_trusts.elements) == 14
    for framework in (governance, strong_trusts):
        assert [e.number for e in framework.elements] == list(range(1, len(framework.elements) + 1))


@pytest.mark.parametrize(
    ("framework_id", "expected"),
    [(GOVERNANCE, GOVERNANCE_DOMAINS), (STRONG_TRUSTS, STRONG_TRUSTS_DOMAINS)],
)
def test_domains_and_their_elements(
    frameworks: dict[str, Framework],
    framework_id: str,
    expected: list[tuple[str, str, list[int]]],
) -> None:
    framework = frameworks[framework_id]
    actual = [
        (d.title, d.heading, [e.number for e in framework.elements_in(d.id)])
        for d in framework.domains
    ]
    assert actual == expected


@pytest.mark.parametrize(
    ("framework_id", "titles", "heat_map_titles"),
    [
        (GOVERNANCE, GOVERNANCE_TITLES, GOVERNANCE_HEAT_MAP_TITLES),
        (STRONG_TRUSTS, STRONG_TRUSTS_TITLES, STRONG_TRUSTS_TITLES),
    ],
)
def test_element_titles(
    frameworks: dict[str, Framework],
    framework_id: str,
    titles: list[str],
    heat_map_titles: list[str],
) -> None:
    framework = frameworks[framework_id]
    assert [e.title for e in framework.elements] == titles
    assert [e.heat_map_title for e in framework.elements] == heat_map_titles


@pytest.mark.parametrize("framework_id", [GOVERNANCE, STRONG_TRUSTS])
def test_question_and_descriptor_counts(
    frameworks: dict[str, Framework], framework_id: str
) -> None:
    actual = [
        (len(e.questions), len(e.red), len(e.green)) for e in frameworks[framework_id].elements
    ]
    assert actual == COUNTS[framework_id]


def test_governance_descriptors_open_with_the_board(governance: Framework) -> None:
    for element in governance.elements:
        for column in (element.red, element.green):
            assert column[0].text == "The Board:"
            assert not column[0].bullet
            assert all(line.bullet for line in column[1:]), element.number


# --- the rating scale ---------------------------------------------------------------------------


def test_rating_scale_governance(governance: Framework) -> None:
    assert [(r.code, r.name, r.wording) for r in governance.ratings] == [
        ("R", "Red", "weak capacity"),
        ("AR", "Amber Red", None),
        ("AG", "Amber Green", None),
        ("G", "Green", "strong capacity"),
    ]
    assert [r.label for r in governance.ratings] == [
        "Red (weak capacity)",
        "Amber Red",
        "Amber Green",
        "Green (strong capacity)",
    ]
    assert (governance.red_heading, governance.green_heading) == (
        "Weak looks like",
        "Strong looks like",
    )
    assert governance.scale_guidance.startswith(
        "Descriptors have deliberately not been provided for the “Amber Red” and “Amber Green”"
        " ratings."
    )


def test_rating_scale_strong_trusts(strong_trusts: Framework) -> None:
    assert [(r.code, r.name, r.wording) for r in strong_trusts.ratings] == [
        ("R", "Red", "needs attention"),
        ("AR", "Amber red", None),
        ("AG", "Amber green", None),
        ("G", "Green", "strong capacity"),
    ]
    assert strong_trusts.rating("R").label == "Red (needs attention)"
    assert (strong_trusts.red_heading, strong_trusts.green_heading) == (
        "Needs attention",
        "Strong looks like",
    )
    assert strong_trusts.scale_guidance.startswith(
        "Descriptions have deliberately not been provided for the 'amber red' and 'amber green'"
        " ratings."
    )


def test_rating_codes_in_order(frameworks: dict[str, Framework]) -> None:
    assert RATING_CODES == ("R", "AR", "AG", "G")
    for framework in frameworks.values():
        assert tuple(r.code for r in framework.ratings) == RATING_CODES


# --- markers and footnotes ----------------------------------------------------------------------


def test_strong_trusts_markers(strong_trusts: Framework) -> None:
    assert [(m.id, m.symbol) for m in strong_trusts.markers] == [("tqd", "†"), ("culture", "‡")]
    assert strong_trusts.markers_note == (
        "The questions based on the Trust Quality Descriptors are noted with a † symbol in the"
        " framework; those related to Culture Descriptors are noted with a ‡."
    )


def test_strong_trusts_question_markers(strong_trusts: Framework) -> None:
    actual = [
        [q.markers[0] if q.markers else "" for q in e.questions] for e in strong_trusts.elements
    ]
    assert actual == STRONG_TRUSTS_QUESTION_MARKERS
    assert all(len(q.markers) <= 1 for e in strong_trusts.elements for q in e.questions)


def test_governance_has_no_markers(governance: Framework) -> None:
    assert governance.markers == ()
    assert governance.markers_note is None
    assert all(not q.markers for e in governance.elements for q in e.questions)


def footnote_places(framework: Framework) -> Iterator[tuple[str, str]]:
    for domain in framework.domains:
        yield from ((f"domain {domain.id}", n) for n in domain.footnotes)
    for element in framework.elements:
        yield from ((f"element {element.number}", n) for n in element.footnotes)
        for column in COLUMNS:
            for i, item in enumerate(getattr(element, column)):
                place = f"element {element.number} {column}[{i}]"
                yield from ((place, n) for n in item.footnotes)
    yield from (("priorities", n) for n in framework.priorities.footnotes)


@pytest.mark.parametrize(
    ("framework_id", "expected"),
    [(GOVERNANCE, GOVERNANCE_FOOTNOTES), (STRONG_TRUSTS, STRONG_TRUSTS_FOOTNOTES)],
)
def test_footnote_placement(
    frameworks: dict[str, Framework], framework_id: str, expected: list[tuple[str, str]]
) -> None:
    framework = frameworks[framework_id]
    assert list(footnote_places(framework)) == expected
    assert sorted(framework.footnotes, key=int) == sorted((n for _, n in expected), key=int)


def test_governance_element_16_footnote(governance: Framework) -> None:
    line = governance.element(16).green[3]
    assert line.text.endswith("to achieve objectives.")
    assert line.footnotes == ("1",)
    assert governance.footnotes["1"] == (
        "The Financial Reporting Council's UK Corporate Governance Code recommends independent"
        " board evaluation once every three years. CST provides this service in association"
        " with Stone King LLP."
    )


# --- no PDF debris ------------------------------------------------------------------------------


def strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON value with its path; a marker's `symbol` is its glyph, not text,
    and `markers_note` is the source's sentence about those glyphs."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            # The note that explains the symbols is the one sentence that must carry them.
            glyph = key == "symbol" and re.search(r"markers\[\d+\]$", path)
            if not (glyph or key == "markers_note"):
                yield from strings(item, f"{path}.{key}")


@pytest.mark.parametrize("path", raw_files(), ids=lambda p: p.name)
def test_no_debris_in_any_string(path: Path) -> None:
    found = [
        f"{where}: {what}: {text[:80]!r}"
        for where, text in strings(json.loads(path.read_text(encoding="utf-8")), path.name)
        for what, pattern in DEBRIS
        if pattern.search(text)
    ]
    assert found == []


def test_debris_check_catches_debris() -> None:
    samples = ["<p>x</p>", "a</b", "• x", "x †", "x ‡", "x²", "a  b", " a", "a\nb", "Page 3"]
    for sample in samples:
        assert any(pattern.search(sample) for _, pattern in DEBRIS), sample


# --- against the source documents ---------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_texts() -> dict[str, str]:
    if not SEEDS.is_dir():
        pytest.skip(f"source documents not found at {SEEDS} (set TRUSTBOARD_SEEDS)")
    return {fid: (SEEDS / name).read_text(encoding="utf-8") for fid, name in SEED_FILES.items()}


@pytest.fixture(scope="module")
def seed_elements(seed_texts: dict[str, str]) -> dict[str, dict[int, SeedElement]]:
    return {
        GOVERNANCE: seedtext.governance_elements(seed_texts[GOVERNANCE]),
        STRONG_TRUSTS: seedtext.strong_trusts_elements(seed_texts[STRONG_TRUSTS]),
    }


def test_seed_element_numbers_and_titles(
    frameworks: dict[str, Framework], seed_elements: dict[str, dict[int, SeedElement]]
) -> None:
    for framework_id, seeds in seed_elements.items():
        elements = frameworks[framework_id].elements
        assert sorted(seeds) == [e.number for e in elements]
        assert [seeds[e.number].title for e in elements] == [e.title for e in elements]
        assert [seeds[e.number].title_footnotes for e in elements] == [
            list(e.footnotes) for e in elements
        ]


def test_seed_governance_heat_map(governance: Framework, seed_texts: dict[str, str]) -> None:
    heat_map = seedtext.heat_map(
        seed_texts[GOVERNANCE], "Capturing the output from self-assessment", "Priorities for"
    )
    assert heat_map == {
        e.number: (governance.domain(e.domain).title, e.heat_map_title) for e in governance.elements
    }


def test_seed_strong_trusts_overview_and_headings(
    strong_trusts: Framework,
    seed_texts: dict[str, str],
    seed_elements: dict[str, dict[int, SeedElement]],
) -> None:
    overview = seedtext.overview(
        seed_texts[STRONG_TRUSTS],
        "The seven domains and 14 elements of the Strong Trust Assurance Framework",
    )
    assert overview == {
        e.number: (strong_trusts.domain(e.domain).overview_title, e.heat_map_title)
        for e in strong_trusts.elements
    }
    seeds = seed_elements[STRONG_TRUSTS]
    for element in strong_trusts.elements:
        domain = strong_trusts.domain(element.domain)
        assert seeds[element.number].domain_heading == domain.heading
        first_in_domain = strong_trusts.elements_in(domain.id)[0] is element
        expected_notes = list(domain.footnotes) if first_in_domain else []
        assert seeds[element.number].domain_footnotes == expected_notes


@pytest.mark.parametrize("framework_id", [GOVERNANCE, STRONG_TRUSTS])
@pytest.mark.parametrize("column", COLUMNS)
def test_seed_columns_verbatim(
    frameworks: dict[str, Framework],
    seed_elements: dict[str, dict[int, SeedElement]],
    framework_id: str,
    column: str,
) -> None:
    """Each column, all its lines joined, is the source's cell word for word: nothing missing,
    added, reordered or retyped. Each line on its own is a piece of that cell."""
    for element in frameworks[framework_id].elements:
        seed = seed_elements[framework_id][element.number]
        lines = [item.text for item in getattr(element, column)]
        source = seed.joined(column)
        for text in lines:
            assert text in source, f"element {element.number} {column}: {text!r}"
        assert " ".join(lines) == source, f"element {element.number} {column}"


@pytest.mark.parametrize("framework_id", [GOVERNANCE, STRONG_TRUSTS])
@pytest.mark.parametrize("column", COLUMNS)
def test_seed_markers_and_footnotes_per_column(
    frameworks: dict[str, Framework],
    seed_elements: dict[str, dict[int, SeedElement]],
    framework_id: str,
    column: str,
) -> None:
    for element in frameworks[framework_id].elements:
        seed = seed_elements[framework_id][element.number]
        items = getattr(element, column)
        markers = [m for item in items for m in getattr(item, "markers", ())]
        footnotes = [n for item in items for n in item.footnotes]
        assert (markers, footnotes) == (seed.markers(column), seed.footnotes(column)), (
            f"element {element.number} {column}"
        )


@pytest.mark.parametrize("column", COLUMNS)
def test_seed_strong_trusts_item_by_item(
    strong_trusts: Framework,
    seed_elements: dict[str, dict[int, SeedElement]],
    column: str,
) -> None:
    """The strong-trusts source marks every item (`<p>` or `▪`), so the split is checked too."""
    for element in strong_trusts.elements:
        seed = seed_elements[STRONG_TRUSTS][element.number]
        expected = [(i.text, i.bullet, i.markers, i.footnotes) for i in seed.items(column)]
        actual = [
            (
                item.text,
                getattr(item, "bullet", False),
                list(getattr(item, "markers", ())),
                list(item.footnotes),
            )
            for item in getattr(element, column)
        ]
        assert actual == expected, f"element {element.number} {column}"


def test_seed_governance_bullet_glyphs(
    governance: Framework, seed_elements: dict[str, dict[int, SeedElement]]
) -> None:
    """Where the governance source kept its `•` glyph, a data line starts there. (Elsewhere the
    glyphs were lost in extraction, which is what COUNTS pins.)"""
    glyphs = 0
    for element in governance.elements:
        seed = seed_elements[GOVERNANCE][element.number]
        for column in ("red", "green"):
            lines = [line.text for line in getattr(element, column)]
            starts = {len(" ".join(lines[:i])) + (i > 0) for i in range(len(lines))}
            joined = " ".join(lines)
            cursor = 0
            for item in seed.items(column):
                position = joined.find(item.text, cursor)
                assert position >= 0, f"element {element.number} {column}: {item.text!r} missing"
                if item.bullet:
                    glyphs += 1
                    assert position in starts, f"element {element.number} {column}: {item.text!r}"
                cursor = position + len(item.text)
    assert glyphs > 50


@pytest.mark.parametrize("framework_id", [GOVERNANCE, STRONG_TRUSTS])
def test_seed_prose_verbatim(
    frameworks: dict[str, Framework], seed_texts: dict[str, str], framework_id: str
) -> None:
    framework = frameworks[framework_id]
    source = seedtext.clean(seed_texts[framework_id])
    prose = [
        *framework.introduction,
        framework.scale_guidance,
        *framework.footnotes.values(),
        *framework.priorities.guidance.split("\n\n"),
    ]
    assert [p for p in prose if p not in source] == []


def test_seed_markers_note_is_the_source_sentence(
    strong_trusts: Framework, seed_texts: dict[str, str]
) -> None:
    """One sentence, symbols and all, as the source prints it: not two fragments of it."""
    note = strong_trusts.markers_note
    assert note is not None
    assert f"\n{note}\n" in seed_texts[STRONG_TRUSTS]


@pytest.mark.parametrize("framework_id", [GOVERNANCE, STRONG_TRUSTS])
def test_seed_copyright_only_as_printed(
    frameworks: dict[str, Framework], seed_texts: dict[str, str], framework_id: str
) -> None:
    """A copyright line only where the source prints one, in its words; the publisher still
    attributes the framework."""
    framework = frameworks[framework_id]
    assert framework.publisher in seedtext.clean(seed_texts[framework_id]).replace("\n", " ")
    if "©" in seed_texts[framework_id]:
        assert framework.copyright is not None
        assert framework.copyright in seed_texts[framework_id]
    else:
        assert framework.copyright is None


def test_seed_governance_has_no_copyright_line(governance: Framework) -> None:
    """Pinned without the source: document 000 prints no © line."""
    assert governance.copyright is None
    assert governance.publisher == "Confederation of School Trusts"


@pytest.mark.parametrize(
    ("framework_id", "start", "end"),
    [
        (GOVERNANCE, "IMPROVEMENT CAPACITY FRAMEWORK FOR TRUST GOVERNANCE", "Capturing the output"),
        (
            STRONG_TRUSTS,
            "How to use this framework",
            "Priorities for improvement and action planning",
        ),
    ],
)
def test_seed_rating_names_as_the_scale_list_spells_them(
    frameworks: dict[str, Framework],
    seed_texts: dict[str, str],
    framework_id: str,
    start: str,
    end: str,
) -> None:
    """The four-point scale list under "…along a four-point scale:" names each rating."""
    section = seed_texts[framework_id].split(f"\n{start}", 1)[1].split(f"\n{end}", 1)[0]
    after = section.split("four-point scale:\n", 1)[1].splitlines()
    listed = [line.strip().removeprefix("- ") for line in after if line.strip()][:4]
    names = [r.name for r in frameworks[framework_id].ratings]
    assert [item.split(" (")[0].rstrip(".") for item in listed] == names


def test_seed_strong_trusts_introduction_whole(
    strong_trusts: Framework, seed_texts: dict[str, str]
) -> None:
    """Every paragraph of "How to use this framework", in order, the scale list included."""
    source = seedtext.paragraphs(
        seed_texts[STRONG_TRUSTS],
        "How to use this framework",
        "Priorities for improvement and action planning",
    )
    assert source == list(strong_trusts.introduction)
    assert strong_trusts.introduction[2:6] == (
        "Red (needs attention)",
        "Amber red",
        "Amber green",
        "Green (strong capacity).",
    )


def test_seed_governance_priorities_guidance_whole(
    governance: Framework, seed_texts: dict[str, str]
) -> None:
    """The guidance around the heat map and the priorities table, in the source's order, none
    left out."""
    text = seed_texts[GOVERNANCE]
    around_heat_map = seedtext.paragraphs(
        text, "Capturing the output from self-assessment", "Strategic leadership"
    )
    table_header = next(line for line in text.splitlines() if line.startswith("Focus Area\t"))
    before_table = seedtext.paragraphs(text, "Priorities for improvement", table_header)
    assert governance.priorities.guidance.split("\n\n") == around_heat_map + before_table


def test_governance_priorities_guidance_order(governance: Framework) -> None:
    """Pinned without the source: four paragraphs, the heat map's two before the table's two."""
    paragraphs = governance.priorities.guidance.split("\n\n")
    assert [p.split()[:3] for p in paragraphs] == [
        ["We", "suggest", "you"],
        ["Areas", "that", "you"],
        ["As", "well", "as"],
        ["The", "table", "below"],
    ]


def test_seed_strong_trusts_domain_titles(
    strong_trusts: Framework, seed_texts: dict[str, str]
) -> None:
    """Where the overview table and the section headings differ only in punctuation, the title is
    the headings' wording (the document prints it above each of the domain's elements); where the
    words differ, both are the source's and the overview's stays the title."""
    text = seed_texts[STRONG_TRUSTS]

    def words(s: str) -> list[str]:
        return re.findall(r"\w+", s.lower())

    for domain in strong_trusts.domains:
        assert text.count(f"\n{domain.heading}") >= 2, domain.id
        if words(domain.overview_title) == words(domain.heading):
            assert domain.title == domain.heading, domain.id
        else:
            assert domain.title == domain.overview_title, domain.id


def test_seed_governance_introduction_whole(
    governance: Framework, seed_texts: dict[str, str]
) -> None:
    """Every paragraph from the title to the heat map, in order, headings aside: none left out."""
    source = seedtext.paragraphs(
        seed_texts[GOVERNANCE],
        "IMPROVEMENT CAPACITY FRAMEWORK FOR TRUST GOVERNANCE",
        "Capturing the output from self-assessment",
    )
    assert [p for p in source if p != "How to use the framework"] == list(governance.introduction)


def test_governance_introduction_names_peer_review_and_learning_sets(
    governance: Framework,
) -> None:
    """Pinned without the source: the paragraph the learning sets are built on."""
    last = governance.introduction[-1]
    assert last.startswith(
        "The framework can be used for the purposes of self-assessment or peer review."
    )
    assert (
        "A governance learning set is comprised of a small group of chairs (typically four or"
        " five) and the learning set would typically identify three or four elements of the"
        " framework to focus on across the group of trusts." in last
    )
