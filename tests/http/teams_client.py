"""A trustee's Teams client, as far as the bot can tell: it posts real Activity JSON to the bot's
/api/messages and reads what the bot sent at the fake connector."""

from __future__ import annotations

from typing import Any

from tests.dialogs.cardkit import walk
from tests.support.activities import Chat
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector, adaptive_cards


class TeamsClient:
    def __init__(self, bot: BotHttp, connector: FakeConnector, chat: Chat) -> None:
        self.bot = bot
        self.connector = connector
        self.chat = chat
        self.card_id: str | None = None  # the message holding the card the trustee looks at
        self.card: dict[str, Any] | None = None
        self.texts: list[str] = []  # plain messages from the bot since the last turn

    async def say(self, text: str) -> int:
        return await self.post(self.chat.message(text))

    async def click(
        self, verb: str, title: str | None = None, *, via: str = "execute", **inputs: Any
    ) -> int:
        """Press a button on the card on screen, as Action.Execute or as Action.Submit."""
        assert self.card_id and self.card, "no card on screen"
        data = self.button(verb, title)["data"]
        if via == "submit":
            return await self.post(self.chat.submit(data, self.card_id, inputs))
        return await self.post(self.chat.execute(verb, data, self.card_id, inputs))

    def button(self, verb: str, title: str | None = None) -> dict[str, Any]:
        nodes = [n for n in walk(self.card) if n.get("type") == "Action.Execute"]
        found = [
            n
            for n in nodes
            if n["data"]["verb"] == verb and (title is None or n["title"].lstrip("✓ ") == title)
        ]
        assert found, f"no {verb}/{title} button on the card: {self.words()[:300]}"
        return found[0]

    def words(self) -> str:
        # Everything a reader sees: the bot's own words are TextBlocks (a heat map's letters
        # among them), people's text TextRuns.
        return "\n".join(
            str(n["text"])
            for n in walk(self.card or {})
            if n.get("type") in ("TextRun", "TextBlock")
        )

    async def post(self, activity: dict[str, Any]) -> int:
        before = len(self.connector.calls)
        status, body = await self.bot.post(activity)
        self._read_new(before)
        if activity["type"] == "invoke" and status == 200:
            self._read_invoke(body)
        return status

    def _read_invoke(self, body: dict[str, Any]) -> None:
        """Teams shows an invoke's card in place of the clicked one, and its text on that card."""
        if body.get("type") == "application/vnd.microsoft.card.adaptive":
            self.card = body["value"]
        else:
            self.texts.insert(0, body["value"])

    def _read_new(self, before: int) -> None:
        """Take in what the bot posted during the turn: new messages and in-place updates."""
        self.texts = []
        for call in self.connector.calls[before:]:
            if not call.ok or not isinstance(call.body, dict):
                continue
            cards = adaptive_cards(call.body)
            if call.kind in ("send", "reply") and cards:
                self.card_id, self.card = call.assigned_id, cards[0]
            elif call.kind == "update" and cards and call.activity_id == self.card_id:
                self.card = cards[0]
            elif call.kind in ("send", "reply") and call.body.get("text"):
                self.texts.append(call.body["text"])
