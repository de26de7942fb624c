"""The board card of a detached board (the bot was removed from its team): what still works.

It goes to the clerks' 1:1 chats when the bot is removed, and stands in for the board card
wherever a clerk asks for it (typing "board" in their chat), until the bot is added back.
"""

from __future__ import annotations

from collections.abc import Mapping

from frameworks import Framework

from ..cards.build import Notice, action, day
from ..cards.render import render
from ..messages import Card
from .model import Board, Round
from .payloads import DataDelete, DataExport, RoundClose, RoundStatus


def detached_card(
    board: Board,
    rnd: Round | None,
    frameworks: Mapping[str, Framework],
    mode: str,
    forget_on: str,
    notice: Notice | None = None,
) -> Card:
    name = board.name or "This board"
    summary = f"{name}: I was removed from the team, so nothing more goes to its channel."
    removed = (
        f"I was removed from the board's team on {day(board.detached)}, so I post nothing more "
        "in its channel and send no more reminders."
    )
    details = [
        removed,
        f"Unless I'm added back to the team, the board's data is deleted on {day(forget_on)}. "
        "Adding me back picks up where the board left off, with everything it had.",
        "Until then you can export the board's data or delete it now, from here.",
    ]
    context = {
        "summary": summary,
        "notice": notice or Notice(summary, "warning"),
        "heading": name,
        "subtitle": "The board, now that I'm no longer in its team",
        "details": details,
        "round_text": None,
        "close": None,
        "extra": [],
        "export": action("Export the board's data", DataExport(board=board.id), mode),
        "delete_text": (
            "This deletes the board's members and roles, every round and every trustee's "
            "answers in them. It cannot be undone."
        ),
        "delete": action("Delete everything", DataDelete(board=board.id), mode, "destructive"),
    }
    if rnd is not None and rnd.is_open:
        framework = frameworks.get(rnd.framework)
        title = framework.title if framework else rnd.framework
        context["round_text"] = (
            f"A round on {title} is open until {day(rnd.deadline)}. You can close it now: its "
            "summary comes to you and the chair here, in your chats with me, not to the channel."
        )
        context["close_text"] = (
            "Closing now locks every trustee's answers and sends the summary to the chair and "
            "clerks privately. It cannot be undone."
        )
        on_round = {"board": board.id, "round": rnd.id}
        context["close"] = action("Close now", RoundClose(**on_round), mode, "destructive")
        context["extra"] = [action("Round progress", RoundStatus(**on_round), mode)]
    return Card(render("board_detached.json.j2", **context), summary)
