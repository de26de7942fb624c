"""What a trustee reads on the cards, checked against the loaded frameworks."""

from __future__ import annotations

from typing import Any

import pytest

from dialogs.cards import EVIDENCE_MAX, element_card, results_card, review_card
from dialogs.messages import Card
from frameworks import Framework
from tests.cards.kit import FRAMEWORKS, all_rated, assessment, every_element, inputs, runs
from tests.dialogs.cardkit import priority_grid, walk

SEED_COLUMNS = (
    "focus area",
    "key issues identified",
    "do about it as a trust board",
    "progress do we want to see in the next 12 months",
)
UNRATED = "—"


def action_sets(card: Card) -> list[list[dict[str, Any]]]:
    return [n["actions"] for n in walk(card.content["body"]) if n.get("type") == "ActionSet"]


def container(card: Card, style: str) -> list[str]:
    found = [n for n in walk(card.content["body"]) if n.get("type") == "Container"]
    return [run for n in found if n.get("style") == style for run in runs({"body": n["items"]})]


def heat_cells(card: Card) -> list[tuple[str, str, str]]:
    """(code, style, label) of each heat-map cell: a coloured code column beside its label."""
    cells = []
    for node in walk(card.content["body"]):
        if node.get("type") == "ColumnSet" and "style" in node["columns"][0]:
            code, label = (runs({"body": c["items"]}) for c in node["columns"])
            cells.append((code[0], node["columns"][0]["style"], label[0]))
    return cells


def table_rows(card: Card) -> list[list[str]]:
    return [[" ".join(cell) for cell in row] for row in priority_grid(card.content)]


@pytest.mark.parametrize(("framework_id", "number"), every_element())
def test_element_card_shows_the_element_and_the_ways_to_answer(
    framework_id: str, number: int
) -> None:
    fw = FRAMEWORKS[framework_id]
    element = fw.element(number)
    assert element is not None
    ratings = {1: "G", 2: "R", number: "AG"}
    card = element_card(fw, assessment(fw, ratings, "Our note.", number), element, "execute")
    texts = runs(card)
    total = len(fw.elements)
    assert f"Element {number} of {total} · {fw.domain(element.domain).title}" in texts
    assert f"{number}. {element.title}" in texts
    assert f"{fw.short_title} · {len(ratings)} of {total} rated" in texts
    for question in element.questions:
        assert any(t.startswith(f"• {question.text}") for t in texts), question.text
    red, green = container(card, "attention"), container(card, "good")
    assert red[0] == f"(Red) {fw.red_heading}:" and green[0] == f"(Green) {fw.green_heading}:"
    for lines, shown in ((element.red, red), (element.green, green)):
        for line in lines:
            assert any(line.text in t for t in shown), line.text

    rows = action_sets(card)
    assert [len(row) for row in rows] == [2, 2, 2, 2 if number > 1 else 1]  # each fits a phone
    rate = [a for row in rows for a in row if a["verb"] == "rate"]
    nav = [a for row in rows for a in row if a["verb"] != "rate"]
    assert [a["title"].removeprefix("✓ ") for a in rate] == [r.name for r in fw.ratings]
    assert [(a["verb"], a["data"]["rating"], a["data"]["n"]) for a in rate] == [
        ("rate", r.code, number) for r in fw.ratings
    ]
    assert [a["title"] for a in rate if a.get("style") == "positive"] == [
        f"✓ {fw.rating('AG').name}"
    ]
    expected = ["Back"] if number > 1 else []
    assert [a["title"] for a in nav] == [*expected, "Skip for now", "Pause", "Review answers"]

    evidence = inputs(card)["evidence"]
    assert evidence["type"] == "Input.Text" and evidence["isMultiline"] is True
    assert evidence["maxLength"] == EVIDENCE_MAX == 1500
    assert evidence["value"] == "Our note."


@pytest.mark.parametrize(("framework_id", "number"), every_element())
def test_element_card_gives_the_guidance_for_chat_not_the_paper_form(
    framework_id: str, number: int
) -> None:
    """The frameworks' "right-hand column … has space to mark your rating" is about the printed
    form; in chat the buttons and the box below do that, so the card leaves that sentence out and
    keeps the rest of the guidance word for word."""
    fw = FRAMEWORKS[framework_id]
    element = fw.element(number)
    assert element is not None
    texts = runs(element_card(fw, assessment(fw, {}, "", number), element, "execute"))
    assert not [t for t in texts if "right-hand column" in t]
    guidance = [t for t in texts if t.startswith("Descri")]
    assert guidance == [fw.chat_guidance]
    assert guidance[0].startswith(fw.scale_guidance.split(" The right-hand column")[0])


