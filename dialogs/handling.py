"""What a board or learning-set handler works with, whichever desk it is on: the turn, the
click's payload as its verb's class, and the reply that answers a button."""

from __future__ import annotations

from typing import TypeVar

from . import clock
from .messages import Card, Place, Reply, Text, Turn
from .payloads import Payload
from .refusals import TAMPERED, Refusal
from .state import Who

P = TypeVar("P", bound=Payload)


class HandlerContext:
    """Shared by `DeskContext` and `SetContext`, which are dataclasses holding these two."""

    turn: Turn
    payload: Payload

    def read(self, kind: type[P]) -> P:
        """The click's payload as the handler's own verb's class (the desk decoded it with it)."""
        if not isinstance(self.payload, kind):
            raise Refusal(TAMPERED)  # a handler reached under a verb that is not its own
        return self.payload

    @property
    def who(self) -> Who:
        return self.turn.who

    @property
    def place(self) -> Place | None:
        return self.turn.place

    @property
    def now(self) -> str:
        return clock.iso(self.turn.now)

    def show(self, card: Card, *extra: Card | Text) -> Reply:
        """A card answering a button replaces that button's card (for the clicker only, in a
        channel); typed text gets a new message."""
        if self.turn.action is not None:
            return Reply(replace=card, send=list(extra))
        return Reply(send=[card, *extra])
