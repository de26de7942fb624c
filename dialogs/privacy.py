"""A trustee's own data: what is kept about them, and deleting it all ("forget me")."""

from __future__ import annotations

import asyncio

from frameworks import Framework

from .cards.build import action, count, day
from .cards.render import render
from .messages import Card
from .payloads import ForgetConfirmed, Help
from .state import Assessment, Who
from .store import Store
from .text import escape_markdown

FORGET_VERB = ForgetConfirmed.verb


async def assessments_of(store: Store, who: Who) -> list[Assessment]:
    ids = await store.history(who)
    found = await asyncio.gather(*(store.assessment(who, i) for i in ids))
    return [a for a in found if a is not None]


def describe(assessment: Assessment, frameworks: dict[str, Framework]) -> str:
    framework = frameworks.get(assessment.framework)
    title = framework.short_title if framework else assessment.framework
    where = "your own self-assessment"
    if assessment.round is not None:
        board = assessment.round.board_name or "a board"
        where = f"a board round of {board}"
    notes = sum(1 for a in assessment.answers.values() if a.evidence.strip())
    state = {"open": "in progress", "done": "finished", "closed": "locked"}.get(
        assessment.status, assessment.status
    )
    return (
        f"{title}, {where}, started {day(assessment.started)}, {state}: "
        f"{count(assessment.rated_count(), 'rating', 'ratings')} and "
        f"{count(notes, 'note', 'notes')} of evidence."
    )


def my_data_text(assessments: list[Assessment], frameworks: dict[str, Framework]) -> str:
    if not assessments:
        return (
            "I keep nothing about you except, once you have chatted with me, how to reach you "
            "in this chat. Type forget me to remove even that."
        )
    lines = ["Here is everything I keep about you, in this tenant:"]
    lines += [f"- {escape_markdown(describe(a, frameworks))}" for a in assessments]
    lines.append("- How to reach you in this chat (for invitations and reminders from your board).")
    lines.append(
        "Only you see your own answers. In a board round the chair and clerk see your ratings "
        "in the board's summary (and your evidence, with your name only if the round was "
        "attributed). Type forget me to delete everything listed here."
    )
    return "\n".join(lines)


def forget_card(assessments: list[Assessment], mode: str) -> Card:
    summary = "Delete everything I keep about you?"
    details = [
        f"This deletes your {count(len(assessments), 'self-assessment', 'self-assessments')} "
        "(ratings and evidence), including your answers in any board round, and how to reach "
        "you. It cannot be undone.",
        "A board round still open will show you as not started; summaries a board already "
        "received stay with the board, as its own record.",
    ]
    card = render(
        "forget.json.j2",
        summary=summary,
        heading=summary,
        details=details,
        actions_list=[
            action("Delete my data", ForgetConfirmed(), mode, style="destructive"),
            action("Keep it", Help(), mode),
        ],
    )
    return Card(card, summary)
