"""The round summary card: what the chair reads off it, anonymity, and that it always fits."""

from __future__ import annotations

import json
import random

import pytest

from dialogs.cards import MAX_CARD_BYTES, card_bytes
from dialogs.messages import Card
from dialogs.rounds import Response, RoundSettings, RoundSummary
from dialogs.rounds import cards as rounds_cards
from dialogs.state import Answer
from frameworks import Framework
from tests.cards.kit import HOSTILE, WIDEST
from tests.cards.validate import assert_valid
from tests.dialogs.cardkit import walk
from tests.rounds.kit import (
    ALL,
    ANONYMOUS,
    ATTRIBUTED,
    EARLIER,
    GOVERNANCE,
    NAMES,
    STRONG_TRUSTS,
    card_for,
    heat_cells,
    rated,
    response,
    summary_of,
    table_rows,
    texts,
)

RISK, TEAM, EFFECTIVENESS = 5, 12, 16
RISK_NOTES = {
    0: "Risk register last reviewed in 2024.",
    1: "No agreed risk appetite statement.",
    2: "Audit committee sees the top ten risks each term.",
    3: "Risks are discussed at every meeting.",
    4: "Cyber risk is not on the register.",
    5: "The register is thorough.",
    6: "Not sure yet.",
    7: "Improving.",
}
TYPICAL = [  # trustee: (Risk management, Building an effective team, Board effectiveness)
    ("AR", "AG", "R"),
    ("R", "AG", "AR"),
    ("AG", "G", "AR"),
    ("AG", "AG", "AG"),
    ("AR", "AG", None),
    ("G", "G", None),
    ("AG", None, None),  # in progress; also rated Setting direction
    ("AG", None, None),  # in progress
]


def typical_round(settings: RoundSettings = ATTRIBUTED, seed: int | None = None) -> RoundSummary:
    """8 invited: 6 finished, 2 in progress. Risk management split, Board effectiveness weak."""
    responses = []
    for i, codes in enumerate(TYPICAL):
        ratings = {n: c for n, c in zip((RISK, TEAM, EFFECTIVENESS), codes, strict=True) if c}
        if i == 6:
            ratings[1] = "R"
        responses.append(response(i, ratings, {RISK: RISK_NOTES[i]}, finished=i < 6))
    if seed is not None:
        responses = random.Random(seed).sample(responses, len(responses))
    return summary_of(responses, (1, RISK, TEAM, EFFECTIVENESS), invited=8, settings=settings)


def test_the_chair_reads_the_response_rate_and_how_the_rating_is_worked_out() -> None:
    card = card_for(typical_round())
    shown = texts(card)
    assert (
        "Response rate: 6 of 8 trustees (75%). 2 more were in progress when the round closed."
        in shown
    )
    assert any(t.startswith("How the board rating is worked out: the middle rating") for t in shown)
    assert "4 of the framework's 16 elements: 1, 5, 12, 16." in shown
    assert "Board heat map: Oakfield Learning Trust" in shown
    assert any("Round closed 3 March 2026" in t for t in shown)
    assert any("a Red is not a failure" in t for t in shown)
    assert "A trustee who started but did not finish counts for the elements they rated." in shown
    assert_valid(card.content)


def test_heat_map_cells_show_board_rating_distribution_and_flag() -> None:
    cells = heat_cells(card_for(typical_round()))
    assert list(cells) == [
        "1. Setting direction",
        "5. Risk management",
        "12. Building an effective team",
        "16. Board effectiveness",
    ]
    risk = cells["5. Risk management"]
    assert risk == {
        "code": "AG",
        "style": "warning",
        "flag": "⚑ Views differ",
        "details": "Board: AG · R 1 · AR 2 · AG 4 · G 1",
    }
    team = cells["12. Building an effective team"]
    assert (team["code"], team["flag"], team["details"]) == (
        "AG",
        "",
        "Board: AG · R 0 · AR 0 · AG 4 · G 2",
    )
    assert cells["1. Setting direction"]["code"] == "<3"  # one rating, from the in-progress one
    effectiveness = cells["16. Board effectiveness"]
    assert (effectiveness["code"], effectiveness["style"]) == ("AR", "warning")
    assert effectiveness["details"] == "Board: AR · R 1 · AR 2 · AG 1 · G 0"


