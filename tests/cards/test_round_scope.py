"""A board round asks a trustee about some elements only: the cards count and list those alone.

The round here asks about elements 2, 5, 7 and 9, which leaves out whole domains of both
frameworks. The trustee has also rated elements outside it (1 Red, 3 Amber Red, 10 Red): the
cards must not count or show those.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from dialogs import results
from dialogs.cards import (
    MAX_CARD_BYTES,
    card_bytes,
    element_card,
    paused_card,
    results_card,
    review_card,
    welcome_card,
)
from dialogs.cards.build import wire_bytes
from dialogs.messages import Card
from dialogs.state import Assessment, RoundLink
from frameworks import Framework
from tests.cards.kit import (
    ASSESSMENT_ID,
    BOARD,
    FRAMEWORKS,
    GOV,
    HOSTILE,
    LONG_NOTICE,
    MODES,
    ROUND_ELEMENTS,
    STAMP,
    STRONG,
    WIDEST,
    actions,
    all_rated,
    assessment,
    in_round,
    inputs,
    round_link,
    runs,
    shape,
)
from tests.cards.test_card_content import heat_cells, table_rows
from tests.cards.validate import assert_valid
from tests.dialogs.cardkit import buttons, evidence_value

FRAMEWORK_IDS = (GOV, STRONG)
DUE = "answers due 4 December 2026"
ROUND_LINE = f"Board round: {BOARD} · {DUE}"
CLOSED_ON = "2026-12-05T09:30:00+00:00"
LINE_MAX = 200  # wire bytes of the round line, whatever the board is called
# Inside the round: 2 Red, 5 Green, 7 Amber Red, 9 a draft. Outside it: 1, 3 and 10.
RATINGS: dict[int, str | None] = {1: "R", 2: "R", 3: "AR", 5: "G", 7: "AR", 9: None, 10: "R"}
NOTES = {n: f"Evidence for element {n}." for n in RATINGS}
# Board names are typed by people: up to 200 characters of anything.
HOSTILE_NAMES = {
    "emoji": "😀" * 200,
    "accented": "é" * 200,
    "json breaker": HOSTILE["json breaker"][:200],
    "jinja": HOSTILE["jinja statements"],
    "whitespace": "Oakfield\nLearning\r\n\tTrust  board\u2028",
    "right-to-left override": HOSTILE["right-to-left override"],
}


def subject(fw: Framework, status: str = "open", **kwargs: Any) -> Assessment:
    done = status != "open"
    base = assessment(fw, RATINGS, NOTES, cursor=ROUND_ELEMENTS[0], done=done)
    return in_round(base, status=status, **kwargs)


def round_domains(fw: Framework) -> list[str]:
    wanted = {fw.element(n).domain for n in ROUND_ELEMENTS}  # type: ignore[union-attr]
    return [d.title for d in fw.domains if d.id in wanted]


def numbers(labels: list[str]) -> list[int]:
    return [int(label.split(".")[0]) for label in labels]


def check_mode(card: Card, mode: str) -> None:
    kinds = {a["type"] for a in buttons(card)}
    assert kinds <= {"Action.Execute" if mode == "execute" else "Action.Submit"}


def resume_button(card: Card, title: str) -> dict[str, Any]:
    """The one button so titled, checked to resume in both its Execute and Submit forms."""
    (found,) = [b for b in buttons(card) if b["title"] == title]
    assert found["data"]["verb"] == "resume" and set(found["data"]) == {"verb", "a"}
    if found["type"] == "Action.Execute":
        assert found["verb"] == "resume" and found["fallback"]["data"] == found["data"]
    return found


# The results module: what the heat map and priorities are drawn from.


@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_heat_map_holds_the_rounds_elements_and_leaves_other_domains_out(
    framework_id: str,
) -> None:
    fw = FRAMEWORKS[framework_id]
    rows = results.heat_map(fw, subject(fw))
    assert [row.domain.title for row in rows] == round_domains(fw)
    assert len(rows) < len(fw.domains)
    assert [c.element.number for row in rows for c in row.cells] == list(ROUND_ELEMENTS)
    assert [c.rating for row in rows for c in row.cells] == ["R", "G", "AR", None]


@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_priorities_and_unrated_come_from_the_rounds_elements_only(framework_id: str) -> None:
    fw = FRAMEWORKS[framework_id]
    answers = subject(fw)
    assert [p.element.number for p in results.priorities(fw, answers)] == [2, 7]
    assert [e.number for e in results.unrated(fw, answers)] == [9]
    # The same answers outside a round: every element counts again.
    private = replace(answers, elements=None)
    assert [p.element.number for p in results.priorities(fw, private)] == [1, 2, 3, 7, 10]
    assert len(results.unrated(fw, private)) == len(fw.elements) - 6


# The element card.


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("number", ROUND_ELEMENTS)
@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_element_card_counts_out_of_the_round(framework_id: str, number: int, mode: str) -> None:
    fw = FRAMEWORKS[framework_id]
    element = fw.element(number)
    assert element is not None
    answers = replace(subject(fw), cursor=number)
    card = element_card(fw, answers, element, mode)
    assert_valid(card.content)
    check_mode(card, mode)
    texts = runs(card)
    assert texts[0] == ROUND_LINE  # above everything else on the card
    assert f"Element {number} · {fw.domain(element.domain).title}" in texts
    assert f"{fw.short_title} · 3 of 4 rated in this round" in texts
    assert not any(f"of {len(fw.elements)}" in t for t in texts)
    # Navigation is the engine's business: the same buttons as outside a round.
    private = element_card(fw, replace(answers, elements=None, round=None), element, mode)
    assert actions(card) == actions(private)


@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_element_card_without_a_round_link_still_counts_out_of_its_elements(
    framework_id: str,
) -> None:
    fw = FRAMEWORKS[framework_id]
    answers = replace(subject(fw), round=None)
    texts = runs(element_card(fw, answers, fw.elements[1], "execute"))
    assert f"{fw.short_title} · 3 of 4 rated in this round" in texts
    assert not any(t.startswith("Board round") for t in texts)


# The review card.


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_review_card_lists_only_the_rounds_elements(framework_id: str, mode: str) -> None:
    fw = FRAMEWORKS[framework_id]
    card = review_card(fw, replace(subject(fw), cursor=0), mode)
    assert_valid(card.content)
    check_mode(card, mode)
    texts = runs(card)
    assert texts[0] == ROUND_LINE
    assert "3 of 4 rated in this round. Not rated yet: 9." in " ".join(texts)
    goto = inputs(card)["goto"]
    assert [c["value"] for c in goto["choices"]] == ["2", "5", "7", "9"]
    assert goto["value"] == "9"
    assert numbers([label for _, _, label in heat_cells(card)]) == list(ROUND_ELEMENTS)
    assert [code for code, _, _ in heat_cells(card)] == ["R", "G", "AR", "—"]
    shown_domains = [d.title for d in fw.domains if d.title in texts]
    assert shown_domains == round_domains(fw)


@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_review_card_with_the_round_all_rated(framework_id: str) -> None:
    fw = FRAMEWORKS[framework_id]
    answers = in_round(assessment(fw, dict.fromkeys(ROUND_ELEMENTS, "AG"), cursor=0))
    card = review_card(fw, answers, "execute")
    assert "4 of 4 rated in this round." in runs(card)
    assert inputs(card)["goto"]["value"] == "2"
    assert [b["title"] for b in buttons(card)] == [
        "Change this answer",
        "Finish and see my heat map",
    ]


# The results card.


def check_results_content(fw: Framework, card: Card) -> list[str]:
    texts = runs(card)
    assert numbers([label for _, _, label in heat_cells(card)]) == list(ROUND_ELEMENTS)
    assert [d.title for d in fw.domains if d.title in texts] == round_domains(fw)
    assert "3 of 4 elements rated in this round." in texts
    _, *rows = table_rows(card)
    titles = [fw.element(n).title for n in (2, 7)]  # type: ignore[union-attr]
    assert [row[0] for row in rows] == [f"{titles[0]} (Red)", f"{titles[1]} (Amber Red)"]
    assert [row[1] for row in rows] == [NOTES[2], NOTES[7]]
    return texts


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_results_card_in_progress_shows_the_round_so_far(framework_id: str, mode: str) -> None:
    fw = FRAMEWORKS[framework_id]
    card = results_card(fw, subject(fw), mode)
    assert_valid(card.content)
    check_mode(card, mode)
    texts = check_results_content(fw, card)
    assert texts[0] == ROUND_LINE
    assert [b["title"] for b in buttons(card)] == ["Carry on"]
    assert not any("can still change" in t or "locked" in t for t in texts)
    assert card.drives == ASSESSMENT_ID


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_results_card_once_finished_says_the_answers_can_still_change(
    framework_id: str, mode: str
) -> None:
    fw = FRAMEWORKS[framework_id]
    card = results_card(fw, subject(fw, "done"), mode)
    assert_valid(card.content)
    check_mode(card, mode)
    texts = check_results_content(fw, card)
    assert texts[0] == ROUND_LINE
    assert (
        "Your answers are in the board's round. You can still change them until the round "
        "closes." in texts
    )
    found = resume_button(card, "Change my answers")
    assert found["data"]["a"] == ASSESSMENT_ID
    assert [b["title"] for b in buttons(card)] == ["Change my answers"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("finished", "closed_on"),
    [(CLOSED_ON, "5 December 2026"), ("", "23 November 2026")],
    ids=["finished set", "updated only"],
)
@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_results_card_once_the_round_closed_is_locked(
    framework_id: str, finished: str, closed_on: str, mode: str
) -> None:
    fw = FRAMEWORKS[framework_id]
    answers = replace(subject(fw, "closed"), finished=finished or None)
    assert answers.updated == STAMP
    card = results_card(fw, answers, mode)
    assert_valid(card.content)
    texts = check_results_content(fw, card)
    assert f"The round closed on {closed_on}; these answers are locked." in texts
    assert f"{fw.title} · Round closed {closed_on}" in texts
    assert texts[0] == f"Board round: {BOARD}"  # no deadline to meet any more
    assert buttons(card) == []
    assert not any("can still change" in t for t in texts)


def test_a_private_finished_heat_map_offers_no_change() -> None:
    fw = FRAMEWORKS[GOV]
    card = results_card(fw, assessment(fw, all_rated(fw), done=True), "execute")
    assert buttons(card) == []
    assert not any("round" in t.lower() for t in runs(card))


# The paused card.


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_paused_card_names_the_round(framework_id: str, mode: str) -> None:
    fw = FRAMEWORKS[framework_id]
    for element in (fw.element(5), None):
        card = paused_card(fw, subject(fw), element, mode)
        assert_valid(card.content)
        check_mode(card, mode)
        texts = runs(card)
        assert texts[0] == ROUND_LINE
        assert any(t.startswith("3 of 4 rated in this round, all saved.") for t in texts)


# The welcome card.


def welcome(mode: str, rounds: list[Assessment]) -> Card:
    fws = list(FRAMEWORKS.values())
    return welcome_card(fws, {}, mode, rounds=rounds)


def round_offers() -> list[Assessment]:
    gov, strong = FRAMEWORKS[GOV], FRAMEWORKS[STRONG]
    other = round_link("Riverside Academies", "2027-01-15T12:00:00+00:00")
    return [
        subject(gov),
        replace(subject(strong, link=other), id="5d0000000001", answers={}),
        replace(subject(gov), id="unknown00001", framework="cst-not-a-framework"),
        replace(subject(gov, "closed"), id="closed000001"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_welcome_card_lists_board_rounds_first(mode: str) -> None:
    card = welcome(mode, round_offers())
    assert_valid(card.content)
    check_mode(card, mode)
    texts = runs(card)
    gov, strong = FRAMEWORKS[GOV], FRAMEWORKS[STRONG]
    first = f"{BOARD}: {gov.title}"
    second = f"Riverside Academies: {strong.title}"
    assert texts.index("Board rounds") < texts.index(first) < texts.index(second)
    assert texts.index(second) < texts.index(gov.title) < texts.index(strong.title)
    assert texts[texts.index(first) + 1] == f"3 of 4 rated · {DUE}"
    assert texts[texts.index(second) + 1] == "0 of 4 rated · answers due 15 January 2027"
    continues = [b for b in buttons(card) if b["title"] == "Continue"]
    assert [b["data"] for b in continues] == [
        {"verb": "resume", "a": ASSESSMENT_ID},
        {"verb": "resume", "a": "5d0000000001"},
    ]
    assert all(b.get("style") == "positive" for b in continues)
    for b in continues:
        if b["type"] == "Action.Execute":
            assert b["verb"] == "resume" and b["fallback"]["data"] == b["data"]
    # The unknown framework's and the closed round's are not offered.
    offered = json.dumps(buttons(card))
    assert "unknown00001" not in offered and "closed000001" not in offered


def test_welcome_card_without_rounds_has_no_round_block() -> None:
    card = welcome("execute", [])
    texts = runs(card)
    assert "Board rounds" not in texts
    assert not any(b["title"] == "Continue" for b in buttons(card))
    assert card.summary == "Choose a framework to start a self-assessment."


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_welcome_card_with_many_hostile_rounds_fits(name: str, mode: str) -> None:
    fw = FRAMEWORKS[GOV]
    link = round_link(HOSTILE_NAMES[name])
    many = [replace(subject(fw, link=link), id=f"{i:012x}") for i in range(40)]
    card = welcome(mode, many)
    assert_valid(card.content)
    assert card_bytes(card.content) < MAX_CARD_BYTES
    continues = [b for b in buttons(card) if b["title"] == "Continue"]
    assert 0 < len(continues) < len(many)
    assert f"And {len(many) - len(continues)} more board rounds" in " ".join(runs(card))


# Board names are untrusted: whatever they hold, the round line stays short and the card sound.


def round_cards(fw: Framework, link: RoundLink, mode: str) -> list[Card]:
    """Every card a trustee in the round can see, each at its largest."""
    widest = WIDEST["emoji"]
    red = {n: "R" for n in ROUND_ELEMENTS}
    cards = [
        element_card(
            fw,
            in_round(assessment(fw, red, widest, cursor=n), link=link),
            fw.element(n),  # type: ignore[arg-type]
            mode,
            LONG_NOTICE,
        )
        for n in ROUND_ELEMENTS
    ]
    answers = in_round(assessment(fw, red, widest, cursor=0), link=link)
    cards.append(review_card(fw, answers, mode, LONG_NOTICE))
    for status in ("open", "done", "closed"):
        cards.append(results_card(fw, replace(answers, status=status), mode, LONG_NOTICE))
    cards.append(paused_card(fw, answers, fw.element(5), mode))
    return cards


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_a_hostile_board_name_is_clipped_text(framework_id: str, name: str, mode: str) -> None:
    fw = FRAMEWORKS[framework_id]
    hostile = round_cards(fw, round_link(HOSTILE_NAMES[name]), mode)
    benign = round_cards(fw, round_link(), mode)
    for card, plain in zip(hostile, benign, strict=True):
        assert_valid(card.content)
        assert card_bytes(card.content) < MAX_CARD_BYTES
        assert shape(card) == shape(plain)  # the name added or removed nothing
        assert [json.dumps(a) for a in actions(card)] == [json.dumps(a) for a in actions(plain)]
        line = next(t for t in runs(card) if t.startswith("Board round"))
        assert "\n" not in line and "\r" not in line
        assert wire_bytes(line) <= LINE_MAX
    assert evidence_value(hostile[0]) == WIDEST["emoji"]  # the evidence still fits whole


def test_a_long_board_name_is_cut_with_an_ellipsis() -> None:
    fw = FRAMEWORKS[GOV]
    answers = in_round(assessment(fw), link=round_link("😀" * 200))
    line = runs(element_card(fw, answers, fw.elements[1], "execute"))[0]
    assert line.startswith("Board round: 😀") and line.endswith(f"… · {DUE}")


@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_a_round_of_every_element_fits_with_the_widest_evidence(framework_id: str) -> None:
    fw = FRAMEWORKS[framework_id]
    link = round_link("😀" * 200)
    every = tuple(e.number for e in fw.elements)
    for element in fw.elements:
        base = assessment(fw, {element.number: "AG"}, WIDEST["emoji"], element.number)
        card = element_card(fw, in_round(base, every, link), element, "execute", LONG_NOTICE)
        assert evidence_value(card) == WIDEST["emoji"]
        assert card_bytes(card.content) < MAX_CARD_BYTES
    full = in_round(assessment(fw, all_rated(fw, "R"), WIDEST["emoji"], done=True), every, link)
    for card in (results_card(fw, full, "execute", LONG_NOTICE), review_card(fw, full, "execute")):
        assert_valid(card.content)
        assert card_bytes(card.content) < MAX_CARD_BYTES
