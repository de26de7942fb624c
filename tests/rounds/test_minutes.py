"""The round for the minutes (dialogs/rounds/minutes.py): plain sentences that state the facts a
clerk minutes, name nobody, and say nothing of what too few trustees rated."""

from __future__ import annotations

from dialogs.rounds import Response, RoundSettings, summarise
from dialogs.rounds.minutes import minutes
from dialogs.state import Answer
from tests.cards.kit import FRAMEWORKS, GOV

FW = FRAMEWORKS[GOV]
CLOSED = "2026-12-05T23:59:59+00:00"
NAMES = ("Ada Brook", "Ben Carr", "Cara Dunn", "Dev Ellis")


def round_of(table: dict[int, tuple[str, ...]], *, finished: int, invited: int, least: int = 3):
    responses = []
    for i, name in enumerate(NAMES):
        answers = {
            n: Answer(codes[i], f"{name} wrote about {n}", CLOSED)
            for n, codes in table.items()
            if i < len(codes)
        }
        responses.append(Response(f"k{i}", name, answers, i < finished))
    settings = RoundSettings(attributed=True, min_responses=least)
    return summarise(FW, table, responses, invited, settings)


def test_the_minutes_say_who_answered_the_strongest_and_weakest_and_where_views_differ() -> None:
    table = {
        1: ("G", "G", "AG", "G"),  # Strategic leadership: Green
        6: ("R", "AR", "R", "R"),  # Accountability: Red
        12: ("R", "G", "AG", "AR"),  # People: views differ, AR
    }
    found = minutes(round_of(table, finished=3, invited=5), CLOSED)
    assert found[0] == (
        "The board's self-assessment round on the Improvement capacity framework for trust "
        "governance (3 of its 16 elements) closed on 5 December 2026. Three of the five trustees "
        "invited completed it (60%); one more was part-way through."
    )
    assert found[1] == (
        "The board rated itself strongest in Strategic leadership (1. Setting direction: Green) "
        "and weakest in Accountability (6. Educational improvement: Red)."
    )
    assert found[2] == (
        "Trustees' views were two or more steps apart on one element: 12. Building an effective "
        "team."
    )
    assert found[3] == (
        "The draft priorities for improvement are Educational improvement (Red) and Building an "
        "effective team (Amber Red; views differ)."
    )
    text = " ".join(found)
    assert not any(name in text for name in NAMES)  # counts, never names
    assert "wrote about" not in text  # nor evidence


def test_elements_too_few_rated_are_counted_not_described() -> None:
    table = {1: ("R", "R", "R", "R"), 2: ("G", "G")}
    found = minutes(round_of(table, finished=4, invited=4), CLOSED)
    assert found[0].endswith("All four trustees invited completed it (100%).")
    assert "One element had fewer than 3 ratings, so no rating is reported for it." in found[1]
    assert "Culture, values and ethos" not in " ".join(found)


def test_no_priorities_and_no_differences_are_said_plainly() -> None:
    table = {1: ("G", "AG", "G", "G"), 2: ("AG", "AG", "G", "AG")}
    found = minutes(round_of(table, finished=4, invited=4), CLOSED)
    assert "Trustees' views were nowhere two or more steps apart." in found
    assert found[-1] == (
        "No element had a board rating of Red or Amber Red, so the round found no priorities "
        "for improvement."
    )


def test_the_chairs_published_plan_is_mentioned() -> None:
    table = {5: ("R", "R", "AR", "R"), 6: ("AR", "AR", "R", "AR")}
    summary = round_of(table, finished=4, invited=4)
    found = minutes(summary, CLOSED, {5: ("Review the register.", "Termly reviews.")})
    assert found[-1].endswith(
        "The chair has agreed a plan for one of them, set out in the priorities table."
    )
    every = minutes(summary, CLOSED, {5: ("a", "b"), 6: ("c", "")})
    assert every[-1].endswith(
        "The chair has agreed a plan for each, set out in the priorities table."
    )
