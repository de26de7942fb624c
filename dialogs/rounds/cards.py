"""The summary card posted to the board's channel when a round closes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..cards.build import Notice, clip, count, day, excerpt, rating_cell, wire_bytes
from ..cards.render import MAX_CARD_BYTES, CardTooLarge, card_bytes, render
from ..cards.scheme import LEGEND, NOT_SHOWN
from ..messages import Card
from .minutes import HEADING as MINUTES_HEADING
from .summary import BoardPriority, ElementSummary, Evidence, RoundSummary

TEMPLATE = "round_summary.json.j2"
# Longest excerpt of one note, in wire bytes, tried in turn until the card fits; notes are
# handed out round-robin (every priority's first note, then every second note...) from what
# room the card has left, so no priority goes without while another shows many.
EXCERPTS = (1000, 600, 400, 240, 160, 100, 60, 40)
# What each excerpt costs on top of its text: the RichTextBlock and TextRun around it, and the
# comma between them, as the card travels.
LINE_OVERHEAD = 88
MORE = 24  # room kept per priority for " (and 19 more notes)"
MARGIN = 100  # bytes kept free below the limit, against rounding in the sums above
NAME_MAX = 60  # wire bytes of a trustee's name before an excerpt
BOARD_MAX = 150  # wire bytes of the board's name in the heading
NOT_RATED = "—"
FLAG = "⚑ Views differ"
RULE = (
    "How the board rating is worked out: the middle rating of the trustees' ratings, in the "
    "order R, AR, AG, G; with an even number of ratings, the weaker of the two middle ones."
)
TONE = (
    "The framework is diagnostic, not judgemental: a Green is an area of strength to build on, "
    "and a Red is not a failure, it shows where building capacity should be a priority."
)
TO_AGREE = "For the board to agree"
NONE_NOTED = "No evidence noted."


def round_summary_card(
    summary: RoundSummary,
    board: str,
    closed_on: str,
    mode: str,
    previous_closed_on: str | None = None,
    minutes: list[str] | None = None,
    *,
    notice: Notice | None = None,
    key_issues: bool = True,
    hidden_note: str | None = None,
    refresh: dict[str, Any] | None = None,
    actions_list: list[dict[str, Any]] | None = None,
) -> Card:
    """The board's heat map, response rate and draft priorities for a closed round.

    `closed_on` and `previous_closed_on` are ISO 8601 timestamps, as the store keeps them.
    `mode` is the card-action mode of the other builders; this card has no buttons yet (the
    chair's editing comes later), so it is unused for now.
    """
    framework = summary.framework
    name = clip(" ".join(board.split()), BOARD_MAX)
    heading = f"Board heat map: {name}" if name else "Board heat map"
    fallback = (
        f"{heading}. {framework.title}, round closed {day(closed_on)}. "
        f"{response_rate_line(summary)} "
        f"{count(len(summary.priorities), 'draft priority', 'draft priorities')}."
    )
    context = {
        "summary": fallback,
        "heading": heading,
        "subtitle": f"{framework.title} · Round closed {day(closed_on)}",
        "scope": scope_line(summary),
        "responses": responses_line(summary),
        "tone": TONE,
        "rule": RULE,
        "legend": legend_line(summary, previous_closed_on),
        "rows": heat_rows(summary),
        "priorities_intro": (
            "A draft for the board to discuss: the elements the board rated Red or Amber Red, "
            "and those where views differ by two or more steps. The key issues are drawn from "
            "trustees' evidence, that of trustees who rated Red or Amber Red first."
        ),
        "columns": framework.priorities.columns,
        "no_priorities": (
            "No element has a board rating of Red or Amber Red, and views nowhere differ by "
            "two or more steps. The board's priorities may lie in moving Amber Green "
            "elements to Green."
        ),
        "to_agree": TO_AGREE,
        "small_print": small_print(summary),
        "minutes_heading": MINUTES_HEADING,
        "minutes": minutes or [],
        # Without the key issues (the channel's copy, by default): said once, not per priority.
        "hidden_note": None if key_issues else hidden_note,
        "refresh": refresh,
        "actions_list": actions_list or [],
        "notice": notice,
    }

    def build(shown: list[list[str]]) -> dict[str, Any]:
        lines_of = shown if key_issues else [[] for _ in shown]
        priorities = [
            {
                **rating_cell(p.summary.board),
                "focus_area": p.focus_area,
                "key_issues": lines,
                "actions": None,
                "progress": None,
            }
            for p, lines in zip(summary.priorities, lines_of, strict=True)
        ]
        card = render(TEMPLATE, **context, priorities=priorities)
        if card_bytes(card) >= MAX_CARD_BYTES:  # render allows the limit itself; keep under it
            raise CardTooLarge(f"{TEMPLATE} rendered {card_bytes(card)} bytes")
        return card

    if not key_issues:
        return Card(build([[] for _ in summary.priorities]), fallback)
    return Card(_fitting(build, summary.priorities), fallback)


def _fitting(
    build: Callable[[list[list[str]]], dict[str, Any]], priorities: tuple[BoardPriority, ...]
) -> dict[str, Any]:
    """The richest rendering that fits: excerpts shorten, and fewer are shown, until it does."""
    evidence = [p.evidence for p in priorities]
    base = card_bytes(build(_cells(evidence, [[] for _ in evidence])))  # the card without notes
    room = MAX_CARD_BYTES - base - MARGIN - MORE * len(priorities)
    for budget in EXCERPTS:
        shown = _allot(evidence, budget, room)
        if shown is None:
            continue
        try:
            return build(_cells(evidence, shown))
        except CardTooLarge:
            continue
    return build([[_too_long(notes)] if notes else [NONE_NOTED] for notes in evidence])


def _allot(evidence: list[tuple[Evidence, ...]], budget: int, room: int) -> list[list[str]] | None:
    """Excerpts of up to `budget` bytes, round-robin within `room`; None if one gets none."""
    shown: list[list[str]] = [[] for _ in evidence]
    open_ = [bool(notes) for notes in evidence]
    depth = 0
    while any(open_):
        for i, notes in enumerate(evidence):
            if not open_[i]:
                continue
            if depth >= len(notes):
                open_[i] = False
                continue
            line = excerpt(attributed(notes[depth]), budget)
            cost = wire_bytes(line) + LINE_OVERHEAD
            if cost > room:
                if depth == 0:
                    return None  # a priority would show no note at all: shorten them instead
                open_[i] = False
                continue
            shown[i].append(line)
            room -= cost
        depth += 1
    return shown


def _cells(evidence: list[tuple[Evidence, ...]], shown: list[list[str]]) -> list[list[str]]:
    """Each priority's key issues: the excerpts shown, and how many notes are left out."""
    cells = []
    for notes, lines in zip(evidence, shown, strict=True):
        left = len(notes) - len(lines)
        if not notes:
            lines = [NONE_NOTED]
        elif left and lines:
            # On the last line, not a line of its own: a line costs more than its words.
            lines = [*lines[:-1], f"{lines[-1]} (and {count(left, 'more note', 'more notes')})"]
        cells.append(lines)
    return cells


def _too_long(notes: tuple[Evidence, ...]) -> str:
    return f"{count(len(notes), 'note', 'notes')}, too long for this card."


def response_rate_line(summary: RoundSummary) -> str:
    return (
        f"Response rate: {summary.finished} of {count(summary.invited, 'trustee', 'trustees')} "
        f"({summary.response_rate}%)."
    )


def responses_line(summary: RoundSummary) -> str:
    text = response_rate_line(summary)
    if summary.in_progress:
        verb = "was" if summary.in_progress == 1 else "were"
        text += f" {summary.in_progress} more {verb} in progress when the round closed."
    return text


def scope_line(summary: RoundSummary) -> str:
    total = len(summary.framework.elements)
    numbers = summary.element_numbers
    if len(numbers) == total:
        return f"All {total} elements of the framework."
    listed = ", ".join(str(n) for n in numbers)
    return f"{len(numbers)} of the framework's {total} elements: {listed}."


def legend_line(summary: RoundSummary, previous_closed_on: str | None) -> str:
    least = summary.settings.min_responses
    legend = (
        f"{LEGEND} · ⚑ views differ by two or more "
        "steps: a conversation the board needs to have · "
        f"{NOT_RATED} no ratings · <{least} fewer than {least} responses, not shown"
    )
    if summary.compared:
        since = f" that closed {day(previous_closed_on)}" if previous_closed_on else ""
        legend += f". Change: the board rating in the previous round{since}, then now."
    return legend


def small_print(summary: RoundSummary) -> list[str]:
    least = summary.settings.min_responses
    lines = [
        "A trustee who started but did not finish counts for the elements they rated.",
        f"An element with fewer than {least} ratings shows no breakdown, board rating or "
        "evidence, so a small board cannot tell who rated what.",
    ]
    if summary.settings.attributed:
        lines.append("Attributed round: evidence shows who wrote it.")
    else:
        lines.append(
            "Anonymous round: evidence carries no names and is listed by what it says, not by "
            "who wrote it."
        )
    return lines


def heat_rows(summary: RoundSummary) -> list[dict[str, Any]]:
    return [
        {"title": row.domain.title, "cells": [_cell(s, summary) for s in row.cells]}
        for row in summary.rows
    ]


def _cell(element: ElementSummary, summary: RoundSummary) -> dict[str, Any]:
    least = summary.settings.min_responses
    if element.shown:
        shown = rating_cell(element.board)
        details = f"Board: {element.board} · {element.distribution}"
    elif element.rated:
        shown = {**rating_cell(None), "code": f"<{least}", "style": NOT_SHOWN.style}
        details = f"Fewer than {least} responses: not shown"
    else:
        shown = rating_cell(None)
        details = "No ratings"
    if element.change:
        details += f" · Change: {element.change}"
    return {
        **shown,
        "label": f"{element.element.number}. {element.element.title}",
        "flag": f" {FLAG}" if element.spread else "",
        "details": details,
    }


def attributed(item: Evidence) -> str:
    text = " ".join(item.text.split())
    if item.name is None:
        return text
    name = clip(" ".join(item.name.split()), NAME_MAX) or "A trustee"
    return f"{name}: {text}"
