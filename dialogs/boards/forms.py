"""What a clerk or chair typed into a round's forms, read and checked (no I/O).

A field that is wrong in a way a person could type gets a `Refusal` saying what to change; a
field no card could have sent gets TAMPERED.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from frameworks import Framework

from ..payloads import whole_number
from ..refusals import TAMPERED, Refusal
from ..text import clean, length
from . import cards as board_cards
from .model import Plan, Round
from .payloads import MIN_RESPONSES_MAX, PlanSave, RoundOpen

MIN_PROBLEM = f"The fewest responses must be a whole number from 1 to {MIN_RESPONSES_MAX}."


def deadline_day(value: Any) -> date:
    if not isinstance(value, str):
        raise Refusal("Please choose a deadline date.")
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise Refusal(
            "That deadline isn't a date I can read: choose one from the calendar."
        ) from None


def elements(framework: Framework, numbers: Sequence[int]) -> tuple[int, ...]:
    """Elements the payload carried, each one of the framework's (else the card was tampered)."""
    if not numbers:
        raise Refusal("Choose at least one element for the round.")
    if not all(framework.element(n) for n in numbers):
        raise Refusal(TAMPERED)
    return tuple(sorted(set(numbers)))


def chosen_elements(framework: Framework, chosen: Sequence[int] | None) -> tuple[int, ...] | None:
    """The elements ticked on the framework card, carried to the form (None: none said; an
    empty list: the clerk asked to start from none ticked)."""
    if chosen is None:
        return None
    return elements(framework, chosen) if chosen else ()


def min_responses(value: object) -> int:
    try:
        return whole_number(value, 1, MIN_RESPONSES_MAX)
    except ValueError:
        raise Refusal(MIN_PROBLEM) from None


@dataclass
class RoundForm:
    """The round form as the clerk filled it in: each field read on its own, so one refused
    field never costs them the others."""

    elements: tuple[int, ...] | None = None
    attributed: bool = False
    issues_to_team: bool = False
    min_responses: int = 3
    message: str = ""
    deadline: str | None = None  # as typed (YYYY-MM-DD), if it was a date at all
    deadline_day: date | None = None
    problems: list[str] = field(default_factory=list)


def read_round_form(payload: RoundOpen, framework: Framework) -> RoundForm:
    form = RoundForm(
        attributed=payload.attributed,
        issues_to_team=payload.issues_to_team,
        message=clean(payload.message),
    )
    readers = (
        ("elements", lambda: elements(framework, payload.elements)),
        ("min_responses", lambda: min_responses(payload.min_responses)),
        ("deadline_day", lambda: deadline_day(payload.deadline)),
    )
    for name, read in readers:
        try:
            setattr(form, name, read())
        except Refusal as refusal:
            if refusal.text == TAMPERED:
                raise
            form.problems.append(refusal.text)
    if form.elements is None:
        form.elements = ()  # the clerk chose none: show none chosen, not all
    if form.deadline_day is not None:
        form.deadline = form.deadline_day.isoformat()
    return form


def message_problem(message: str) -> str | None:
    if length(message) > board_cards.MESSAGE_MAX:
        return (
            f"Your message is {length(message):,} characters; the limit is "
            f"{board_cards.MESSAGE_MAX:,}. Please shorten it."
        )
    return None


def read_plan(
    payload: PlanSave, rnd: Round, numbers: Sequence[int]
) -> tuple[dict[int, Plan], str | None]:
    """The chair's plan for each priority, and what is too long (if anything)."""
    if payload.shown - set(numbers):
        raise Refusal(TAMPERED)  # boxes for an element that is not one of the priorities
    plan: dict[int, Plan] = {}
    too_long = None
    for n in numbers:
        # A long plan spreads over pages: what a page did not carry keeps its saved text.
        saved = rnd.plan.get(n, Plan())
        actions = payload.actions.get(n, saved.actions)
        progress = payload.progress.get(n, saved.progress)
        plan[n] = Plan(clean(actions), clean(progress))
        longest = max(length(plan[n].actions), length(plan[n].progress))
        if longest > board_cards.PLAN_MAX and too_long is None:
            too_long = (
                f"A box for element {n} holds {longest:,} characters; the limit is "
                f"{board_cards.PLAN_MAX:,}."
            )
    return plan, too_long
