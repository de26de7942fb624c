"""Whatever a trustee types as evidence is shown as text: it cannot break or reshape a card."""

from __future__ import annotations

import json

import pytest

from dialogs.cards import element_card, results_card, review_card
from dialogs.messages import Card
from tests.cards.kit import FRAMEWORKS, GOV, HOSTILE, MODES, actions, assessment, runs, shape
from tests.cards.validate import assert_valid
from tests.dialogs.cardkit import evidence_value

BENIGN = "Strategy agreed in March; not yet reviewed."
NAMES = list(HOSTILE)


def element_with(evidence: str, mode: str) -> Card:
    fw = FRAMEWORKS[GOV]
    return element_card(fw, assessment(fw, {1: "R"}, evidence), fw.elements[0], mode)


def review_with(evidence: str, mode: str) -> Card:
    fw = FRAMEWORKS[GOV]
    return review_card(fw, assessment(fw, {1: "R", 2: "G"}, evidence, cursor=0), mode)


def results_with(evidence: str, mode: str) -> Card:
    fw = FRAMEWORKS[GOV]
    return results_card(fw, assessment(fw, {1: "R", 2: "AR", 3: "G"}, evidence), mode)


def is_excerpt(run: str, evidence: str) -> bool:
    """The run shows the evidence with its whitespace folded, whole or cut short with '…'."""
    flat = " ".join(evidence.split())
    if run == flat:
        return True
    return run.endswith("…") and len(run) > 1 and flat.startswith(run[:-1])


def same_shape(card: Card, benign: Card) -> None:
    """No element or button was added, lost or changed by the evidence."""
    assert shape(card) == shape(benign)
    assert [json.dumps(a, sort_keys=True) for a in actions(card)] == [
        json.dumps(a, sort_keys=True) for a in actions(benign)
    ]
    assert json.dumps(card.content).count("49") == json.dumps(benign.content).count("49")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_element_card_holds_evidence_verbatim(name: str, mode: str) -> None:
    evidence = HOSTILE[name]
    card = element_with(evidence, mode)
    assert_valid(card.content)
    assert evidence_value(card) == evidence
    assert not any(evidence in run for run in runs(card))  # only in the input, never as text
    same_shape(card, element_with(BENIGN, mode))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_review_card_shows_evidence_as_text(name: str, mode: str) -> None:
    evidence = HOSTILE[name]
    card = review_with(evidence, mode)
    assert_valid(card.content)
    shown = [run for run in runs(card) if is_excerpt(run, evidence)]
    assert len(shown) == 2, runs(card)  # the two answered elements
    same_shape(card, review_with(BENIGN, mode))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_results_card_shows_evidence_as_key_issues(name: str, mode: str) -> None:
    evidence = HOSTILE[name]
    card = results_with(evidence, mode)
    assert_valid(card.content)
    shown = [run for run in runs(card) if is_excerpt(run, evidence)]
    assert len(shown) == 2, runs(card)  # the Red and the Amber Red element, not the Green one
    same_shape(card, results_with(BENIGN, mode))


@pytest.mark.parametrize("name", ["jinja expression", "jinja statements"])
def test_jinja_in_evidence_is_not_evaluated(name: str) -> None:
    evidence = HOSTILE[name]
    for card in (element_with(evidence, "execute"), results_with(evidence, "execute")):
        text = json.dumps(card.content, ensure_ascii=False)
        assert "{{7*7}}" in text
        assert "49" not in text
