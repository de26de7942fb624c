"""One look for each rating in every view (dialogs/cards/scheme.py), checked as data and as the
cards carry it. How the looks come out in a rendered picture, with and without colour vision, is
tests/cards/test_card_layout.py's."""

from __future__ import annotations

import json
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from dialogs.boards.papers import paper_html
from dialogs.cards import results_card, review_card
from dialogs.cards.scheme import LEGEND, LOOKS
from dialogs.rounds import round_summary_card
from tests.boards.cardkit import board, closed_round, round_summary
from tests.cards.kit import FRAMEWORKS, GOV, all_rated, assessment
from tests.dialogs.cardkit import walk

CARDRENDER = Path(__file__).resolve().parents[2] / "scripts" / "cardrender"
sys.path.insert(0, str(CARDRENDER))
from cvd import contrast, hex_rgb  # noqa: E402

HOST = json.loads((CARDRENDER / "hostconfig.json").read_text(encoding="utf-8"))["containerStyles"]
CODES = ("R", "AR", "AG", "G")


def test_the_looks_are_teams_own_styles_and_colours() -> None:
    """No colour of the bot's own: each fill is a Teams container style and each letter colour
    one of its text colours, so the paper prints what Teams draws."""
    for code, look in LOOKS.items():
        style = HOST[look.style]
        assert look.fill == style["backgroundColor"], code
        assert look.ink == style["foregroundColors"][look.color.lower()]["default"], code


@pytest.mark.parametrize("code", CODES)
def test_every_rating_has_aa_contrast(code: str) -> None:
    look = LOOKS[code]
    assert contrast(hex_rgb(look.fill), hex_rgb(look.ink)) >= 4.5


def test_the_four_ratings_differ_without_colour() -> None:
    """Letter count and weight alone tell any two ratings apart: never colour alone."""
    for a, b in combinations(CODES, 2):
        assert len(a) != len(b) or LOOKS[a].bold != LOOKS[b].bold, (a, b)
    assert len({(len(c), LOOKS[c].bold) for c in CODES}) == 4


def codes_drawn(content: dict[str, Any]) -> dict[str, set[tuple[str, str, str]]]:
    """Each rating's letters on a card, with the fill around them, their colour and weight."""
    found: dict[str, set[tuple[str, str, str]]] = {}
    for node in walk(content["body"]):
        if node.get("type") != "Column" or "style" not in node:
            continue
        for item in node["items"]:
            if item.get("type") == "TextBlock" and item["text"] in CODES:
                look = (node["style"], item.get("color", "Default"), item.get("weight", "Default"))
                found.setdefault(item["text"], set()).add(look)
    return found


def expected(code: str) -> tuple[str, str, str]:
    look = LOOKS[code]
    return (look.style, look.color, look.weight)


def test_every_card_draws_a_rating_the_same_way() -> None:
    """The trustee's review and heat map and the board's summary: one look per rating."""
    fw = FRAMEWORKS[GOV]
    mine = assessment(fw, all_rated(fw), "Our note.")
    summary = round_summary("The register is out of date.", codes="R AR AG G", trustees=4)
    cards = {
        "review": review_card(fw, mine, "execute").content,
        "results": results_card(fw, mine, "execute").content,
        "summary": round_summary_card(
            summary, "Oak", "2026-12-05T23:59:59+00:00", "execute"
        ).content,
    }
    for name, content in cards.items():
        drawn = codes_drawn(content)
        assert drawn, name
        for code, looks in drawn.items():
            assert looks == {expected(code)}, (name, code)
    assert set(codes_drawn(cards["review"])) == set(CODES)


def test_focus_areas_take_their_ratings_look() -> None:
    fw = FRAMEWORKS[GOV]
    content = results_card(fw, assessment(fw, all_rated(fw), ""), "execute").content
    for node in walk(content["body"]):
        area = str(node.get("grid.area", ""))
        if area.startswith("f") and area != "f0":
            (text,) = node["items"]
            code = "R" if text["text"].endswith("(Red)") else "AR"
            assert (node["style"], text["color"], text["weight"]) == expected(code)


def test_one_legend_in_every_view() -> None:
    fw = FRAMEWORKS[GOV]
    mine = results_card(fw, assessment(fw, all_rated(fw), ""), "execute").content
    summary = round_summary("A note.", codes="R AR AG G", trustees=4)
    board_card = round_summary_card(summary, "Oak", "2026-12-05T23:59:59+00:00", "execute")
    paper = paper_html(board(), closed_round(board()), summary)
    for text in (json.dumps(mine, ensure_ascii=False), json.dumps(board_card.content), paper):
        assert LEGEND in text or json.dumps(LEGEND)[1:-1] in text
