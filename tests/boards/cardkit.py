"""Boards, rounds and summaries to build the board cards from, and ways to read those cards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from dialogs.boards.model import (
    CHAIR,
    CLERK,
    CLOSED,
    OPEN,
    OTHER,
    TRUSTEE,
    Board,
    Member,
    Plan,
    Round,
)
from dialogs.messages import Card
from dialogs.rounds import Response, RoundSettings, RoundSummary, summarise
from dialogs.state import Answer
from frameworks import Framework
from tests.cards.kit import FRAMEWORKS, GOV, STAMP, STRONG
from tests.dialogs.cardkit import priority_grid, walk

GOVERNANCE: Framework = FRAMEWORKS[GOV]
STRONG_TRUSTS: Framework = FRAMEWORKS[STRONG]
BOARD_ID = "19:team-oakfield@thread.tacv2"
ROUND_ID = "a1b2c3d4e5f6"
OPENED = "2026-11-21T09:00:00+00:00"
DEADLINE = "2026-12-05T23:59:59+00:00"
CLOSED_AT = "2026-12-05T23:59:59+00:00"
TODAY = "2026-11-21"
# Names nobody would write in evidence, so "no name on the card" can be checked by search.
TRUSTEE_NAMES = (
    "Ottoline Quarrie",
    "Barnaby Voss",
    "Cressida Mulholland",
    "Dorian Fairweather",
    "Euphemia Strand",
    "Fergus Oyelaran",
)
CLERK_NAME = "Philippa Clerkwell"
CHAIR_NAME = "Augustin Chairmont"
EMOJI = "😀"
LONG_NAME = EMOJI * 200  # a 200-character name, 12 wire bytes a character


def member(index: int, name: str, role: str = TRUSTEE) -> Member:
    return Member(key=f"aad-{index:03d}", teams_id=f"29:{index:03d}", name=name, role=role)


def board(members: Sequence[Member] | None = None, name: str = "Oakfield Learning Trust") -> Board:
    """A board with a clerk, a chair, six trustees and an observer, unless told otherwise."""
    if members is None:
        members = [
            member(0, CLERK_NAME, CLERK),
            member(1, CHAIR_NAME, CHAIR),
            *(member(i + 2, n) for i, n in enumerate(TRUSTEE_NAMES)),
            member(9, "Olwen Observer", OTHER),
        ]
    return Board(
        tenant="tenant-1",
        id=BOARD_ID,
        name=name,
        service_url="https://smba.example/uk/",
        channel="19:general@thread.tacv2",
        created=OPENED,
        members=tuple(members),
    )


def numbered_board(size: int) -> Board:
    """`size` members named so that sorting by name is easy to predict: "Member 001"..."""
    # Added in reverse so the card, not the list, has to do the sorting.
    members = [member(i, f"Member {i:03d}") for i in range(size, 0, -1)]
    return board([replace(members[-1], role=CLERK), *members[:-1]])


def open_round(
    the_board: Board,
    framework: Framework = GOVERNANCE,
    elements: tuple[int, ...] | None = None,
    **changes: Any,
) -> Round:
    numbers = elements or tuple(e.number for e in framework.elements)
    rnd = Round(
        id=ROUND_ID,
        framework=framework.id,
        version=framework.version,
        elements=numbers,
        deadline=DEADLINE,
        attributed=False,
        min_responses=3,
        message="",
        status=OPEN,
        opened=OPENED,
        opened_by=the_board.clerks[0].key,
        invited=the_board.trustees,
    )
    return replace(rnd, **changes)


def closed_round(the_board: Board, **changes: Any) -> Round:
    return open_round(the_board, status=CLOSED, closed=CLOSED_AT, **changes)


def round_summary(
    evidence: str | dict[int, str] = "",
    attributed: bool = True,
    codes: str = "R AR AG",
    framework: Framework = GOVERNANCE,
    trustees: int = 3,
) -> RoundSummary:
    """Every element rated by `trustees` trustees, in turn the `codes`, each with `evidence`."""
    cycle = codes.split()
    responses = []
    for i in range(trustees):
        answers = {
            e.number: Answer(
                cycle[i % len(cycle)],
                evidence if isinstance(evidence, str) else evidence.get(i, ""),
                STAMP,
            )
            for e in framework.elements
        }
        name = TRUSTEE_NAMES[i] if i < len(TRUSTEE_NAMES) else f"Trustee number {i}"
        responses.append(Response(f"aad-{i + 2:03d}", name, answers, finished=True))
    numbers = [e.number for e in framework.elements]
    settings = RoundSettings(attributed=attributed)
    return summarise(framework, numbers, responses, trustees, settings)


def plans(summary: RoundSummary, actions: str, progress: str) -> dict[int, Plan]:
    return {p.summary.element.number: Plan(actions, progress) for p in summary.priorities}


# -- reading cards ---------------------------------------------------------------------------


def texts(card: Card) -> list[str]:
    """Every piece of text a reader sees on the card, show-cards included, in order."""
    return [
        n["text"] for n in walk(card.content["body"]) if n.get("type") in ("TextRun", "TextBlock")
    ]


def said(card: Card) -> str:
    return "\n".join(texts(card))


def buttons(card: Card) -> dict[str, dict[str, Any]]:
    """Each button by its title: Action.Execute (or Submit in submit mode), and show-cards."""
    nodes = [n for n in walk(card.content["body"]) if str(n.get("type", "")).startswith("Action.")]
    fallbacks = {id(n["fallback"]) for n in nodes if isinstance(n.get("fallback"), dict)}
    return {n["title"]: n for n in nodes if id(n) not in fallbacks}


def data(card: Card, title: str) -> dict[str, Any]:
    """What the server receives when `title` is pressed, less the card's inputs."""
    return buttons(card)[title]["data"]


def inputs(card: Card) -> dict[str, dict[str, Any]]:
    return {
        n["id"]: n
        for n in walk(card.content["body"])
        if str(n.get("type", "")).startswith("Input.")
    }


def role_rows(card: Card) -> list[tuple[str, str, str]]:
    """The roles card's rows: (name shown, input id, role chosen)."""
    rows = []
    for node in walk(card.content["body"]):
        if node.get("type") != "ColumnSet":
            continue
        name_column, choice_column = node["columns"]
        (name_block,) = name_column["items"]
        (choice,) = choice_column["items"]
        rows.append((name_block["inlines"][0]["text"], choice["id"], choice["value"]))
    return rows


def table_rows(card: Card) -> list[list[list[str]]]:
    """The published priorities, one row per priority (no header): each cell's texts."""
    return priority_grid(card.content)[1:]
