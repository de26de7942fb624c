"""The loader rejects a broken framework file, naming the file, the element and the field.

Each broken file is a real data file with one thing changed, written to tmp_path.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from frameworks import FrameworkError, load_all, load_framework
from frameworks.loader import DATA_DIR

GOVERNANCE_FILE = "01-cst-trust-governance.json"
STRONG_TRUSTS_FILE = "02-cst-strong-trusts.json"
BROKEN = "01-broken.json"

Edit = tuple[tuple[str | int, ...], Any]
DELETE = object()


def original(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def edited(name: str, edits: list[Edit]) -> dict[str, Any]:
    """A deep copy of a data file with each edit applied: a value, DELETE, or f(old value)."""
    data = copy.deepcopy(original(name))
    for path, value in edits:
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        if value is DELETE:
            del parent[path[-1]]
        elif callable(value):
            parent[path[-1]] = value(parent[path[-1]])
        else:
            parent[path[-1]] = value
    return data


def write(directory: Path, data: Any, name: str = BROKEN) -> Path:
    path = directory / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def error(path: Path) -> str:
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    return str(caught.value)


def rename(old: str, new: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda item: {(new if key == old else key): value for key, value in item.items()}


def el(number: int, *rest: str | int) -> tuple[str | int, ...]:
    """The path of element `number` (1-based, as the file numbers them) or of something in it."""
    return ("elements", number - 1, *rest)


# (data file, edits, message after "<file>: ")
CASES = [
    pytest.param(
        GOVERNANCE_FILE,
        [(el(5, "title"), DELETE)],
        "element 5: field 'title': must be a non-empty string",
        id="element title missing",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(7, "title"), "")],
        "element 7: field 'title': must be a non-empty string",
        id="element title empty",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(("title",), DELETE)],
        "field 'title': must be a non-empty string",
        id="framework title missing",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(3, "questions"), [])],
        "element 3: field 'questions': must be a non-empty list",
        id="no questions",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(9, "green"), DELETE)],
        "element 9: field 'green': must be a non-empty list",
        id="no green descriptors",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(1), rename("questions", "questons"))],
        "element 1: field 'questons': unknown field (misspelt?)",
        id="misspelt element field",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(2, "questions", 0), rename("text", "txt"))],
        "element 2: questions[0]: field 'txt': unknown field (misspelt?)",
        id="misspelt question field",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(("descripton",), "x")],
        "field 'descripton': unknown field (misspelt?)",
        id="misspelt top-level field",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(5, "questions", 1, "text"), lambda t: f"<p>{t}</p>")],
        "element 5: questions[1]: field 'text': contains PDF debris '<p>'",
        id="p tag in a question",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(4, "red", 1, "text"), lambda t: f"{t} <ul>")],
        "element 4: red[1]: field 'text': contains PDF debris '<ul>'",
        id="ul tag in a red line",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(1, "green", 2, "text"), lambda t: f"• {t}")],
        "element 1: green[2]: field 'text': contains PDF debris '•'",
        id="bullet glyph in a green line",
    ),
    pytest.param(
        STRONG_TRUSTS_FILE,
        [(el(1, "questions", 0, "text"), lambda t: f"{t} †³")],
        "element 1: questions[0]: field 'text': contains PDF debris '†'",
        id="marker symbol left in the text",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(16, "green", 3, "text"), lambda t: f"{t}¹")],
        "element 16: green[3]: field 'text': contains PDF debris '¹'",
        id="footnote digit left in the text",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(6, "red", 2, "text"), lambda t: t.replace(" ", "\n", 1))],
        "element 6: red[2]: field 'text': has stray whitespace",
        id="newline in a line",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(10, "questions", 2, "text"), lambda t: t.replace(" ", "  ", 1))],
        "element 10: questions[2]: field 'text': has stray whitespace",
        id="double space in a question",
    ),
    pytest.param(
        STRONG_TRUSTS_FILE,
        [(el(14, "green", 0, "text"), lambda t: f"{t} ")],
        "element 14: green[0]: field 'text': has stray whitespace",
        id="trailing space",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(4, "number"), 3)],
        "element 3: field 'number': must be 4: elements are numbered 1, 2, 3 … in order",
        id="duplicate element number",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(2, "id"), "setting-direction")],
        "field 'elements': id 'setting-direction' is used twice",
        id="duplicate element id",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(1, "domain"), "strategy")],
        "element 1: field 'domain': refers to 'strategy', which is not one of the domains",
        id="unknown domain",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(("domains",), lambda d: [*d, {"id": "extra", "title": "Extra"}])],
        "field 'domains': domain 'extra' has no elements",
        id="domain without elements",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(("scale", "ratings", 1, "code"), "A")],
        "scale: field 'ratings': must be the four ratings R, AR, AG, G in order",
        id="rating code not in the scale",
    ),
    pytest.param(
        STRONG_TRUSTS_FILE,
        [(("scale", "ratings"), lambda r: [r[1], r[0], r[2], r[3]])],
        "scale: field 'ratings': must be the four ratings R, AR, AG, G in order",
        id="ratings out of order",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(("scale", "ratings", 0, "wording"), "weak capacity" + " indeed" * 4)],
        "scale: rating R: field 'wording': is 41 characters; the limit is 40",
        id="rating wording too long",
    ),
    pytest.param(
        STRONG_TRUSTS_FILE,
        [(el(1, "questions", 0, "markers"), ["tdq"])],
        "element 1: questions[0]: field 'markers': refers to 'tdq', which is not defined",
        id="undeclared marker",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(3, "questions", 0, "markers"), ["tqd"])],
        "element 3: questions[0]: field 'markers': refers to 'tqd', which is not defined",
        id="marker in a framework without markers",
    ),
    pytest.param(
        STRONG_TRUSTS_FILE,
        [(el(6, "green", 0, "footnotes"), ["77"])],
        "element 6: green[0]: field 'footnotes': refers to '77', which is not defined",
        id="undeclared footnote",
    ),
    pytest.param(
        STRONG_TRUSTS_FILE,
        [(el(2, "red", 1, "bullet"), "yes")],
        "element 2: red[1]: field 'bullet': must be true or false",
        id="bullet not a boolean",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(el(3), "Decision-making")],
        "element #3: expected an object",
        id="element not an object",
    ),
    pytest.param(
        STRONG_TRUSTS_FILE,
        [(("markers_note",), DELETE)],
        "field 'markers_note': must be the sentence that explains '†'",
        id="markers with no note",
    ),
    pytest.param(
        STRONG_TRUSTS_FILE,
        [(("markers_note",), "The questions based on the Trust Quality Descriptors † only.")],
        "field 'markers_note': must be the sentence that explains '‡'",
        id="note explains one marker of two",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(("markers_note",), "Noted with a †.")],
        "field 'markers_note': explains markers, but the framework has none",
        id="note without markers",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(("scale", "paper_only", 0), "The left-hand column has space.")],
        "scale: field 'paper_only[0]': is not a sentence of the guidance",
        id="paper-only sentence not in the guidance",
    ),
    pytest.param(
        GOVERNANCE_FILE,
        [(("schema",), "trustboard.framework/2")],
        "field 'schema': must be 'trustboard.framework/1'",
        id="wrong schema",
    ),
]


@pytest.mark.parametrize(("source", "edits", "message"), CASES)
def test_broken_file_is_rejected(
    tmp_path: Path, source: str, edits: list[Edit], message: str
) -> None:
    path = write(tmp_path, edited(source, edits))
    assert error(path) == f"{BROKEN}: {message}"


@pytest.mark.parametrize("name", [GOVERNANCE_FILE, STRONG_TRUSTS_FILE])
def test_valid_copy_loads(tmp_path: Path, name: str) -> None:
    """Control: the unchanged copy loads, equal to what the bot loads."""
    framework = load_framework(write(tmp_path, original(name), name))
    assert framework == load_all()[framework.id]


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    text = (DATA_DIR / GOVERNANCE_FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    broken = next(i for i, line in enumerate(lines) if '"title": "Risk management",' in line)
    lines[broken] = lines[broken].rstrip(",")  # a missing comma: the error is on the next line
    path = tmp_path / BROKEN
    path.write_text("\n".join(lines), encoding="utf-8")
    assert re.fullmatch(
        rf"{re.escape(BROKEN)}: not readable JSON: Expecting ',' delimiter: "
        rf"line {broken + 2} column \d+ \(char \d+\)",
        error(path),
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / BROKEN
    path.write_bytes(b'{"title": "caf\xe9"}')
    assert error(path).startswith(f"{BROKEN}: not readable JSON: ")


@pytest.mark.parametrize("top", [[], "framework", 3, None])
def test_top_level_not_an_object(tmp_path: Path, top: Any) -> None:
    assert error(write(tmp_path, top)) == f"{BROKEN}: expected an object"


def test_load_all_loads_a_folder_of_copies(tmp_path: Path) -> None:
    for name in (GOVERNANCE_FILE, STRONG_TRUSTS_FILE):
        write(tmp_path, original(name), name)
    assert load_all(tmp_path) == load_all()


def test_load_all_fails_whole_on_one_broken_file(tmp_path: Path) -> None:
    write(tmp_path, original(GOVERNANCE_FILE), GOVERNANCE_FILE)
    write(tmp_path, edited(STRONG_TRUSTS_FILE, [(el(8, "questions"), [])]), STRONG_TRUSTS_FILE)
    with pytest.raises(FrameworkError) as caught:
        load_all(tmp_path)
    assert str(caught.value) == (
        f"{STRONG_TRUSTS_FILE}: element 8: field 'questions': must be a non-empty list"
    )


def test_load_all_rejects_a_reused_id(tmp_path: Path) -> None:
    write(tmp_path, original(GOVERNANCE_FILE), "01-first.json")
    write(tmp_path, original(GOVERNANCE_FILE), "02-second.json")
    with pytest.raises(FrameworkError) as caught:
        load_all(tmp_path)
    assert str(caught.value) == (
        "02-second.json: field 'id': 'cst-trust-governance' is used by another file"
    )


def test_load_all_rejects_an_empty_folder(tmp_path: Path) -> None:
    folder = tmp_path / "frameworks-data"
    folder.mkdir()
    with pytest.raises(FrameworkError) as caught:
        load_all(folder)
    assert str(caught.value) == "frameworks-data: no framework files found"


def test_introduction_debris_names_the_field(tmp_path: Path) -> None:
    broken = edited(GOVERNANCE_FILE, [(("introduction", 2), lambda t: f"<p>{t}")])
    message = error(write(tmp_path, broken))
    assert message.startswith(f"{BROKEN}: field 'introduction[2]'")
    assert message.endswith("contains PDF debris '<p>'")
