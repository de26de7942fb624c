"""The validator itself: it passes a real card and catches each kind of fault it is meant to."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from dialogs.cards import element_card, results_card
from tests.cards.kit import FRAMEWORKS, GOV, all_rated, assessment
from tests.cards.validate import assert_valid, problems
from tests.dialogs.cardkit import walk

Card = dict[str, Any]


def element(mode: str = "execute") -> Card:
    fw = FRAMEWORKS[GOV]
    return element_card(fw, assessment(fw, {2: "AG"}), fw.elements[1], mode).content


def results() -> Card:
    fw = FRAMEWORKS[GOV]
    return results_card(fw, assessment(fw, all_rated(fw, "R")), "execute").content


def first(card: Card, kind: str) -> dict[str, Any]:
    return next(n for n in walk(card) if n.get("type") == kind)


def set_version(card: Card) -> None:
    card["version"] = "1.6"


def add_open_url(card: Card) -> None:
    card["body"].append(
        {
            "type": "ActionSet",
            "actions": [{"type": "Action.OpenUrl", "title": "x", "url": "https://evil.example"}],
        }
    )


def unknown_element(card: Card) -> None:
    card["body"].append({"type": "Carousel", "pages": []})


def text_block_without_text(card: Card) -> None:
    card["body"].append({"type": "TextBlock", "wrap": True})


def duplicate_input(card: Card) -> None:
    card["body"].append({"type": "Input.Text", "id": "evidence"})


def input_without_id(card: Card) -> None:
    card["body"].append({"type": "Input.Toggle", "title": "x"})


def verb_differs(card: Card) -> None:
    first(card, "Action.Execute")["verb"] = "skip"


def fallback_data_differs(card: Card) -> None:
    first(card, "Action.Execute")["fallback"]["data"] = {"verb": "rate", "rating": "G"}


def fallback_not_submit(card: Card) -> None:
    execute = first(card, "Action.Execute")
    execute["fallback"] = {**execute, "fallback": "drop"}


def none_value(card: Card) -> None:
    first(card, "TextRun")["color"] = None


def unknown_property(card: Card) -> None:
    first(card, "TextRun")["colour"] = "Accent"


def bad_enum(card: Card) -> None:
    first(card, "RichTextBlock")["spacing"] = "Huge"


def duplicate_action_id(card: Card) -> None:
    for action in [n for n in walk(card["body"]) if n.get("type") == "Action.Execute"][:2]:
        action["id"] = "same"


def value_over_max_length(card: Card) -> None:
    first(card, "Input.Text").update(value="😀" * 10, maxLength=15)


def too_big(card: Card) -> None:
    card["body"].append({"type": "TextBlock", "text": "x" * 30_000})


def not_round_trip(card: Card) -> None:
    card["body"].append({"type": "TextBlock", "text": "x", "maxLines": (1,)})


BREAKS: list[Callable[[Card], None]] = [
    set_version,
    add_open_url,
    unknown_element,
    text_block_without_text,
    duplicate_input,
    input_without_id,
    verb_differs,
    fallback_data_differs,
    fallback_not_submit,
    none_value,
    unknown_property,
    bad_enum,
    duplicate_action_id,
    value_over_max_length,
    too_big,
    not_round_trip,
]


def short_table_row(card: Card) -> None:
    cell = {"type": "TableCell", "items": [{"type": "TextBlock", "text": "x"}]}
    row = {"type": "TableRow", "cells": [cell]}
    card["body"].append({"type": "Table", "columns": [{"width": 1}, {"width": 1}], "rows": [row]})


def grid_item_in_no_area(card: Card) -> None:
    grid = next(n for n in walk(card) if n.get("layouts"))
    grid["items"][0]["grid.area"] = "nowhere"


def unknown_target_width(card: Card) -> None:
    first(card, "TextBlock")["targetWidth"] = "atLeast:phone"


def unknown_layout(card: Card) -> None:
    next(n for n in walk(card) if n.get("layouts"))["layouts"][0]["type"] = "Layout.Grid"


def choice_value_missing(card: Card) -> None:
    card["body"].append(
        {
            "type": "Input.ChoiceSet",
            "id": "goto",
            "value": "99",
            "choices": [{"title": "one", "value": "1"}],
        }
    )


def name(breaking: Callable[[Card], None]) -> str:
    return breaking.__name__


def test_a_real_card_passes() -> None:
    assert_valid(element())
    assert_valid(element("submit"))
    assert_valid(results())


@pytest.mark.parametrize("breaking", BREAKS, ids=name)
def test_each_fault_is_caught(breaking: Callable[[Card], None]) -> None:
    card = copy.deepcopy(element())
    breaking(card)
    assert problems(card)


@pytest.mark.parametrize(
    "breaking",
    [
        short_table_row,
        choice_value_missing,
        grid_item_in_no_area,
        unknown_target_width,
        unknown_layout,
    ],
    ids=name,
)
def test_table_and_choice_faults_are_caught(breaking: Callable[[Card], None]) -> None:
    card = copy.deepcopy(results())
    breaking(card)
    assert problems(card)
