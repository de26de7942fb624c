"""Card builders: what each card says, worked out in Python; its layout lives in the templates."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from frameworks import Element, Framework

from .. import clock
from ..messages import Card
from ..payloads import (
    Back,
    Finish,
    Goto,
    Pause,
    Payload,
    Rate,
    Results,
    Resume,
    Review,
    Skip,
    Start,
)
from ..results import covered, heat_map, priorities, unrated
from ..state import Assessment
from ..text import length
from .blocks import actions, adaptive_card, heat_map_body, lines, notice_box, para, round_banner
from .render import MAX_CARD_BYTES, CardTooLarge, checked, render, sized
from .scheme import LEGEND, look

EVIDENCE_MAX = 1500  # characters; the card carrying it must stay under Teams' size limit
# Evidence excerpt budgets (in bytes as the card travels) tried until a summary card fits.
EXCERPTS = (400, 200, 100, 40)
# Wire bytes of a board's name on a trustee's card: people type board names (up to 200
# characters, emoji and all), and the card's size must not depend on them.
BOARD_MAX = 120
# Board rounds listed on the welcome card, so a trustee on many boards still gets a card that
# fits; the rest are counted below them.
ROUNDS_SHOWN = 6
Built = TypeVar("Built")  # what a card builder makes: a card, or a card and its JSON
CLOSED = "closed"  # an assessment's status once its round closed first: its answers are locked


@dataclass(frozen=True)
class Notice:
    text: str
    style: str = "good"  # good, warning, attention, accent, emphasis


def action(title: str, payload: Payload, mode: str, style: str | None = None) -> dict[str, Any]:
    """One button that works as Action.Execute and, where a host lacks it, as Action.Submit.

    Its data is the payload's class's to define (dialogs/payloads.py, dialogs/boards/payloads.py).
    """
    data = payload.pack()
    submit: dict[str, Any] = {"type": "Action.Submit", "title": title, "data": data}
    if style:
        submit["style"] = style
    if mode == "submit":
        return submit
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": payload.verb,
        "data": data,
        **({"style": style} if style else {}),
        "fallback": submit,
    }


def day(iso: str | None) -> str:
    """A stored moment's day in the board's time zone (see dialogs/clock.py)."""
    return clock.day(iso)


def count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def wire_bytes(text: str) -> int:
    """Bytes the text takes inside a card as it travels: JSON escapes non-ASCII, an emoji is 12."""
    return len(json.dumps(text)) - 2


def clip(text: str, budget: int) -> str:
    """The longest start of the text within `budget` wire bytes, marked with "…" when cut.

    Budgets are in bytes, not characters, so a card's size does not depend on which characters
    a trustee happens to use.
    """
    if wire_bytes(text) <= budget:
        return text
    room = budget - wire_bytes("…")
    cut = 0
    for index, char in enumerate(text):
        room -= char_bytes(char)
        if room < 0:
            break
        cut = index + 1
    return text[:cut].rstrip() + "…"


_SHORT_ESCAPES = frozenset('"\\\n\r\t\b\f')


def char_bytes(char: str) -> int:
    """`wire_bytes` of one character, without a json.dumps per character (clipping a long note
    called it thousands of times: 40% of building a board's summary card, by py-spy)."""
    code = ord(char)
    if char in _SHORT_ESCAPES:
        return 2
    if 0x20 <= code < 0x7F:
        return 1
    if code < 0x10000:
        return 6  # \uXXXX, control characters included
    return 12  # a surrogate pair


def excerpt(text: str, budget: int) -> str:
    return clip(" ".join(text.split()), budget)


def rating_cell(code: str | None) -> dict[str, str]:
    """A rating's letters and how they are drawn, the same on every card (cards/scheme.py)."""
    shown = look(code)
    return {"code": shown.code, "style": shown.style, "color": shown.color, "weight": shown.weight}


def rating_name(framework: Framework, code: str | None) -> str:
    return framework.rating(code).name if code else "Not rated"


def in_round(assessment: Assessment) -> bool:
    """A board round asks about its own elements, so counts are out of those, not the framework."""
    return assessment.elements is not None


def tally(rated: int, total: int, assessment: Assessment, noun: str = "") -> str:
    """Progress as "2 of 4 rated in this round" in a board round, else as "2 of 16 rated"."""
    where = " in this round" if in_round(assessment) else ""
    return f"{rated} of {total} {noun}rated{where}"


def board_name(assessment: Assessment) -> str:
    return excerpt(assessment.round.board_name, BOARD_MAX) if assessment.round else ""


def round_line(assessment: Assessment, due: bool = True) -> str | None:
    """Which board's round these answers are for, and when they are due: they are not private."""
    if assessment.round is None:
        return None
    name = board_name(assessment)
    if assessment.round.review:
        line = f"Peer review: rate {name}'s board"
    else:
        line = f"Board round: {name}" if name else "Board round"
    if due and assessment.round.deadline:
        line += f" · answers due {day(assessment.round.deadline)}"
    return line


def element_card(
    framework: Framework,
    assessment: Assessment,
    element: Element,
    mode: str,
    notice: Notice | None = None,
    evidence: str | None = None,
) -> Card:
    answer = assessment.answer(element.number)
    total = len(covered(framework, assessment))
    domain = framework.domain(element.domain)
    text = answer.evidence if evidence is None else evidence
    # A round's elements are not numbered 1 to k, so "Element 5 of 4" would mislead.
    of_total = "" if in_round(assessment) else f" of {total}"
    context: dict[str, Any] = {
        "summary": f"{element.number}. {element.title}: choose a rating",
        "notice": notice,
        "round_line": round_line(assessment),
        "eyebrow": f"Element {element.number}{of_total} · {domain.title}",
        "title": f"{element.number}. {element.title}",
        "progress": (
            f"{framework.short_title} · {tally(assessment.rated_count(), total, assessment)}"
        ),
        "current": (
            f"Your rating so far: {rating_name(framework, answer.rating)}"
            if answer.rating
            else None
        ),
        "fixed": _fixed(framework, element),
        "placeholder": f"What evidence supports your rating? Up to {EVIDENCE_MAX:,} characters.",
        "evidence": text,
        # A note already over the limit is handed back uncut (no maxLength that a client could
        # enforce by cutting it), so the trustee can shorten it themselves.
        "evidence_max": EVIDENCE_MAX if length(text) <= EVIDENCE_MAX else None,
        "rating_actions": _rating_actions(framework, assessment, element, mode),
        "nav_actions": _nav_actions(assessment, element, mode),
    }
    try:
        content, wire = _element(context)
    except CardTooLarge:
        content, wire = _with_clipped_note(context)
    return Card(content, context["summary"], assessment.id, wire)


TOO_LONG_TO_SHOW = (
    " It is too long to show here whole, so the box holds its beginning; if you typed it, the "
    "whole note is still in your message above."
)


def _with_clipped_note(context: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Only a note far over the limit gets here: the box keeps as much of it as the card holds."""
    notice = context["notice"] or Notice("", "warning")
    context = {**context, "notice": replace(notice, text=notice.text + TOO_LONG_TO_SHOW)}
    base = len(_element({**context, "evidence": ""})[1])
    note = clip(context["evidence"], MAX_CARD_BYTES - base - 64)
    return _element({**context, "evidence": note})


@dataclass(frozen=True)
class Fixed:
    """What an element's card says whoever answers it (its questions and descriptors, the
    footnotes, the guidance), worked out once for each element of a framework, with its JSON."""

    questions: tuple[str, ...]
    red_heading: str
    red: tuple[str, ...]
    green_heading: str
    green: tuple[str, ...]
    notes: tuple[str, ...]
    guidance: str
    json: str = ""  # the items of `items()`, encoded and joined as in the card's body

    def items(self) -> list[dict[str, Any]]:
        """New every time: a card's content is its own, whatever its reader does with it."""
        red = [para(self.red_heading, weight="Bolder"), *lines(list(self.red))]
        green = [para(self.green_heading, weight="Bolder"), *lines(list(self.green))]
        found = [
            para("Questions to consider", weight="Bolder", spacing="Medium"),
            *lines(list(self.questions)),
            {"type": "Container", "style": "attention", "spacing": "Medium", "items": red},
            {"type": "Container", "style": "good", "spacing": "Small", "items": green},
        ]
        if self.notes:
            notes = lines(list(self.notes), size="Small", subtle=True)
            found.append({"type": "Container", "spacing": "Small", "items": notes})
        found.append(para(self.guidance, size="Small", subtle=True, italic=True, spacing="Medium"))
        return found


# Each element's Fixed, by the framework object's identity (a framework is loaded once and kept).
_FIXED: dict[tuple[int, int], tuple[Framework, Fixed]] = {}
FIXED_KEPT = 512


def _fixed(framework: Framework, element: Element) -> Fixed:
    key = (id(framework), element.number)
    kept = _FIXED.get(key)
    if kept is not None and kept[0] is framework:
        return kept[1]
    fixed = Fixed(
        questions=tuple(_question(framework, q) for q in element.questions),
        red_heading=f"(Red) {framework.red_heading}:",
        red=tuple(_line(framework, x) for x in element.red),
        green_heading=f"(Green) {framework.green_heading}:",
        green=tuple(_line(framework, x) for x in element.green),
        notes=tuple(_notes(framework, element)),
        guidance=framework.chat_guidance,
    )
    fixed = replace(fixed, json=", ".join(json.dumps(item) for item in fixed.items()))
    if len(_FIXED) >= FIXED_KEPT:
        _FIXED.clear()
    _FIXED[key] = (framework, fixed)
    return fixed


def _element(c: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The element card, and its JSON (CardTooLarge if over the limit). The JSON is written
    around the element's fixed part, encoded once for every card of that element: it is the
    same text json.dumps(card) makes (tests/cards/test_card_size.py checks every element)."""
    head = [notice_box(c["notice"])] if c["notice"] else []
    if c["round_line"]:
        head.append(round_banner(c["round_line"]))
    head += [
        para(c["eyebrow"], size="Small", subtle=True),
        para(c["title"], size="Large", weight="Bolder", spacing="None"),
        para(c["progress"], size="Small", subtle=True, spacing="None"),
    ]
    if c["current"]:
        head.append(para(c["current"], weight="Bolder", color="Accent", spacing="Small"))
    evidence: dict[str, Any] = {
        "type": "Input.Text",
        "id": "evidence",
        "isMultiline": True,
        "spacing": "Medium",
        "label": "Evidence and rationale for your rating",
        "placeholder": c["placeholder"],
        "value": c["evidence"],
    }
    if c["evidence_max"]:
        evidence["maxLength"] = c["evidence_max"]
    tail = [evidence, *actions(c["rating_actions"]), *actions(c["nav_actions"], spacing="Small")]
    fixed: Fixed = c["fixed"]
    card = adaptive_card(c["summary"], [*head, *fixed.items(), *tail])
    # A list's JSON is its items' JSON joined by ", ": so the parts join as json.dumps would.
    body = ", ".join([json.dumps(head)[1:-1], fixed.json, json.dumps(tail)[1:-1]])
    text = json.dumps({k: v for k, v in card.items() if k != "body"})[:-1] + f', "body": [{body}]}}'
    return card, checked("the element card", text)


def _question(framework: Framework, question: Any) -> str:
    marks = "".join(f" {framework.marker(m).symbol}" for m in question.markers)
    notes = "".join(f" [{n}]" for n in question.footnotes)
    return f"• {question.text}{marks}{notes}"


def _line(framework: Framework, line: Any) -> str:
    notes = "".join(f" [{n}]" for n in line.footnotes)
    return f"{'• ' if line.bullet else ''}{line.text}{notes}"


def _notes(framework: Framework, element: Element) -> list[str]:
    marks = sorted({m for q in element.questions for m in q.markers})
    refs = [*framework.domain(element.domain).footnotes, *element.footnotes]
    refs += [n for q in element.questions for n in q.footnotes]
    refs += [n for line in (*element.red, *element.green) for n in line.footnotes]
    notes = [framework.markers_note] if marks and framework.markers_note else []
    return notes + [f"[{n}] {framework.footnotes[n]}" for n in dict.fromkeys(refs)]


def _rating_actions(
    framework: Framework, assessment: Assessment, element: Element, mode: str
) -> list[dict[str, Any]]:
    current = assessment.rating(element.number)
    return [
        action(
            f"✓ {r.name}" if r.code == current else r.name,
            Rate(assessment=assessment.id, number=element.number, rating=r.code),
            mode,
            style="positive" if r.code == current else None,
        )
        for r in framework.ratings
    ]


def _nav_actions(assessment: Assessment, element: Element, mode: str) -> list[dict[str, Any]]:
    ids: dict[str, Any] = {"assessment": assessment.id, "number": element.number}
    buttons = [action("Back", Back(**ids), mode)] if element.number > 1 else []
    return [
        *buttons,
        action("Skip for now", Skip(**ids), mode),
        action("Pause", Pause(**ids), mode),
        action("Review answers", Review(**ids), mode),
    ]


def _rows(framework: Framework, assessment: Assessment, excerpt_len: int) -> list[dict[str, Any]]:
    return [
        {
            "title": row.domain.title,
            "cells": [
                {
                    **rating_cell(cell.rating),
                    "label": f"{cell.element.number}. {cell.element.title}"
                    + ("" if cell.rating else " (not rated)"),
                    "detail": excerpt(assessment.answer(cell.element.number).evidence, excerpt_len)
                    if excerpt_len
                    else "",
                }
                for cell in row.cells
            ],
        }
        for row in heat_map(framework, assessment)
    ]


def review_card(
    framework: Framework, assessment: Assessment, mode: str, notice: Notice | None = None
) -> Card:
    missing = unrated(framework, assessment)
    asked = covered(framework, assessment)
    total = len(asked)
    progress = f"{tally(total - len(missing), total, assessment)}."
    if missing:
        numbers = ", ".join(str(e.number) for e in missing)
        progress += (
            f" Not rated yet: {numbers}. You can rate them first, or finish now and "
            "they will show as not rated."
        )
    buttons = [action("Change this answer", Goto(assessment=assessment.id), mode)]
    if missing:
        nearest = Goto(assessment=assessment.id, number=missing[0].number)
        buttons.append(action("Rate the next unrated", nearest, mode))
    finish = Finish(assessment=assessment.id)
    buttons.append(action("Finish and see my heat map", finish, mode, style="positive"))
    summary = f"Review your answers: {progress}"

    choices = [
        {
            "title": f"{e.number}. {e.title} ({assessment.rating(e.number) or 'not rated'})",
            "value": str(e.number),
        }
        for e in asked
    ]
    head = [notice_box(notice)] if notice else []
    line = round_line(assessment)
    if line:
        head.append(round_banner(line))
    head += [
        para("Review your answers", size="Large", weight="Bolder"),
        para(framework.title, size="Small", subtle=True, spacing="None"),
        para(progress, spacing="Small"),
    ]
    goto = {
        "type": "Input.ChoiceSet",
        "id": "goto",
        "spacing": "Large",
        "style": "compact",
        "label": "Change an answer",
        "value": str((missing or asked or framework.elements)[0].number),
        "choices": choices,
    }
    tail = [goto, *actions(buttons)]

    def build(excerpt_len: int) -> tuple[dict[str, Any], str]:
        rows = heat_map_body(_rows(framework, assessment, excerpt_len))
        card = adaptive_card(summary, [*head, *rows, *tail])
        return card, sized("the review card", card)

    content, wire = _fitting(build, (120, 60, 0))
    return Card(content, summary, assessment.id, wire)


def results_card(
    framework: Framework, assessment: Assessment, mode: str, notice: Notice | None = None
) -> Card:
    total = len(covered(framework, assessment))
    rated = assessment.rated_count()
    finished = not assessment.is_open
    found = priorities(framework, assessment)
    summary = (
        f"Your heat map: {framework.title}. {rated} of {total} rated; "
        f"{count(len(found), 'priority', 'priorities')}."
    )
    buttons = _results_actions(assessment, mode)

    def build(excerpt_len: int) -> dict[str, Any]:
        return render(
            "results.json.j2",
            summary=summary,
            notice=notice,
            round_line=round_line(assessment, due=assessment.status != CLOSED),
            heading="Your heat map",
            subtitle=f"{framework.title} · {_when(assessment)}",
            progress=f"{tally(rated, total, assessment, 'elements ')}.",
            standing=_standing(assessment),
            tone=(
                "The framework is diagnostic, not judgemental: a Green is an area of strength to "
                "build on, and a Red is not a failure, it shows where building capacity should "
                "be a priority."
            ),
            legend=f"{LEGEND} · — not rated",
            rows=_rows(framework, assessment, 0),
            priorities_intro=(
                "Your draft, for the board to discuss: the elements you rated Red or "
                "Amber Red, with the evidence you noted as the key issues."
            ),
            columns=framework.priorities.columns,
            priorities=[
                {
                    **rating_cell(p.rating),
                    "focus_area": p.focus_area,
                    "key_issues": [excerpt(p.key_issues, excerpt_len) or "No evidence noted."],
                    "actions": None,
                    "progress": None,
                }
                for p in found
            ],
            to_agree="For the board to agree",
            no_priorities=(
                "You rated no element Red or Amber Red. The board's priorities may lie in "
                "moving Amber Green elements to Green."
            ),
            actions_list=buttons,
        )

    return Card(_fitting(build, EXCERPTS), summary, assessment.id if not finished else None)


def _closed_on(assessment: Assessment) -> str:
    """When the round's closing locked the answers (older records: the last change to them)."""
    return assessment.locked or assessment.finished or assessment.updated


def _when(assessment: Assessment) -> str:
    if assessment.status == CLOSED:
        return f"Round closed {day(_closed_on(assessment))}"
    if assessment.is_open:
        return "In progress: your heat map so far"
    return f"Finished {day(assessment.finished)}"


def _standing(assessment: Assessment) -> str | None:
    """Whether a board round's finished answers can still change: a trustee may wonder."""
    if assessment.round is not None and assessment.round.review and not assessment.is_open:
        return f"Your review went to {board_name(assessment)}'s chair and clerks; it is final."
    if assessment.status == CLOSED:
        return f"The round closed on {day(_closed_on(assessment))}; these answers are locked."
    if assessment.status == "done" and assessment.round is not None:
        return (
            "Your answers are in the board's round. You can still change them until the round "
            "closes."
        )
    return None


def _results_actions(assessment: Assessment, mode: str) -> list[dict[str, Any]]:
    if assessment.is_open:
        return [action("Carry on", Resume(assessment=assessment.id), mode)]
    if assessment.status == "done" and assessment.round is not None:
        # Still changeable until its round closes: the engine reopens it on resume.
        return [action("Change my answers", Resume(assessment=assessment.id), mode)]
    return []


def _fitting(build: Callable[[int], Built], budgets: tuple[int, ...]) -> Built:
    """The richest rendering that fits the card limit: evidence excerpts shorten until it does."""
    for budget in budgets[:-1]:
        try:
            return build(budget)
        except CardTooLarge:
            continue
    return build(budgets[-1])


# What a card may promise when the store is the embedded, in-process one (no REDIS_URL): the
# answers last only while this bot process runs.
NOT_KEPT = "Here answers are kept in memory only (the embedded store): a restart loses them."


def paused_card(
    framework: Framework,
    assessment: Assessment,
    element: Element | None,
    mode: str,
    durable: bool = True,
) -> Card:
    where = f"{element.number}. {element.title}" if element else "the review"
    total = len(covered(framework, assessment))
    rated = tally(assessment.rated_count(), total, assessment)
    detail = (
        f"{rated}, all saved. Pick up any time, on any device: press Resume, or type resume."
        if durable
        else f"{rated}, saved while this trustboard runs: pick up on any device before then "
        f"(press Resume, or type resume). {NOT_KEPT}"
    )
    summary = f"Paused at {where}"
    card = render(
        "paused.json.j2",
        summary=summary,
        round_line=round_line(assessment),
        heading=summary,
        detail=detail,
        actions_list=[action("Resume", Resume(assessment=assessment.id), mode)],
    )
    return Card(card, summary, assessment.id)


def superseded_card() -> Card:
    text = "This card has moved on: carry on with the newest card in this chat."
    return Card(render("superseded.json.j2", summary=text, text=text), text)


def welcome_card(
    frameworks: list[Framework],
    status: dict[str, tuple[Assessment | None, Assessment | None]],
    mode: str,
    notice: Notice | None = None,
    rounds: Sequence[Assessment] = (),
) -> Card:
    """The trustee's starting point: board rounds awaiting their answers first, then frameworks.

    `rounds` are the trustee's board-round assessments to offer, in the engine's order; one
    whose framework is unknown, that has no round or whose round has closed is left out.
    """
    offered = _offered_rounds(frameworks, rounds)
    shown = offered[:ROUNDS_SHOWN]
    more = len(offered) - len(shown)
    summary = (
        "Your board has asked for your ratings, and you can start a self-assessment of your own."
        if offered
        else "Choose a framework to start a self-assessment."
    )
    card = render(
        "welcome.json.j2",
        summary=summary,
        notice=notice,
        heading="Board self-assessment",
        rounds_heading="Board rounds",
        rounds_intro=(
            "Your board has asked each trustee for their ratings. Your ratings and evidence "
            "for a round go into the board's summary when it closes."
        ),
        rounds=[_round_block(fw, a, mode) for fw, a in shown],
        rounds_more=(
            f"And {count(more, 'more board round', 'more board rounds')}: each will show here "
            "as you finish one above."
            if more
            else None
        ),
        own_heading="Your own self-assessment",
        intro=[
            "I'll walk you through a CST framework one element at a time: read the questions "
            "and the Red and Green descriptors, choose the rating closest to your board, and "
            "note the evidence behind it.",
            "It is diagnostic, not judgemental: the aim is to find your board's strengths and "
            "where to build capacity. Your answers are saved as you go and only you see them.",
        ],
        frameworks=[_framework_block(fw, status, mode) for fw in frameworks],
        footer="Type help at any time. You can also type a rating (R, AR, AG or G) followed by "
        "your evidence.",
    )
    return Card(card, summary)


def _offered_rounds(
    frameworks: list[Framework], rounds: Sequence[Assessment]
) -> list[tuple[Framework, Assessment]]:
    known = {fw.id: fw for fw in frameworks}
    return [
        (known[a.framework], a)
        for a in rounds
        if a.framework in known and a.round is not None and a.status != CLOSED
    ]


def _round_block(framework: Framework, assessment: Assessment, mode: str) -> dict[str, Any]:
    name = board_name(assessment) or "Your board"
    total = len(covered(framework, assessment))
    status = f"{assessment.rated_count()} of {total} rated"
    if assessment.round and assessment.round.deadline:
        status += f" · answers due {day(assessment.round.deadline)}"
    return {
        "title": f"{name}: {framework.title}",
        "status": status,
        "actions": [action("Continue", Resume(assessment=assessment.id), mode, style="positive")],
        "detail": None,
    }


def _framework_block(
    framework: Framework,
    status: dict[str, tuple[Assessment | None, Assessment | None]],
    mode: str,
) -> dict[str, Any]:
    open_one, last = status.get(framework.id, (None, None))
    total = len(framework.elements)
    # Each title names its framework: a screen reader reads a button's title on its own.
    name = framework.short_title
    if open_one:
        line = f"In progress: {open_one.rated_count()} of {total} rated."
        resume = Resume(assessment=open_one.id)
        buttons = [action(f"Resume {name}", resume, mode, style="positive")]
    else:
        line = f"Last finished {day(last.finished)}." if last else ""
        buttons = [action(f"Start {name}", Start(framework=framework.id), mode)]
    if last:
        buttons.append(action(f"Last heat map: {name}", Results(assessment=last.id), mode))
    published = f", {framework.published}" if framework.published else ""
    return {
        "title": framework.title,
        "status": line,
        "actions": buttons,
        "detail": f"{total} elements · {framework.publisher}{published}",
    }
