"""Rows of buttons: as few as fit a phone, in the order given, none empty."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from dialogs.cards.render import button_rows


def titles(rows: list[Markup]) -> list[list[str]]:
    return [[a["title"] for a in json.loads(row)] for row in rows]


def button(title: str, kind: str = "Action.Execute") -> dict[str, Any]:
    return {"type": kind, "title": title}


def test_the_four_ratings_make_two_rows_of_two() -> None:
    rows = button_rows([button(t) for t in ("Red", "Amber Red", "Amber Green", "Green")])
    assert titles(rows) == [["Red", "Amber Red"], ["Amber Green", "Green"]]


def test_buttons_that_fit_stay_on_one_row() -> None:
    assert titles(button_rows([button("Resume"), button("Start again")])) == [
        ["Resume", "Start again"]
    ]


def test_a_title_too_long_for_any_row_has_a_row_of_its_own() -> None:
    long = "Finish and see my heat map for the whole of this framework now"
    rows = button_rows([button("Back"), button(long), button("Pause")])
    assert titles(rows) == [["Back"], [long], ["Pause"]]


def test_a_show_card_button_counts_its_chevron() -> None:
    # Without the chevron these two would share a row on a phone; with it they do not.
    pair = ["Set a new deadline", "Close now"]
    assert len(button_rows([button(t) for t in pair])) == 1
    assert len(button_rows([button(t, "Action.ShowCard") for t in pair])) == 2


def test_json_a_template_wrote_is_kept_as_written() -> None:
    written = Markup('{"type": "Action.ShowCard", "title": "Close round", "card": {"x": "<&>"}}')
    (row,) = button_rows([button("Refresh"), written])
    assert str(row) == '[{"type": "Action.Execute", "title": "Refresh"}, ' + str(written) + "]"


def test_no_buttons_no_rows() -> None:
    assert button_rows([]) == []
