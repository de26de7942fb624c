"""Teams specifics: who a turn is from, where it happens, and what the card action said."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dialogs.boards.membership import BOT_ADDED, BOT_REMOVED, JOINED, LEFT, RENAMED, TeamEvent
from dialogs.boards.ports import RosterMember
from dialogs.messages import Action, Card, Place, Text
from dialogs.state import Who

CARD = "application/vnd.microsoft.card.adaptive"
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


def message(item: Card | Text) -> dict[str, Any]:
    """A message Activity as JSON, as the bot posts it (turn replies, the outbox's jobs)."""
    if isinstance(item, Text):
        return {"type": "message", "text": item.text, "textFormat": "markdown"}
    return {
        "type": "message",
        "summary": item.summary,
        "attachments": [{"contentType": CARD, "content": item.content}],
    }


class Encoded(str):
    """A response body already written as JSON: sent as it is (app.py)."""


def card_response(card: Card) -> dict[str, Any] | Encoded:
    """The invoke response that replaces the clicked card. A card whose JSON its builder made
    (to check its size) is sent in that JSON, not encoded again: json.dumps of cards was a
    quarter of a rating turn's CPU under load (py-spy), three encodings a turn."""
    if card.wire is None:
        return {"statusCode": 200, "type": CARD, "value": card.content}
    return Encoded(f'{{"statusCode": 200, "type": "{CARD}", "value": {card.wire}}}')


def json_object(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A JSON object inside an activity; {} when it is missing or not an object."""
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def who(raw: dict[str, Any]) -> Who:
    """Identity from the activity as Teams posted it (the SDK drops `conversation.tenantId`)."""
    sender = raw.get("from") or {}
    user = str(sender.get("aadObjectId") or sender.get("id") or "")
    return Who(tenant=tenant(raw), user=user, name=str(sender.get("name") or ""))


def tenant(raw: dict[str, Any]) -> str:
    channel_data = json_object(raw, "channelData")
    from_channel = (channel_data.get("tenant") or {}).get("id") if channel_data else None
    conversation = raw.get("conversation") or {}
    return str(from_channel or conversation.get("tenantId") or "local")


def is_personal(raw: dict[str, Any]) -> bool:
    conversation = raw.get("conversation") or {}
    return conversation.get("conversationType", "personal") == "personal" and not conversation.get(
        "isGroup"
    )


def typed_text(raw: dict[str, Any]) -> str:
    text = raw.get("text")
    return _MENTION.sub("", text).strip() if isinstance(text, str) else ""


def submitted_action(raw: dict[str, Any]) -> Action | None:
    """An Action.Submit arrives as a message whose `value` holds the data and the inputs."""
    value = raw.get("value")
    if not isinstance(value, dict):
        return None
    verb = value.get("verb")
    return Action(verb if isinstance(verb, str) else "", value)


def executed_action(raw: dict[str, Any]) -> Action:
    """An Action.Execute arrives as an `adaptiveCard/action` invoke; inputs are in its data."""
    value = json_object(raw, "value")
    action = json_object(value, "action")
    data = json_object(action, "data")
    verb = action.get("verb")
    return Action(verb if isinstance(verb, str) else "", data)


def bot_was_added(raw: dict[str, Any]) -> bool:
    bot_id = (raw.get("recipient") or {}).get("id")
    added = raw.get("membersAdded") or []
    return any(isinstance(m, dict) and m.get("id") == bot_id for m in added)


def place(raw: dict[str, Any]) -> Place:
    """Where the activity happened: a 1:1 chat, a group chat or a team's channel."""
    conversation = json_object(raw, "conversation")
    kind = conversation.get("conversationType") or (
        "groupChat" if conversation.get("isGroup") else "personal"
    )
    channel_data = json_object(raw, "channelData")
    team = json_object(channel_data, "team")
    sender = json_object(raw, "from")
    reply_to = raw.get("replyToId")
    return Place(
        kind=str(kind),
        conversation=str(conversation.get("id") or ""),
        service_url=str(raw.get("serviceUrl") or ""),
        team=str(team.get("id") or channel_data.get("teamsTeamId") or "") or None,
        team_name=str(team.get("name") or ""),
        sender_id=str(sender.get("id") or ""),
        reply_to=reply_to if isinstance(reply_to, str) and reply_to else None,
    )


# installationUpdate actions (an app upgrade that adds or drops the bot says so with "-upgrade").
INSTALLED = {"add", "add-upgrade"}
UNINSTALLED = {"remove", "remove-upgrade"}


def team_event(raw: dict[str, Any], now: datetime) -> TeamEvent | None:
    """A change to a team the bot is in, from the conversationUpdate or installationUpdate Teams
    sends (Microsoft's "Conversation events in your Teams bot"); None for anything else.

    The team is `channelData.team.id`, whatever the conversation is (the team for membership
    events, a channel for an installation). People removed arrive as bare `{"id": "29:…"}`."""
    channel_data = json_object(raw, "channelData")
    team = json_object(channel_data, "team")
    team_id = team.get("id")
    if not isinstance(team_id, str) or not team_id:
        return None
    kind = raw.get("type")
    event = channel_data.get("eventType")
    bot_id = json_object(raw, "recipient").get("id")
    found = None
    if kind == "installationUpdate":
        action = str(raw.get("action") or "").lower()
        found = BOT_ADDED if action in INSTALLED else BOT_REMOVED if action in UNINSTALLED else None
        people: list[RosterMember] = []
    elif kind == "conversationUpdate" and event == "teamRenamed":
        found, people = RENAMED, []
    elif kind == "conversationUpdate":
        added, removed = _accounts(raw, "membersAdded"), _accounts(raw, "membersRemoved")
        if any(a.teams_id == bot_id for a in removed):
            found, people = BOT_REMOVED, []
        elif event == "teamMemberRemoved" and removed:
            found, people = LEFT, removed
        elif event == "teamMemberAdded" and added:
            found, people = JOINED, [a for a in added if a.teams_id != bot_id]
    if found is None or (found in (JOINED, LEFT) and not people):
        return None
    return TeamEvent(
        kind=found,
        tenant=tenant(raw),
        team=team_id,
        now=now,
        service_url=str(raw.get("serviceUrl") or ""),
        people=tuple(people),
        name=str(team.get("name") or "") if found == RENAMED else "",
    )


def _accounts(raw: dict[str, Any], field: str) -> list[RosterMember]:
    listed = raw.get(field)
    if not isinstance(listed, list):
        return []
    return [
        RosterMember(
            teams_id=str(m.get("id")),
            aad_object_id=str(m.get("aadObjectId") or ""),
            name=str(m.get("name") or ""),
        )
        for m in listed
        if isinstance(m, dict) and isinstance(m.get("id"), str) and m.get("id")
    ]
