"""The board's buttons: one payload class per verb, packing what the cards send today."""

from __future__ import annotations

import pytest

from dialogs.boards import desk
from dialogs.boards.payloads import (
    BOARD,
    PlanSave,
    RolesSave,
    RoundForm,
    RoundOpen,
    RoundRemind,
)
from dialogs.engine import STEPS
from dialogs.payloads import WALKTHROUGH, Tampered

BOARD_ID = "19:board@thread.tacv2"
ROUND_ID = "0123456789ab"


def test_every_verb_has_exactly_one_payload_class() -> None:
    assert set(BOARD) == set(desk.VERBS)  # every handler the desk dispatches to
    assert set(WALKTHROUGH) == set(STEPS)


def test_round_and_plan_buttons_pack_their_short_keys() -> None:
    assert RoundRemind(board=BOARD_ID, round=ROUND_ID, sent=2).pack() == {
        "verb": "round.remind",
        "b": BOARD_ID,
        "r": ROUND_ID,
        "sent": 2,
    }
    assert RoundForm(board=BOARD_ID, framework="fw", elements=(3, 1)).pack()["els"] == [1, 3]
    # The plan's boxes and the form's fields are the card's inputs, not the button's data.
    plan = PlanSave(board=BOARD_ID, round=ROUND_ID, version=4, actions={1: "x"})
    assert plan.pack() == {"verb": "plan.save", "b": BOARD_ID, "r": ROUND_ID, "v": 4}
    assert RoundOpen(board=BOARD_ID, framework="fw", message="hi").pack() == {
        "verb": "round.open",
        "b": BOARD_ID,
        "fw": "fw",
    }


def test_a_click_brings_the_cards_inputs() -> None:
    saved = RolesSave.unpack(
        {
            "verb": "roles.save",
            "b": BOARD_ID,
            "page": 0,
            "keys": ["k1", "k2"],
            "role.0": "chair",
            "role.1": "trustee",
        }
    )
    assert saved.changes == {"k1": "chair", "k2": "trustee"}
    plan = PlanSave.unpack(
        {"b": BOARD_ID, "r": ROUND_ID, "v": "1", "actions.3": "Recruit", "progress.3": "Two"}
    )
    assert (plan.version, plan.actions, plan.progress, plan.shown) == (
        1,
        {3: "Recruit"},
        {3: "Two"},
        {3},
    )
    opened = RoundOpen.unpack(
        {"b": BOARD_ID, "fw": "fw", "elements": "3,1", "min": "2", "visibility": "attributed"}
    )
    assert (opened.elements, opened.min_responses, opened.attributed) == ((1, 3), "2", True)
    # The round card's deadline box goes with each of its buttons.
    assert RoundRemind.unpack({"b": BOARD_ID, "r": ROUND_ID, "sent": 0, "deadline": ""}).sent == 0
    # "Back to the board" on the roles card carries the roles chosen so far.
    assert BOARD["board.show"].unpack({"b": BOARD_ID, "role.0": "chair"}).board == BOARD_ID


@pytest.mark.parametrize(
    ("verb", "data"),
    [
        ("round.remind", {"b": BOARD_ID, "r": ROUND_ID, "sent": "²"}),
        ("round.remind", {"b": BOARD_ID, "r": ROUND_ID}),
        ("roles.show", {"b": BOARD_ID, "page": "٣"}),
        ("roles.save", {"b": BOARD_ID, "keys": ["k"], "role.0": "chair", "role.1": "clerk"}),
        ("roles.save", {"b": BOARD_ID, "keys": ["k"]}),
        ("plan.save", {"b": BOARD_ID, "r": ROUND_ID, "v": "1", "actions.x": "y"}),
        ("plan.save", {"b": BOARD_ID, "r": ROUND_ID, "v": "1", "actions.1": 5}),
        ("round.form", {"b": BOARD_ID, "fw": "fw", "els": ["one"]}),
        ("round.open", {"b": BOARD_ID, "fw": "fw", "elements": [1, 2]}),
        ("round.open", {"b": BOARD_ID, "fw": "fw", "elements": "1,²"}),
        ("data.delete", {"b": BOARD_ID, "confirm": True}),
        ("board.setup", {"b": ""}),
        ("board.setup", {}),
    ],
)
def test_what_no_card_sends_is_tampered(verb: str, data: dict[str, object]) -> None:
    with pytest.raises(Tampered):
        BOARD[verb].unpack(data)
