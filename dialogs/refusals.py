"""How a turn ends early: a polite answer, and nothing changed.

Both the walkthrough (dialogs/engine.py) and the board desk (dialogs/boards/) raise `Refusal`;
each catches it in one place and sends its reply. The answers every part gives alike are here,
written once.
"""

from __future__ import annotations

from .messages import Reply, Text

NOT_SAVED = (
    "I couldn't reach my storage just now, so that was not saved and nothing was changed. "
    "Please try again in a moment: everything saved before is safe."
)
TAMPERED = "That card's details don't look right, so nothing was changed."
UNKNOWN_BUTTON = (
    "That button isn't one I recognise (the card may be from an older version). "
    "Nothing was changed."
)


class Refusal(Exception):
    """Ends a step with a reply (a refusal, or a gentle correction); nothing was changed."""

    def __init__(self, answer: str | Reply) -> None:
        super().__init__("refused")
        self.reply = answer if isinstance(answer, Reply) else Reply(send=[Text(answer)])
        self.text = answer if isinstance(answer, str) else ""