def test_too_few_and_no_ratings_look_different_and_show_no_breakdown() -> None:
    responses = [
        response(0, {1: "AG", RISK: "R"}),
        response(1, {1: "AG", RISK: "G"}),
        response(2, {1: "AG"}),
    ]
    summary = summary_of(responses, numbers=(1, RISK, TEAM))
    cells = heat_cells(card_for(summary))
    assert cells["5. Risk management"] == {
        "code": "<3",
        "style": "default",
        "flag": "",
        "details": "Fewer than 3 responses: not shown",
    }
    assert cells["12. Building an effective team"]["code"] == "—"
    assert cells["12. Building an effective team"]["details"] == "No ratings"
    assert cells["1. Setting direction"]["code"] == "AG"


@pytest.mark.parametrize("settings", [ATTRIBUTED, ANONYMOUS], ids=["attributed", "anonymous"])
def test_below_the_minimum_no_evidence_or_name_reaches_the_card(settings: RoundSettings) -> None:
    notes = {0: "Our risk register is years out of date.", 1: "Risk is handled well."}
    card = card_for(summary_of(rated(RISK, "R G", notes), (RISK,), settings=settings))
    text = json.dumps(card.content, ensure_ascii=False)
    for secret in (*notes.values(), NAMES[0], NAMES[1], "R 1", "G 1", "Board:"):
        assert secret not in text
    assert_valid(card.content)


def test_priorities_table_has_the_framework_columns_and_leaves_two_for_the_board() -> None:
    rows = table_rows(card_for(typical_round()))
    header, *body = rows
    assert [cell[0] for cell in header] == list(GOVERNANCE.priorities.columns)
    assert [row[0] for row in body] == [
        ["Risk management (Amber Green; views differ)"],
        ["Board effectiveness (Amber Red; views differ)"],  # R against AG
    ]
    # The board's two columns are empty in every row, and said once to be the board's to fill.
    assert all(len(row) == 2 for row in body)
    columns = GOVERNANCE.priorities.columns
    note = f"For the board to agree: {columns[2]} {columns[3]}"
    assert texts(card_for(typical_round())).count(note) == 1


def test_key_issues_are_attributed_with_red_and_amber_red_first() -> None:
    risk, effectiveness = table_rows(card_for(typical_round()))[1:]
    assert risk[1] == [
        f"{NAMES[1]}: {RISK_NOTES[1]}",  # R
        f"{NAMES[4]}: {RISK_NOTES[4]}",  # AR, by name: Euphemia before Ottoline
        f"{NAMES[0]}: {RISK_NOTES[0]}",
        f"{NAMES[2]}: {RISK_NOTES[2]}",  # AG, by name
        f"{NAMES[3]}: {RISK_NOTES[3]}",
        f"{NAMES[6]}: {RISK_NOTES[6]}",  # in progress, still counted
        f"{NAMES[7]}: {RISK_NOTES[7]}",
        f"{NAMES[5]}: {RISK_NOTES[5]}",  # G
    ]
    assert effectiveness[1] == ["No evidence noted."]


def test_an_anonymous_card_names_nobody() -> None:
    card = card_for(typical_round(ANONYMOUS))
    text = json.dumps(card.content, ensure_ascii=False)
    for name in NAMES:
        for part in name.split():
            assert part not in text
    assert "user-0" not in text  # nor trustee ids
    risk = table_rows(card)[1]
    assert risk[1] == [  # R and AR first, then AG and G, each group by what it says
        RISK_NOTES[4],  # "Cyber risk..."
        RISK_NOTES[1],  # "No agreed..."
        RISK_NOTES[0],  # "Risk register..."
        RISK_NOTES[2],  # "Audit committee..."
        RISK_NOTES[7],  # "Improving."
        RISK_NOTES[6],  # "Not sure yet."
        RISK_NOTES[3],  # "Risks are discussed..."
        RISK_NOTES[5],  # "The register..."
    ]
    assert any(t.startswith("Anonymous round: evidence carries no names") for t in texts(card))
    assert_valid(card.content)


def test_an_anonymous_card_is_the_same_whoever_answered_in_whatever_order() -> None:
    first = card_for(typical_round(ANONYMOUS)).content
    for seed in range(8):
        assert card_for(typical_round(ANONYMOUS, seed)).content == first


