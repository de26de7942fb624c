"""Every card the builders make is a valid Adaptive Card 1.5, in both action modes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dialogs.cards import (
    Notice,
    element_card,
    paused_card,
    results_card,
    review_card,
    superseded_card,
    welcome_card,
)
from dialogs.messages import Card
from dialogs.state import Assessment
from frameworks import Framework
from tests.cards.kit import (
    FRAMEWORKS,
    MODES,
    STRONG,
    actions,
    all_rated,
    assessment,
    every_element,
)
from tests.cards.validate import assert_valid
from tests.dialogs.cardkit import walk

States = Callable[[Framework], Assessment]
STATES: dict[str, States] = {
    "none rated": lambda fw: assessment(fw),
    "all rated": lambda fw: assessment(fw, all_rated(fw), "Minutes of the March meeting."),
    "some unrated": lambda fw: assessment(
        fw, {n: r for n, r in all_rated(fw).items() if n % 3}, "Noted at the away day."
    ),
    "all red": lambda fw: assessment(fw, all_rated(fw, "R"), "No strategy yet."),
    "all red, no evidence": lambda fw: assessment(fw, all_rated(fw, "R")),
    "drafts only": lambda fw: assessment(fw, dict.fromkeys(range(1, 4)), "A draft note."),
    "finished": lambda fw: assessment(fw, all_rated(fw), "Agreed by the board.", done=True),
}


def check_mode(card: Card, mode: str) -> None:
    """Execute mode: every button is an Action.Execute falling back to a Submit; else Submits."""
    tops = [a for n in walk(card.content) if n.get("type") == "ActionSet" for a in n["actions"]]
    expected = "Action.Execute" if mode == "execute" else "Action.Submit"
    assert {a["type"] for a in tops} <= {expected}
    if mode == "execute":
        assert all(a["fallback"]["type"] == "Action.Submit" for a in tops)
    else:
        assert all("fallback" not in a and a["data"]["verb"] for a in tops)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("answered", [False, True], ids=["blank", "answered"])
@pytest.mark.parametrize(("framework_id", "number"), every_element())
def test_element_cards_are_valid(framework_id: str, number: int, answered: bool, mode: str) -> None:
    fw = FRAMEWORKS[framework_id]
    element = fw.element(number)
    assert element is not None
    if answered:
        state = assessment(fw, {number: "AR"}, "Risk register reviewed twice a year.", number)
        notice = Notice(f"Saved {number}. {element.title}: Amber Red.")
    else:
        state, notice = assessment(fw, cursor=number), None
    card = element_card(fw, state, element, mode, notice)
    assert_valid(card.content)
    check_mode(card, mode)


@pytest.mark.parametrize("style", ["good", "warning", "attention", "accent", "emphasis"])
def test_every_notice_style_is_valid(style: str) -> None:
    fw = FRAMEWORKS[STRONG]
    card = element_card(fw, assessment(fw), fw.elements[0], "execute", Notice("Note.", style))
    assert_valid(card.content)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_review_and_results_cards_are_valid(framework_id: str, state: str, mode: str) -> None:
    fw = FRAMEWORKS[framework_id]
    subject = STATES[state](fw)
    for card in (
        review_card(fw, subject, mode),
        review_card(fw, subject, mode, Notice("Skipped.", "warning")),
        results_card(fw, subject, mode),
        results_card(fw, subject, mode, Notice("Finished.")),
    ):
        assert_valid(card.content)
        check_mode(card, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_paused_cards_are_valid(framework_id: str, mode: str) -> None:
    fw = FRAMEWORKS[framework_id]
    subject = assessment(fw, {1: "G"}, cursor=2)
    for element in (fw.elements[1], fw.elements[-1], None):
        card = paused_card(fw, subject, element, mode)
        assert_valid(card.content)
        check_mode(card, mode)


def test_superseded_card_is_valid() -> None:
    card = superseded_card()
    assert_valid(card.content)
    assert actions(card) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", ["new", "open", "finished", "open and finished"])
def test_welcome_cards_are_valid(status: str, mode: str) -> None:
    fws = list(FRAMEWORKS.values())
    table: dict[str, tuple[Assessment | None, Assessment | None]] = {}
    for fw in fws:
        open_one = assessment(fw, {1: "R"}) if "open" in status else None
        last = assessment(fw, all_rated(fw), done=True) if "finished" in status else None
        table[fw.id] = (open_one, last)
    for notice in (None, Notice("I don't know that framework: choose one below.", "warning")):
        card = welcome_card(fws, table, mode, notice)
        assert_valid(card.content)
        check_mode(card, mode)