def test_chat_guidance_keeps_the_evidence_sentence() -> None:
    governance, strong = FRAMEWORKS["cst-trust-governance"], FRAMEWORKS["cst-strong-trusts"]
    assert governance.chat_guidance.endswith(
        "choose the appropriate rating. You should note evidence that supports your rationale."
    )
    assert strong.chat_guidance.endswith(
        "choose the appropriate rating. This framework could also be used as the basis of peer"
        " review and/or a work programme within a regional trust development network."
    )


def test_marker_note_is_one_sentence_on_the_card() -> None:
    """Strong trusts' element 1 has † and ‡ questions: the card explains them in the source's one
    sentence, not as two fragments."""
    fw = FRAMEWORKS["cst-strong-trusts"]
    element = fw.element(1)
    assert element is not None
    texts = runs(element_card(fw, assessment(fw, {}, "", 1), element, "execute"))
    sentence = (
        "The questions based on the Trust Quality Descriptors are noted with a † symbol in the"
        " framework; those related to Culture Descriptors are noted with a ‡."
    )
    assert texts.count(sentence) == 1
    assert not [t for t in texts if t.startswith(("† ", "‡ "))]


def mixed(fw: Framework) -> dict[int, str | None]:
    """Every third element unrated, the rest in turn R, AR, AG, G."""
    codes = [r.code for r in fw.ratings]
    return {e.number: None if e.number % 3 == 0 else codes[e.number % 4] for e in fw.elements}


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_results_heat_map_has_a_cell_for_every_element(framework_id: str) -> None:
    fw = FRAMEWORKS[framework_id]
    ratings = mixed(fw)
    notes = {n: f"Evidence for element {n}." for n in ratings}
    card = results_card(fw, assessment(fw, ratings, notes), "execute")
    cells = heat_cells(card)
    assert len(cells) == len(fw.elements)
    rated_styles = {style for code, style, _ in cells if code != UNRATED}
    for element, (code, style, label) in zip(fw.elements, cells, strict=True):
        rating = ratings[element.number]
        assert code == (rating or UNRATED)
        if rating:
            assert label == f"{element.number}. {element.title}"
        else:
            assert label == f"{element.number}. {element.title} (not rated)"
            assert style not in rated_styles  # an unrated cell is not coloured like a rating
    texts = runs(card)
    assert any(f"{UNRATED} not rated" in t for t in texts)  # the legend explains the dash
    for domain in fw.domains:
        assert domain.title in texts


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_priorities_table_holds_only_red_and_amber_red_for_the_board_to_complete(
    framework_id: str,
) -> None:
    fw = FRAMEWORKS[framework_id]
    ratings = mixed(fw)
    notes = {n: f"Evidence for element {n}." for n in ratings}
    card = results_card(fw, assessment(fw, ratings, notes), "execute")
    header, *rows = table_rows(card)
    assert header == list(fw.priorities.columns)
    for column, phrase in zip(header, SEED_COLUMNS, strict=True):
        assert phrase in column.lower()
    wanted = [e for e in fw.elements if ratings[e.number] in ("R", "AR")]
    assert wanted and len(rows) == len(wanted)
    for element, row in zip(wanted, rows, strict=True):
        # Both named in full, so one column does not mix "(Red)" with "(AR)".
        label = "Red" if ratings[element.number] == "R" else "Amber Red"
        assert row[0] == f"{element.title} ({label})"
        assert row[1] == notes[element.number]
        assert len(row) == 2  # the board's two columns, empty for the board to fill
    columns = fw.priorities.columns
    assert runs(card).count(f"For the board to agree: {columns[2]} {columns[3]}") == 1


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_all_red_fills_the_priorities_table(framework_id: str) -> None:
    fw = FRAMEWORKS[framework_id]
    card = results_card(fw, assessment(fw, all_rated(fw, "R")), "execute")
    rows = table_rows(card)[1:]
    assert [row[0] for row in rows] == [f"{e.title} (Red)" for e in fw.elements]
    assert all(row[1] == "No evidence noted." for row in rows)


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_no_red_or_amber_red_means_no_table(framework_id: str) -> None:
    fw = FRAMEWORKS[framework_id]
    card = results_card(fw, assessment(fw, all_rated(fw, "AG")), "execute")
    assert table_rows(card) == []
    assert any(t.startswith("You rated no element Red or Amber Red.") for t in runs(card))


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_review_card_lists_every_element_and_the_unrated_ones(framework_id: str) -> None:
    fw = FRAMEWORKS[framework_id]
    ratings = mixed(fw)
    card = review_card(fw, assessment(fw, ratings, cursor=0), "execute")
    missing = [n for n, r in ratings.items() if r is None]
    goto = inputs(card)["goto"]
    assert [c["value"] for c in goto["choices"]] == [str(e.number) for e in fw.elements]
    assert goto["value"] == str(missing[0])
    texts = runs(card)
    assert any(f"Not rated yet: {', '.join(map(str, missing))}." in t for t in texts)
    assert [code for code, _, _ in heat_cells(card)] == [
        ratings[e.number] or UNRATED for e in fw.elements
    ]
