"""The incoming activity, read from its JSON: checked, then given to the SDK in the form it reads.

The bot itself reads the JSON (bot/teams.py); the SDK's adapter only needs an `Activity` to check
the token against (channel, service URL) and to run the turn (type, delivery mode). msrest's
`Activity().deserialize` builds every field and sub-model of it, and was 15% of the bot's CPU
under load (py-spy), so a message or an invoke, the turns that come by the hundred, get an
`Activity` of the fields read here, each checked for its type first. Other activities (a chat or
a team that the bot joins, whose conversation reference is stored as the SDK writes it) are
rare, and still go through `deserialize` whole.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

NEEDS_CONVERSATION = {"message", "invoke", "conversationUpdate"}
READ_HERE = {"message", "invoke"}  # the rest are deserialised by msrest, as before


class Unreadable(ValueError):
    """The activity is not one the bot can read; the message says why, for a 400."""


def problem(raw: Any) -> str | None:
    """Why the activity cannot be taken, or None."""
    if not isinstance(raw, dict):
        return "The activity must be a JSON object."
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        return "The activity has no 'type'."
    if kind not in NEEDS_CONVERSATION:
        return None
    service_url = raw.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("http://", "https://")):
        return "The activity has no valid 'serviceUrl'."
    for field in ("conversation", "from", "recipient"):
        part = raw.get(field)
        if not isinstance(part, dict) or not isinstance(part.get("id"), str) or not part["id"]:
            return f"The activity has no '{field}.id'."
    for field in ("text", "replyToId", "name"):
        if raw.get(field) is not None and not isinstance(raw[field], str):
            return f"The activity's '{field}' must be a string."
    return None


def read(raw: dict[str, Any]) -> Activity:
    """The `Activity` for the adapter, from JSON that `problem` has passed.

    Raises Unreadable where a field it carries is of the wrong kind."""
    if raw["type"] not in READ_HERE:
        try:
            return Activity().deserialize(raw)
        except Exception:
            raise Unreadable("The activity could not be read.") from None
    return Activity(
        type=raw["type"],
        id=_text(raw, "id"),
        name=_text(raw, "name"),
        channel_id=_text(raw, "channelId"),
        service_url=_text(raw, "serviceUrl"),
        reply_to_id=_text(raw, "replyToId"),
        locale=_text(raw, "locale"),
        delivery_mode=_text(raw, "deliveryMode"),
        text=_text(raw, "text"),
        value=raw.get("value"),
        conversation=_conversation(raw["conversation"]),
        from_property=_account(raw["from"], "from"),
        recipient=_account(raw["recipient"], "recipient"),
    )


def _text(part: dict[str, Any], field: str, where: str = "") -> str | None:
    value = part.get(field)
    if value is None or isinstance(value, str):
        return value
    raise Unreadable(f"The activity's '{where}{field}' must be a string.")


def _account(part: dict[str, Any], where: str) -> ChannelAccount:
    prefix = f"{where}."
    return ChannelAccount(
        id=part["id"],
        name=_text(part, "name", prefix),
        aad_object_id=_text(part, "aadObjectId", prefix),
        role=_text(part, "role", prefix),
    )


def _conversation(part: dict[str, Any]) -> ConversationAccount:
    group = part.get("isGroup")
    if group is not None and not isinstance(group, bool):
        raise Unreadable("The activity's 'conversation.isGroup' must be true or false.")
    return ConversationAccount(
        id=part["id"],
        is_group=group,
        name=_text(part, "name", "conversation."),
        conversation_type=_text(part, "conversationType", "conversation."),
        tenant_id=_text(part, "tenantId", "conversation."),
    )
