"""Teams-shaped activities as JSON dicts, the way Teams posts them to a bot's /api/messages.

Field names are the Bot Framework JSON names (camelCase). Every builder takes the same context:
`service_url` (a fake connector's url), `tenant`, `user`, `conversation` (default: the user's
personal chat with the bot), `bot` and `locale`. `Chat` bundles that context once:

    chat = Chat(service_url=connector.url, user=SAM)
    await bot.post(chat.message("start"))
    await bot.post(chat.submit({"verb": "rate", "rating": "B"}, reply_to_id=card_id))
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

CHANNEL_ID = "msteams"
LOCALE = "en-GB"
TIMEZONE = "Europe/London"
TENANT = "5a1b7c3e-0f2d-4c6b-9e8a-1d2c3b4a5f60"
OTHER_TENANT = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"

_activity_ids = itertools.count(1_730_000_000_000)


@dataclass(frozen=True)
class User:
    id: str  # "29:1…", the Teams user id the bot sees
    aad_object_id: str  # the Entra ID object id (a GUID)
    name: str

    def account(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}


@dataclass(frozen=True)
class Bot:
    id: str = "28:0b5e4a47-64b6-4bde-9a28-4f2f0c2d9e11"  # "28:" + the app id
    name: str = "Trustboard"

    def account(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}

    def mention(self) -> str:
        return f"<at>{self.name}</at>"


@dataclass(frozen=True)
class Conversation:
    id: str
    type: str = "personal"  # personal, groupChat or channel
    team_id: str | None = None  # channels only
    channel_id: str | None = None  # channels only
    name: str | None = None
    team_name: str | None = None  # channels only

    @property
    def is_group(self) -> bool:
        return self.type != "personal"

    def account(self, tenant: str) -> dict[str, Any]:
        account: dict[str, Any] = {"conversationType": self.type, "tenantId": tenant, "id": self.id}
        if self.is_group:
            account["isGroup"] = True
        if self.name:
            account["name"] = self.name
        return account

    def channel_data(self, tenant: str) -> dict[str, Any]:
        data: dict[str, Any] = {"tenant": {"id": tenant}}
        if self.type == "channel":
            data["teamsTeamId"] = self.team_id
            data["teamsChannelId"] = self.channel_id
            data["team"] = {"id": self.team_id}
            if self.team_name:
                data["team"]["name"] = self.team_name
            data["channel"] = {"id": self.channel_id}
        return data


def user(name: str, *, aad_object_id: str | None = None) -> User:
    """A user with a Teams id and an AAD object id; the same name gives the same ids."""
    aad = aad_object_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"trustboard-test:{name}"))
    return User(id=f"29:1{_token(aad, 40)}", aad_object_id=aad, name=name)


def _token(seed: str, length: int) -> str:
    """A deterministic id-like string of letters and digits."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    while len(digest) < length:
        digest += hashlib.sha256(digest.encode()).hexdigest()
    return digest[:length]


ALEX = user("Alex Trustee")
SAM = user("Sam Chair")
BOT = Bot()


def personal(for_user: User, tenant: str = TENANT, bot: Bot = BOT) -> Conversation:
    """The 1:1 chat of a user with the bot: one stable "a:1…" id per user, bot and tenant."""
    return Conversation(id=f"a:1{_token(f'{tenant}|{for_user.id}|{bot.id}', 60)}")


def group_chat(name: str = "Board group chat") -> Conversation:
    return Conversation(id=f"19:{_token(name, 32)}@thread.v2", type="groupChat", name=name)


def channel(team: str = "Trust board", channel_name: str = "General") -> Conversation:
    team_id = f"19:{_token(team, 32)}@thread.tacv2"
    channel_id = (
        team_id if channel_name == "General" else f"19:{_token(channel_name, 32)}@thread.tacv2"
    )
    return Conversation(
        id=channel_id, type="channel", team_id=team_id, channel_id=channel_id, team_name=team
    )


@dataclass(frozen=True)
class Chat:
    """Who talks to the bot, where: the context every activity below is built from."""

    service_url: str
    tenant: str = TENANT
    user: User = ALEX
    conversation: Conversation | None = None  # default: the user's personal chat
    bot: Bot = BOT
    locale: str = LOCALE

    @property
    def where(self) -> Conversation:
        return self.conversation or personal(self.user, self.tenant, self.bot)

    def message(self, text: str, *, mention: bool | None = None) -> dict[str, Any]:
        """A typed message; in a channel or group chat the bot is @mentioned (unless told not)."""
        activity = self._envelope("message")
        activity.update(text=text, textFormat="plain")
        mentioned = self.where.is_group if mention is None else mention
        if mentioned:
            activity["text"] = f"{self.bot.mention()} {text}"
            activity["entities"].append(self._mention_entity())
        return activity

    def submit(
        self, value: Mapping[str, Any], reply_to_id: str, inputs: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """An Action.Submit: a message with no text whose value is the data merged with inputs."""
        activity = self._envelope("message")
        activity.update(value={**value, **(inputs or {})}, replyToId=reply_to_id)
        activity["channelData"].update(self._card_source(reply_to_id))
        return activity

    def execute(
        self,
        verb: str,
        data: Mapping[str, Any],
        reply_to_id: str,
        inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An Action.Execute: an `adaptiveCard/action` invoke (inputs merged into data)."""
        action = {"type": "Action.Execute", "verb": verb, "data": {**data, **(inputs or {})}}
        activity = self._envelope("invoke")
        activity.update(
            name="adaptiveCard/action",
            value={"action": action, "trigger": "manual"},
            replyToId=reply_to_id,
        )
        activity["channelData"].update(self._card_source(reply_to_id))
        return activity

    def bot_added(self) -> dict[str, Any]:
        """The conversationUpdate Teams sends when the app is installed for the user or a team."""
        activity = self._envelope("conversationUpdate")
        activity["membersAdded"] = [self.bot.account()]
        if self.where.type == "channel":
            activity["channelData"]["eventType"] = "teamMemberAdded"
        return activity

    def _envelope(self, kind: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "type": kind,
            "id": str(next(_activity_ids)),
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimestamp": now.isoformat(timespec="milliseconds"),
            "localTimezone": TIMEZONE,
            "serviceUrl": self.service_url,
            "channelId": CHANNEL_ID,
            "from": self.user.account(),
            "conversation": self.where.account(self.tenant),
            "recipient": self.bot.account(),
            "entities": [self._client_info()],
            "channelData": self.where.channel_data(self.tenant),
            "locale": self.locale,
        }

    def _client_info(self) -> dict[str, Any]:
        return {
            "type": "clientInfo",
            "locale": self.locale,
            "country": self.locale.rpartition("-")[2],
            "platform": "Web",
            "timezone": TIMEZONE,
        }

    def _mention_entity(self) -> dict[str, Any]:
        return {"type": "mention", "text": self.bot.mention(), "mentioned": self.bot.account()}

    @staticmethod
    def _card_source(reply_to_id: str) -> dict[str, Any]:
        return {"source": {"name": "message"}, "legacy": {"replyToId": reply_to_id}}