def test_an_attributed_card_says_so() -> None:
    card = card_for(typical_round())
    assert "Attributed round: evidence shows who wrote it." in texts(card)


def test_change_since_the_previous_round_is_shown_per_element() -> None:
    before = summary_of([response(i, {RISK: "AR", TEAM: "AG"}) for i in range(3)], (RISK, TEAM))
    now = summary_of(
        [response(i, {RISK: "AG", TEAM: "AG", 1: "G"}) for i in range(3)],
        numbers=(1, RISK, TEAM),
        previous=before,
    )
    card = card_for(now, previous_closed_on=EARLIER)
    cells = heat_cells(card)
    assert (
        cells["5. Risk management"]["details"]
        == "Board: AG · R 0 · AR 0 · AG 3 · G 0 · Change: AR → AG"
    )
    assert cells["12. Building an effective team"]["details"].endswith("Change: no change")
    assert cells["1. Setting direction"]["details"].endswith("Change: new")
    assert any("previous round that closed 4 March 2025" for t in texts(card))


def test_no_change_line_without_a_previous_round() -> None:
    card = card_for(typical_round())
    assert not any("Change:" in t for t in texts(card))


def test_a_board_with_no_priorities_is_told_where_they_may_lie() -> None:
    card = card_for(summary_of(rated(RISK, "AG G AG"), (RISK,)))
    assert table_rows(card) == []
    assert any(
        t.startswith("No element has a board rating of Red or Amber Red") for t in texts(card)
    )
    assert_valid(card.content)


def test_the_card_carries_no_buttons_and_a_plain_text_summary() -> None:
    card = card_for(typical_round())
    assert not [n for n in walk(card.content) if str(n.get("type", "")).startswith("Action.")]
    assert card.summary == (
        "Board heat map: Oakfield Learning Trust. Improvement capacity framework for trust "
        "governance, round closed 3 March 2026. Response rate: 6 of 8 trustees (75%). "
        "2 draft priorities."
    )
    assert card.drives is None


# Size: the worst a board can cause still fits


@pytest.mark.parametrize("settings", [ATTRIBUTED, ANONYMOUS], ids=["attributed", "anonymous"])
@pytest.mark.parametrize("kind", WIDEST)
@pytest.mark.parametrize("framework", [GOVERNANCE, STRONG_TRUSTS], ids=lambda f: f.id)
def test_twenty_trustees_with_the_widest_evidence_on_every_element_fit(
    framework: Framework, kind: str, settings: RoundSettings
) -> None:
    numbers = tuple(e.number for e in framework.elements)
    evidence = WIDEST[kind]
    # Half Red, half Green: every element is a priority and flagged, the largest card; the
    # earlier round had one rating each, so every change reads "not shown → R".
    responses = [
        response(i, dict.fromkeys(numbers, "R" if i % 2 else "G"), evidence, finished=i < 19)
        for i in range(20)
    ]
    earlier = summary_of(responses[:1], numbers, invited=20, framework=framework)
    summary = summary_of(responses, numbers, 20, settings, framework, previous=earlier)
    assert len(summary.priorities) == len(numbers)
    card = card_for(summary, board="The " + "Very Long Multi-Academy Trust Name " * 20)
    size = card_bytes(card.content)
    assert size < MAX_CARD_BYTES, f"round summary card is {size} bytes"
    assert_valid(card.content)
    # Even now each priority shows the start of a note, and how many more there are.
    for row in table_rows(card)[1:]:
        assert evidence[0] in row[1][0]
        assert row[1][-1].endswith(" more notes)")


def test_the_last_resort_counts_the_notes_and_still_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rounds_cards, "EXCERPTS", ())  # as if no excerpt length fitted
    responses = [
        response(i, dict.fromkeys(ALL, "R" if i % 2 else "G"), WIDEST["emoji"]) for i in range(20)
    ]
    card = card_for(summary_of(responses))
    assert [row[1] for row in table_rows(card)[1:]] == [["20 notes, too long for this card."]] * 16
    assert_valid(card.content)


def test_size_does_not_grow_with_the_number_of_trustees() -> None:
    for trustees in (20, 60):
        responses = [
            response(i, dict.fromkeys(ALL, "R" if i % 2 else "AG"), WIDEST["emoji"])
            for i in range(trustees)
        ]
        card = card_for(summary_of(responses))
        assert card_bytes(card.content) < MAX_CARD_BYTES
        assert_valid(card.content)


