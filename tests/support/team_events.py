"""The events Teams sends a bot when its team changes, shaped as in Microsoft's "Conversation
events in your Teams bot" (msteams-docs, bots/how-to/conversations/subscribe-to-conversation-
events): members added or removed, the team renamed, and the app installed or uninstalled.

For membership and rename events the conversation is the team itself; an installationUpdate comes
in the channel. People removed arrive with their Teams id alone.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from .activities import BOT, CHANNEL_ID, TENANT, Bot, Conversation, User

_ids = itertools.count(1)


def _envelope(
    kind: str, service_url: str, team: Conversation, by: User, tenant: str, bot: Bot
) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "type": kind,
        "id": f"f:{next(_ids):08x}",
        "timestamp": now,
        "channelId": CHANNEL_ID,
        "serviceUrl": service_url,
        "from": {"id": by.id, "aadObjectId": by.aad_object_id},
        "conversation": {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": tenant,
            "id": team.team_id,
        },
        "recipient": bot.account(),
        "channelData": {
            "team": {"id": team.team_id, "aadGroupId": "f3ec8cd2-e704-4344-8c47-9a3a21d683c0"},
            "tenant": {"id": tenant},
        },
    }


def members_removed(
    service_url: str,
    team: Conversation,
    by: User,
    removed: list[User],
    *,
    tenant: str = TENANT,
    bot: Bot = BOT,
) -> dict[str, Any]:
    activity = _envelope("conversationUpdate", service_url, team, by, tenant, bot)
    activity["membersRemoved"] = [{"id": u.id} for u in removed]
    activity["channelData"]["eventType"] = "teamMemberRemoved"
    return activity


def members_added(
    service_url: str,
    team: Conversation,
    by: User,
    added: list[User],
    *,
    tenant: str = TENANT,
    bot: Bot = BOT,
) -> dict[str, Any]:
    activity = _envelope("conversationUpdate", service_url, team, by, tenant, bot)
    activity["membersAdded"] = [{"id": u.id, "aadObjectId": u.aad_object_id} for u in added]
    activity["channelData"]["eventType"] = "teamMemberAdded"
    activity["channelData"]["team"]["name"] = team.team_name
    return activity


def team_renamed(
    service_url: str, team: Conversation, by: User, name: str, *, tenant: str = TENANT
) -> dict[str, Any]:
    activity = _envelope("conversationUpdate", service_url, team, by, tenant, BOT)
    activity["channelData"]["team"]["name"] = name
    activity["channelData"]["eventType"] = "teamRenamed"
    return activity


def bot_removed(
    service_url: str, team: Conversation, by: User, *, tenant: str = TENANT, bot: Bot = BOT
) -> dict[str, Any]:
    """The conversationUpdate that comes with an uninstallation: the bot in membersRemoved."""
    activity = _envelope("conversationUpdate", service_url, team, by, tenant, bot)
    activity["membersRemoved"] = [{"id": bot.id}]
    activity["channelData"]["eventType"] = "teamMemberRemoved"
    return activity


def installation(
    service_url: str,
    team: Conversation,
    by: User,
    action: str,
    *,
    tenant: str = TENANT,
    bot: Bot = BOT,
) -> dict[str, Any]:
    """installationUpdate: `action` is add or remove (add-upgrade, remove-upgrade on upgrades)."""
    activity = _envelope("installationUpdate", service_url, team, by, tenant, bot)
    activity["conversation"]["id"] = team.id  # the channel
    activity["conversation"]["name"] = team.team_name
    activity["locale"] = "en-GB"
    activity["entities"] = [{"type": "clientInfo", "locale": "en-GB"}]
    activity["channelData"].update(
        {
            "settings": {"selectedChannel": {"id": team.id}},
            "channel": {"id": team.id},
            "source": {"name": "message"},
        }
    )
    activity["channelData"]["team"]["name"] = team.team_name
    activity["action"] = action
    return activity
