"""The one parser of whole numbers, and the typed payloads that pack and unpack card buttons."""

from __future__ import annotations

from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.payloads import (
    WALKTHROUGH,
    Finish,
    Goto,
    Payload,
    Rate,
    Start,
    Tampered,
    in_scope,
    whole_between,
    whole_number,
)
from dialogs.state import Assessment
from frameworks import load_all

GOVERNANCE = load_all()["cst-trust-governance"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), (16, 16), ("7", 7), (" 12 ", 12), ("007", 7), ("0", 0)],
)
def test_whole_numbers_are_read(value: object, expected: int) -> None:
    assert whole_number(value, 0, 20) == expected


@pytest.mark.parametrize(
    "value",
    [
        "²",  # str.isdigit() is true, int() refuses it: this was a 500
        "٣",  # Arabic-Indic three: int() reads it, but it is not what the cards send
        "１",  # a full-width one
        "-1",
        "+2",
        "2.5",
        "1e3",
        "inf",
        "nan",
        "",
        "   ",
        "1 2",
        "0x10",
        "9" * 5000,  # beyond Python's own limit on digits
        None,
        True,
        False,
        2.0,
        [],
        {},
        21,
        -3,
    ],
)
def test_anything_else_is_refused_plainly(value: object) -> None:
    with pytest.raises(ValueError) as refused:
        whole_number(value, 0, 20)
    if isinstance(value, str) and value.strip():
        assert value.strip() not in str(refused.value)  # never repeats what was typed


@given(st.text())
def test_any_text_is_a_number_in_range_or_a_value_error(text: str) -> None:
    # Only spaces, tabs and line ends around the digits are forgiven; Python's strip() would
    # also take other Unicode white space ("1\x1f"), which the parser refuses.
    bare = text.strip(" \t\r\n")
    try:
        number = whole_number(text, 1, 999)
    except ValueError:
        assert not (bare.isascii() and bare.isdigit() and 1 <= int(bare) <= 999)
    else:
        assert 1 <= number <= 999
        assert bare in (str(number), str(number).zfill(len(bare)))


@given(st.integers())
def test_any_int_is_in_range_or_refused(number: int) -> None:
    if 1 <= number <= 999:
        assert whole_number(number, 1, 999) == number
    else:
        with pytest.raises(ValueError):
            whole_number(number, 1, 999)


class Paged(Payload):
    verb = "test.paged"
    page: Annotated[int, whole_between(0, 5)] = 0


def test_whole_number_as_a_field_type() -> None:
    assert Paged.unpack({"page": " 3 "}).page == 3
    assert Paged.unpack({}).page == 0
    for bad in ("²", "6", True, 2.0):
        with pytest.raises(Tampered):
            Paged.unpack({"page": bad})


def test_a_button_packs_its_verb_and_short_keys_and_unpacks_to_the_same() -> None:
    rate = Rate(a="0123456789ab", n=3, rating="AG")
    data = rate.pack()
    assert data == {"verb": "rate", "a": "0123456789ab", "n": 3, "rating": "AG"}
    assert Rate.unpack(data) == rate


def test_a_click_carries_the_cards_inputs() -> None:
    clicked = Rate.unpack({"verb": "rate", "a": "0123456789ab", "n": "3", "evidence": "Minutes"})
    assert (clicked.number, clicked.evidence) == (3, "Minutes")
    assert Goto.unpack({"a": "0123456789ab", "goto": "5"}).target == 5
    assert Goto.unpack({"a": "0123456789ab", "n": 2, "goto": "5"}).target == 2
    # The review card's chooser goes with its Finish button too, and is not Finish's business.
    assert Finish.unpack({"a": "0123456789ab", "goto": "anything"}).assessment == "0123456789ab"


@pytest.mark.parametrize(
    "data",
    [
        {"a": "not-an-id"},
        {"a": 123456789012},
        {"n": "²"},
        {"n": True},
        {"n": 0},
        {"n": 1000},
        {"rating": 3},
        {"evidence": ["a list"]},
        {"unexpected": "key"},
        {"b": "board"},  # a round's button names its board and its round, both
    ],
)
def test_a_payload_that_does_not_decode_is_tampered(data: dict[str, object]) -> None:
    with pytest.raises(Tampered):
        WALKTHROUGH["start" if "b" in data else "rate"].unpack(data)


def test_not_a_mapping_is_tampered() -> None:
    with pytest.raises(Tampered):
        Rate.unpack(["a", "list"])  # type: ignore[arg-type]


def test_a_round_invitation_names_board_and_round() -> None:
    start = Start.unpack({"verb": "start", "b": "19:team", "r": "0123456789ab"})
    assert (start.board, start.round) == ("19:team", "0123456789ab")


def test_an_element_is_in_scope_only_if_the_framework_has_it_and_the_scope_asks_it() -> None:
    whole = Assessment("0123456789ab", "cst-trust-governance", "1", "open", "", "", 1)
    some = Assessment(
        "0123456789ab", "cst-trust-governance", "1", "open", "", "", 1, elements=(2, 5)
    )
    assert in_scope(GOVERNANCE, whole, 16).number == 16
    assert in_scope(GOVERNANCE, whole, 17) is None
    assert in_scope(GOVERNANCE, some, 5).number == 5
    assert in_scope(GOVERNANCE, some, 3) is None
    assert in_scope(GOVERNANCE, some, None) is None