def test_a_typical_board_sees_whole_notes() -> None:
    # Eight trustees, all sixteen elements, notes of about 300 characters, three priorities.
    note = "We reviewed this at the last two meetings; the action plan is in the minutes. " * 4
    responses = [
        response(i, {n: "AR" if n <= 3 else ("AG" if (n + i) % 2 else "G") for n in ALL}, note)
        for i in range(8)
    ]
    card = card_for(summary_of(responses))
    rows = table_rows(card)[1:]
    assert [row[0] for row in rows] == [
        ["Setting direction (Amber Red)"],
        ["Culture, values and ethos (Amber Red)"],
        ["Decision-making (Amber Red)"],
    ]
    for row in rows:
        assert row[1] == [f"{name}: {note.strip()}" for name in sorted(NAMES)]
    assert_valid(card.content)


def test_with_more_priorities_notes_are_shared_out_and_the_rest_counted() -> None:
    note = "We reviewed this at the last two meetings; the action plan is in the minutes. " * 4
    responses = [response(i, dict.fromkeys(ALL, "AR"), note) for i in range(8)]
    card = card_for(summary_of(responses))
    rows = table_rows(card)[1:]
    assert len(rows) == 16
    shown = [len(row[1]) for row in rows]
    assert min(shown) >= 1 and max(shown) - min(shown) <= 1  # round-robin: nobody goes without
    for row in rows:
        *lines, last = row[1]
        more = f" (and {8 - len(row[1])} more notes)"
        assert last.endswith(more)
        assert all(is_excerpt(line, note) for line in [*lines, last.removesuffix(more)])
    assert card_bytes(card.content) < MAX_CARD_BYTES


# Whatever trustees type is shown as text and cannot reshape the card

BENIGN = "Strategy agreed in March; not yet reviewed."


def hostile_card(evidence: str, settings: RoundSettings, name: str = NAMES[0]) -> Card:
    responses = [
        Response("user-00", name, {RISK: Answer("R", evidence)}, True),
        response(1, {RISK: "AR"}, evidence),
        response(2, {RISK: "G"}, evidence),
    ]
    return card_for(summary_of(responses, (RISK,), settings=settings), board=name)


def is_excerpt(line: str, evidence: str) -> bool:
    """The line shows the evidence with its whitespace folded, whole or cut short with '…'."""
    flat = " ".join(evidence.split())
    line = line.split(": ", 1)[1] if line.startswith(tuple(NAMES)) else line
    return line == flat or (line.endswith("…") and flat.startswith(line[:-1]))


def text_blocks(card: Card) -> list[str]:
    """TextBlocks are read as markdown: only the bot's own words may be in them."""
    return [n["text"] for n in walk(card.content["body"]) if n.get("type") == "TextBlock"]


def shape(card: Card) -> list[str]:
    return [str(n["type"]) for n in walk(card.content) if "type" in n]


@pytest.mark.parametrize("settings", [ATTRIBUTED, ANONYMOUS], ids=["attributed", "anonymous"])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_evidence_is_shown_as_text_only(name: str, settings: RoundSettings) -> None:
    evidence = HOSTILE[name]
    card = hostile_card(evidence, settings)
    benign = hostile_card(BENIGN, settings)
    assert_valid(card.content)
    (key_issues,) = [row[1] for row in table_rows(card)[1:]]
    assert len(key_issues) == 3 and all(is_excerpt(line, evidence) for line in key_issues)
    assert shape(card) == shape(benign)
    assert text_blocks(card) == text_blocks(benign)
    text = json.dumps(card.content)
    assert text.count("49") == json.dumps(benign.content).count("49")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_name_is_shown_as_text_only(name: str) -> None:
    card = hostile_card(BENIGN, ATTRIBUTED, name=HOSTILE[name])
    benign = hostile_card(BENIGN, ATTRIBUTED)
    assert_valid(card.content)
    assert shape(card) == shape(benign)
    assert text_blocks(card) == text_blocks(benign)


def test_jinja_in_evidence_is_not_evaluated() -> None:
    card = hostile_card("{{7*7}} {{ config }}", ANONYMOUS)
    text = json.dumps(card.content, ensure_ascii=False)
    assert "{{7*7}} {{ config }}" in text
    assert "49" not in text
