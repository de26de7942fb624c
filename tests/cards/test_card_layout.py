"""The main cards as Microsoft's renderer lays them out in Chromium, on a laptop and on a phone.

A row of buttons too wide for the screen is drawn with every title cut short ("R…", "Ambe…"),
so a trustee on a phone could not tell Red from Green. These tests draw the sample cards of
docs/cards (scripts/cardrender/cards.py) at 760 px and 360 px with scripts/cardrender/render.js
and read what it reports as cut off. Skipped where Node.js or Debian's chromium is missing;
scripts/test installs chromium when it can.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support.bot_process import REPO_ROOT
from tests.support.cardrender import renderer_modules

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
RENDERER = REPO_ROOT / "scripts" / "cardrender"
sys.path.insert(0, str(RENDERER))
from cvd import VISIONS, cell_colours, delta_e, simulate  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.npm,
    pytest.mark.skipif(shutil.which("node") is None, reason="the renderer needs Node.js and npm"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

# Nothing is accepted as cut off: on a phone the priorities are stacked, so the framework's long
# column headings no longer squeeze into a quarter of the card.
ACCEPTED: set[tuple[str, str]] = set()
# The cards with a heat map, whose rating cells are read back from the pictures.
HEAT_MAPS = ("results", "review", "summary")
CODES = ("R", "AR", "AG", "G")
# Spare width beside a rating's letters in their cell, in pixels: Teams' own font (Segoe UI) is
# a little wider than the Liberation Sans drawn here, and the letters must still fit on one line.
LETTER_ROOM = 8
# CIE76 ΔE below which two fills or two letter colours count as the same colour.
SAME_COLOUR = 10
# A control: one row of buttons as the element card had it before, which a phone cuts short.
WIDE = ["Red", "Amber Red", "Amber Green", "Green"]


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    work = tmp_path_factory.mktemp("layout")
    modules = str(renderer_modules())
    subprocess.run(
        [sys.executable, str(RENDERER / "cards.py"), str(work / "cards")],
        check=True,
        capture_output=True,
        cwd=REPO_ROOT,
    )
    control = {
        "type": "ActionSet",
        "actions": [{"type": "Action.Submit", "title": t} for t in WIDE],
    }
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [control]}
    (work / "cards" / "control.json").write_text(json.dumps(card))
    drawn = subprocess.run(
        ["node", str(RENDERER / "render.js"), str(work / "cards"), str(work), "760", "360:-narrow"],
        capture_output=True,
        timeout=300,
        env={**os.environ, "CHROMIUM": CHROMIUM, "CARDRENDER_MODULES": modules},
    )
    assert drawn.returncode == 0, drawn.stderr.decode()[-3000:]
    report = [json.loads(line) for line in drawn.stdout.decode().splitlines()]
    return {Path(p["picture"]).stem: p for p in report}


def test_every_main_card_is_drawn_at_both_widths(pictures: dict[str, dict[str, Any]]) -> None:
    cards = {"element", "review", "results", "summary", "round", "round-close", "plan", "control"}
    cards |= {"set", "comparison", "self-peer"}  # a learning set's
    assert set(pictures) == cards | {f"{name}-narrow" for name in cards}
    for name, picture in pictures.items():
        assert picture["width"] == (360 if name.endswith("-narrow") else 760)
        assert picture["height"] > (40 if name.startswith("control") else 300), name


def test_nothing_is_cut_short_on_a_laptop_or_a_phone(pictures: dict[str, dict[str, Any]]) -> None:
    cut = {
        (name, c["what"], c["text"])
        for name, picture in pictures.items()
        for c in picture["clipped"]
        if (name, c["text"]) not in ACCEPTED and not name.startswith("control")
    }
    assert not cut, "cut off or spilling:\n" + "\n".join(map(str, sorted(cut)))


def test_the_four_ratings_in_one_row_would_be_cut_short_on_a_phone(
    pictures: dict[str, dict[str, Any]],
) -> None:
    """The control: the check above looks, and sees what the old layout did wrong."""
    assert pictures["control"]["clipped"] == []
    cut = {c["text"] for c in pictures["control-narrow"]["clipped"] if c["what"] == "cut short"}
    assert cut >= {"Amber Red", "Amber Green"}
    assert {"Red", "✓ Amber Red", "Amber Green", "Green"} <= set(pictures["element"]["buttons"])


def test_rating_letters_fit_their_cell_on_one_line(pictures: dict[str, dict[str, Any]]) -> None:
    """Never "A/G": each rating's letters on one line, with room to spare, at both widths."""
    for name in HEAT_MAPS:
        for picture in (pictures[name], pictures[f"{name}-narrow"]):
            codes = picture["codes"]
            assert {c["text"] for c in codes} >= {"R", "AR", "AG"}, name
            assert all(c["lines"] == 1 for c in codes), name
            tight = [(c["text"], round(c["room"], 1)) for c in codes if c["room"] < LETTER_ROOM]
            assert not tight, f"{picture['picture']}: letters with too little room: {tight}"


def test_no_word_is_broken_across_lines(pictures: dict[str, dict[str, Any]]) -> None:
    """A column too narrow for its words breaks them ("progre / ss"); a phone gets the priorities
    stacked, so none is."""
    broken = {name: p["broken"] for name, p in pictures.items() if p["broken"]}
    assert not broken


def looks_in(picture: dict[str, Any]) -> dict[str, tuple[Any, Any, int, int]]:
    """Each rating as the picture draws it: fill, letter colour, weight, letter count."""
    image = Image.open(picture["picture"])
    found = {}
    for code in picture["codes"]:
        if code["text"] not in found:
            fill, ink = cell_colours(image, code["fill"], code["box"])
            found[code["text"]] = (fill, ink, code["weight"], len(code["text"]))
    return found


def cues(a: tuple[Any, Any, int, int], b: tuple[Any, Any, int, int], vision: str) -> list[str]:
    """What tells two drawn ratings apart for a reader with `vision`, their letters aside."""
    found = []
    if a[3] != b[3]:
        found.append("letter count")
    if (a[2] >= 600) != (b[2] >= 600):
        found.append("weight")
    if delta_e(simulate(a[0], vision), simulate(b[0], vision)) >= SAME_COLOUR:
        found.append("fill")
    if delta_e(simulate(a[1], vision), simulate(b[1], vision)) >= SAME_COLOUR:
        found.append("letter colour")
    return found


@pytest.mark.parametrize("vision", VISIONS)
def test_no_two_ratings_look_alike_with_any_colour_vision(
    pictures: dict[str, dict[str, Any]], vision: str
) -> None:
    """Read from the rendered pictures and seen through a simulation of protanopia,
    deuteranopia or tritanopia (scripts/cardrender/cvd.py): every two ratings differ in at least
    two of letter count, weight, fill and letter colour, besides the letters themselves."""
    alike = []
    for name in ("results", "results-narrow", "summary", "summary-narrow"):
        looks = looks_in(pictures[name])
        assert set(looks) == set(CODES), name
        for a, b in combinations(CODES, 2):
            found = cues(looks[a], looks[b], vision)
            if len(found) < 2:
                alike.append(f"{name}: {a} and {b} differ only in {found or 'their letters'}")
    assert not alike, "\n".join(alike)
