"""Plain inputs and outputs of the conversation engine. No Bot Framework types cross this line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .state import Who


@dataclass(frozen=True)
class Action:
    """A card button: `Action.Execute` and `Action.Submit` arrive as the same thing.

    `data` is untrusted: it is whatever the client posted, inputs included.
    """

    verb: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Place:
    """Where a turn happens, as Teams reported it."""

    kind: str  # personal, channel or groupChat
    conversation: str
    service_url: str
    team: str | None = None  # the Teams team id, in a team's channel
    team_name: str = ""
    sender_id: str = ""  # the sender's Teams id ("29:…"), to open a 1:1 chat with them
    reply_to: str | None = None  # the message whose card was clicked

    @property
    def personal(self) -> bool:
        return self.kind == "personal"


@dataclass(frozen=True)
class Turn:
    who: Who
    now: datetime
    text: str = ""  # typed text, with any @mention of the bot removed
    action: Action | None = None
    place: Place | None = None


@dataclass(frozen=True)
class Card:
    content: dict[str, Any]  # an Adaptive Card 1.5
    summary: str  # plain text for notifications and hosts that cannot show cards
    drives: str | None = None  # the assessment whose buttons this card carries
    # `content` as JSON, when the builder encoded it to check its size (cards/render.sized): sent
    # as it is, so the card is not encoded again. Built from `content`, which nobody changes.
    wire: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Text:
    text: str


@dataclass
class Reply:
    """What the bot says back.

    `replace` is the new face of the card that was clicked, updated in place so the chat does not
    fill with stale buttons; `send` are new messages, in order.
    """

    replace: Card | None = None
    send: list[Card | Text] = field(default_factory=list)
    live_card: str | None = None  # the card id the store already holds for this assessment

    def texts(self) -> list[str]:
        return [m.text for m in self.send if isinstance(m, Text)]

    def cards(self) -> list[Card]:
        cards = [m for m in self.send if isinstance(m, Card)]
        return [self.replace, *cards] if self.replace else cards
