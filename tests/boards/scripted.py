"""A scripted trust board over HTTP: a clerk, a chair, trustees and an observer in one team.

The bot runs as a real process (`python -m bot`) on the throwaway Redis; everyone's Teams client
posts real Activity JSON to it and reads what it sent at the fake connector, including the
personal messages it sends proactively (a chat created with the member, then a message in it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.dialogs.cardkit import walk
from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat, Conversation, User, channel, user
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector, adaptive_cards

CLERK = user("Casey Clerk")
CHAIR = user("Sam Chair")
TRUSTEES = [user(name) for name in ("Ada Brook", "Ben Carr", "Cara Dunn", "Dev Ellis", "Eve Frost")]
OBSERVER = user("Olu Observer")  # the trust's CEO: in the team, not a trustee
BOARD_TEAM = "Oak Learning Trust board"


def roster(*users: User) -> list[dict[str, Any]]:
    return [u.account() for u in users]


def button(card: dict[str, Any], verb: str) -> dict[str, Any]:
    found = [n for n in walk(card) if n.get("type") == "Action.Execute" and n.get("verb") == verb]
    assert found, f"no {verb} button on the card"
    return found[0]


def words(card: dict[str, Any] | None) -> str:
    return "\n".join(
        str(n["text"]) for n in walk(card or {}) if n.get("type") in ("TextRun", "TextBlock")
    )


@dataclass
class Inbox:
    """What one member received in their 1:1 chat with the bot, created by the bot."""

    conversation: str
    cards: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (activity id, card)


def inbox(connector: FakeConnector, member: User) -> Inbox | None:
    """The member's personal chat as the bot opened it, and the cards it posted there."""
    created = [
        c
        for c in connector.calls_of("create")
        if c.ok and member.id in [m.get("id") for m in (c.body or {}).get("members", [])]
    ]
    if not created:
        return None
    conversations = {c.conversation_id for c in created}
    found = Inbox(conversation=str(created[-1].conversation_id))
    for call in connector.calls_of("send"):
        if call.ok and call.conversation_id in conversations:
            for card in adaptive_cards(call.body):
                found.cards.append((str(call.assigned_id), card))
    return found


def personal_client(bot: BotProcess, connector: FakeConnector, member: User) -> TeamsClient:
    """A member's client on the 1:1 chat the bot created, looking at its latest card there."""
    box = inbox(connector, member)
    assert box is not None and box.cards, f"{member.name} has had no personal card"
    chat = Chat(service_url=connector.url, user=member, conversation=Conversation(box.conversation))
    client = TeamsClient(bot, connector, chat)
    client.card_id, client.card = box.cards[-1]
    return client


def channel_client(
    bot: BotProcess, connector: FakeConnector, member: User, team: str = BOARD_TEAM
) -> TeamsClient:
    return TeamsClient(
        bot, connector, Chat(service_url=connector.url, user=member, conversation=channel(team))
    )


def channel_cards(connector: FakeConnector, team: str = BOARD_TEAM) -> list[tuple[str, dict]]:
    """The cards the bot posted in the board's channel, in order, each as last updated."""
    conversation = channel(team).id
    found = []
    for call in connector.calls_of("send", conversation_id=conversation):
        if call.ok:
            activity = connector.activity(str(call.assigned_id)) or call.body
            for card in adaptive_cards(activity):
                found.append((str(call.assigned_id), card))
    return found
