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
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot_process import REPO_ROOT
from tests.support.cardrender import renderer_modules

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
RENDERER = REPO_ROOT / "scripts" / "cardrender"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.npm,
    pytest.mark.skipif(shutil.which("node") is None, reason="the renderer needs Node.js and npm"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

# Known and accepted: on a phone the framework's own column heading is wider than its column.
# The heading is the framework's words, verbatim; the cells under it fit.
ACCEPTED = {("results-narrow", "What progress do we want to see in the next 12 months?")}
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
