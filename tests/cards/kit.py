"""Assessments to build cards from, and ways to read what the cards hold."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from dialogs.cards import Notice
from dialogs.messages import Card
from dialogs.state import Answer, Assessment, RoundLink
from frameworks import Framework, load_all
from tests.dialogs.cardkit import walk

FRAMEWORKS: dict[str, Framework] = load_all()
GOV = "cst-trust-governance"
STRONG = "cst-strong-trusts"
MODES = ("execute", "submit")
ASSESSMENT_ID = "0123456789ab"
STAMP = "2026-11-23T09:00:00+00:00"
# Longer than any notice the engine writes (about 190 characters at most), so size checks cover
# them all.
LONG_NOTICE = Notice("Saved 16. Board effectiveness: Amber Red. " + "Noted. " * 30, "attention")
FINISHED = Notice(
    "Finished. Here are your heat map and draft priorities: a starting point for "
    "the board's conversation."
)
# Evidence at the limit (1,500 UTF-16 units): the widest as JSON (escaped as \uXXXX), and
# JSON's own escapes.
WIDEST = {
    "emoji": "😀" * 750,  # 2 UTF-16 units each, 12 bytes as JSON
    "accented": "é" * 1500,  # 6 bytes each as JSON
    "quotes": '"\\' * 750,  # 2 bytes each as JSON
}


def every_element() -> list[tuple[str, int]]:
    return [(fw.id, e.number) for fw in FRAMEWORKS.values() for e in fw.elements]


def assessment(
    framework: Framework,
    ratings: dict[int, str | None] | None = None,
    evidence: str | dict[int, str] = "",
    cursor: int = 1,
    done: bool = False,
) -> Assessment:
    """An assessment with `ratings` given (None: a draft); each answer carries `evidence`."""
    answers = {
        n: Answer(rating, evidence if isinstance(evidence, str) else evidence.get(n, ""), STAMP)
        for n, rating in (ratings or {}).items()
    }
    return Assessment(
        id=ASSESSMENT_ID,
        framework=framework.id,
        version=framework.version,
        status="done" if done else "open",
        started=STAMP,
        updated=STAMP,
        cursor=cursor,
        answers=answers,
        finished=STAMP if done else None,
    )


def all_rated(framework: Framework, code: str | None = None) -> dict[int, str | None]:
    """Every element rated `code`, or the four ratings in turn when none is given."""
    codes = [r.code for r in framework.ratings]
    return {e.number: code or codes[i % 4] for i, e in enumerate(framework.elements)}


def runs(card: Card | dict[str, Any]) -> list[str]:
    """Every text run on the card, in order."""
    content = card.content if isinstance(card, Card) else card
    return [n["text"] for n in walk(content["body"]) if n.get("type") in ("TextRun", "TextBlock")]


def actions(card: Card) -> list[dict[str, Any]]:
    """Every action on the card, fallbacks included."""
    return [n for n in walk(card.content["body"]) if str(n.get("type", "")).startswith("Action.")]


def shape(card: Card) -> Counter[str]:
    """How many of each element and action type the card holds."""
    return Counter(str(n["type"]) for n in walk(card.content) if "type" in n)


def inputs(card: Card) -> dict[str, dict[str, Any]]:
    return {
        n["id"]: n
        for n in walk(card.content["body"])
        if str(n.get("type", "")).startswith("Input.")
    }


# Evidence a trustee could type that has broken cards elsewhere: JSON, Jinja, markup, emoji.
HOSTILE: dict[str, str] = {
    "double quotes": 'The chair said "we are fine" and "moved on".',
    "backslashes": r"Saved in C:\board\2026\ and \\server\share \" \u0041 \n",
    "json breaker": '"}]}, {"type": "Action.OpenUrl", "title": "Open", "url": "https://evil.example"'
    '}], "actions": [{"type": "Action.Submit", "data": {"verb": "finish"}}]}',
    "json object": '{"verb": "finish", "a": "ffffffffffff", "rating": "G"}',
    "jinja expression": "{{7*7}} {{ config }} {{ evidence }}",
    "jinja statements": "{% raw %}{{7*7}}{% endraw %} {% for x in range(3) %}x{% endfor %} {#c#}",
    "html": "<script>alert(1)</script><img src=x onerror=alert(1)>&amp;",
    "markdown": "[link](https://evil.example) **bold** ![img](https://evil.example/x.png) _x_",
    "whitespace": "line one\nline two\r\nline three\tafter a tab\r",
    "control characters": "a\x00b\x01c\x1bd\x7fe\x0bf",
    "line separators": "one\u2028two\u2029three",
    "emoji": "😀" * 750,
    "accented": "é" * 1500,
    "right-to-left override": "invoice\u202etxt.exe\u202c \u2066isolated\u2069 \u200fmark",
}


# A board round: the elements it asks about (in two domains of each framework, and leaving
# whole domains out) and its link back to the board.
ROUND_ELEMENTS = (2, 5, 7, 9)
DEADLINE = "2026-12-04T17:00:00+00:00"
BOARD = "Oakfield Learning Trust board"


def round_link(board_name: str = BOARD, deadline: str = DEADLINE) -> RoundLink:
    return RoundLink("19:team@thread.tacv2", "r1", board_name, deadline)


def in_round(
    subject: Assessment,
    elements: tuple[int, ...] | None = ROUND_ELEMENTS,
    link: RoundLink | None = None,
    status: str | None = None,
    finished: str | None = None,
) -> Assessment:
    """`subject` as a trustee's answers to a board round asking about `elements`."""
    return replace(
        subject,
        scope="round:r1",
        elements=elements,
        round=link or round_link(),
        status=status or subject.status,
        finished=finished if finished is not None else subject.finished,
    )
