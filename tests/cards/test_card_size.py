"""The worst cards a trustee can cause still fit under Teams' message size limit.

Evidence is capped at 1,500 UTF-16 units; as JSON with non-ASCII escaped (how a card travels),
an accented letter or an emoji costs 6 bytes a unit, so those are the widest notes.
"""

from __future__ import annotations

import json

import pytest

from dialogs.cards import (
    EVIDENCE_MAX,
    MAX_CARD_BYTES,
    card_bytes,
    element_card,
    results_card,
    review_card,
)
from tests.cards.kit import (
    FINISHED,
    FRAMEWORKS,
    LONG_NOTICE,
    STRONG,
    WIDEST,
    all_rated,
    assessment,
    runs,
)
from tests.cards.validate import assert_valid, utf16_length
from tests.dialogs.cardkit import evidence_value


@pytest.mark.parametrize("kind", WIDEST)
@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_every_element_card_fits_with_the_widest_evidence(framework_id: str, kind: str) -> None:
    fw = FRAMEWORKS[framework_id]
    evidence = WIDEST[kind]
    assert utf16_length(evidence) == EVIDENCE_MAX
    sizes = {}
    for element in fw.elements:
        subject = assessment(fw, {element.number: "AG"}, evidence, element.number)
        card = element_card(fw, subject, element, "execute", LONG_NOTICE)
        assert evidence_value(card) == evidence
        sizes[element.number] = card_bytes(card.content)
    number = max(sizes, key=sizes.__getitem__)
    assert sizes[number] < MAX_CARD_BYTES, (
        f"element {number} card is {sizes[number]} bytes; the limit is {MAX_CARD_BYTES}"
    )


@pytest.mark.parametrize("done", [True, False], ids=["finished", "in progress"])
@pytest.mark.parametrize("kind", WIDEST)
@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_results_card_fits_with_every_element_red_and_the_widest_evidence(
    framework_id: str, kind: str, done: bool
) -> None:
    fw = FRAMEWORKS[framework_id]
    subject = assessment(fw, all_rated(fw, "R"), WIDEST[kind], done=done)
    card = results_card(fw, subject, "execute", FINISHED if done else None)
    size = card_bytes(card.content)
    assert size < MAX_CARD_BYTES, f"results card is {size} bytes; the limit is {MAX_CARD_BYTES}"
    assert_valid(card.content)


@pytest.mark.parametrize("kind", WIDEST)
@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_results_card_fits_with_mixed_ratings_and_the_widest_evidence(
    framework_id: str, kind: str
) -> None:
    fw = FRAMEWORKS[framework_id]
    card = results_card(fw, assessment(fw, all_rated(fw), WIDEST[kind]), "execute", LONG_NOTICE)
    size = card_bytes(card.content)
    assert size < MAX_CARD_BYTES, f"results card is {size} bytes; the limit is {MAX_CARD_BYTES}"


@pytest.mark.parametrize("rating", ["R", None], ids=["rated", "drafts"])
@pytest.mark.parametrize("kind", WIDEST)
@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_review_card_fits_with_every_element_carrying_the_widest_evidence(
    framework_id: str, kind: str, rating: str | None
) -> None:
    fw = FRAMEWORKS[framework_id]
    subject = assessment(fw, dict.fromkeys(all_rated(fw), rating), WIDEST[kind], cursor=0)
    card = review_card(fw, subject, "execute", LONG_NOTICE)
    size = card_bytes(card.content)
    assert size < MAX_CARD_BYTES, f"review card is {size} bytes; the limit is {MAX_CARD_BYTES}"


def test_a_note_just_over_the_limit_comes_back_whole_without_max_length() -> None:
    fw = FRAMEWORKS[STRONG]
    note = "é" * (EVIDENCE_MAX + 1)
    card = element_card(fw, assessment(fw), fw.elements[0], "execute", LONG_NOTICE, evidence=note)
    assert evidence_value(card) == note
    assert_valid(card.content)  # no maxLength below the value's length


def test_a_note_far_over_the_limit_comes_back_as_far_as_the_card_holds() -> None:
    fw = FRAMEWORKS[STRONG]
    note = "é" * 4000  # typed as a message: 8 KB, far more than a card can carry back
    card = element_card(fw, assessment(fw), fw.elements[0], "execute", LONG_NOTICE, evidence=note)
    assert_valid(card.content)
    kept = evidence_value(card)
    assert kept.endswith("…") and note.startswith(kept[:-1])
    assert utf16_length(kept) > EVIDENCE_MAX  # still over: the trustee shortens it themselves
    assert "the whole note is still in your message above" in " ".join(runs(card))


def test_an_over_limit_emoji_note_gets_no_max_length_that_would_cut_it() -> None:
    fw = FRAMEWORKS[STRONG]
    note = "😀" * 1000
    assert utf16_length(note) > EVIDENCE_MAX  # what the engine counts, so it sends this back
    card = element_card(fw, assessment(fw), fw.elements[0], "execute", LONG_NOTICE, evidence=note)
    assert evidence_value(card) == note
    assert_valid(card.content)  # no maxLength of 1,500 on a value of 2,000 UTF-16 units


def test_char_bytes_agrees_with_json_for_every_character() -> None:
    from dialogs.cards.build import char_bytes, wire_bytes

    codes = [*range(0x11000), 0x1F600, 0x20000, 0x10FFFF]
    assert [c for c in codes if char_bytes(chr(c)) != wire_bytes(chr(c))] == []


@pytest.mark.parametrize("kind", ["", "Plain evidence.", *WIDEST])
@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_a_card_sent_as_its_builder_encoded_it_is_its_content(framework_id: str, kind: str) -> None:
    # The element and review cards go out in the JSON written when their size was checked (an
    # element's fixed part encoded once for all its cards): it must be the card's content,
    # byte for byte as json.dumps writes it, so what was measured is what is sent.
    fw = FRAMEWORKS[framework_id]
    evidence = WIDEST.get(kind, kind)
    for element in fw.elements:
        subject = assessment(fw, {element.number: "AG"}, evidence, element.number)
        for notice in (None, LONG_NOTICE):
            for mode in ("execute", "submit"):
                card = element_card(fw, subject, element, mode, notice)
                assert card.wire == json.dumps(card.content), (element.number, mode)
    for card in (
        review_card(fw, assessment(fw, all_rated(fw, "AR"), evidence), "execute", FINISHED),
        element_card(fw, assessment(fw), fw.elements[0], "execute", None, "é" * 9000),
    ):
        assert card.wire == json.dumps(card.content)
        assert len(card.wire) == card_bytes(card.content) < MAX_CARD_BYTES
