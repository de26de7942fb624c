"""One turn: a Teams activity in, the engine's plain reply out to Teams.

Cards answering a button replace that button's card (the invoke response for Action.Execute,
an update of the message for Action.Submit), so the chat does not fill with stale buttons. When a
new card takes over an assessment, the card it supersedes is retired to a short note.

In a channel Teams shows an Action.Execute's card to the person who clicked only, but an update
of the message shows to everyone: so an Action.Submit there (an older client, or CARD_ACTIONS=
submit) gets its card in the clicker's 1:1 chat instead, and the channel's card stays as it was.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from botbuilder.core import BotAdapter, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from dialogs import cards
from dialogs.boards.desk import Desk
from dialogs.boards.ports import TeamsError
from dialogs.engine import Walkthrough
from dialogs.messages import Card, Reply, Text, Turn
from dialogs.sets.service import Sets
from dialogs.state import Who
from dialogs.store import Store, StoreUnavailable
from dialogs.text import escape_markdown

from . import teams
from .connector import Connector
from .logs import failure

log = logging.getLogger("trustboard.turns")

PRIVATE_ONLY = (
    "I run self-assessments in a private chat, so your answers stay yours. Open a "
    "chat with me (select my name, then Chat) and type start."
)
KNOWN_TYPES = frozenset(
    {
        ActivityTypes.message,
        ActivityTypes.invoke,
        ActivityTypes.conversation_update,
        ActivityTypes.installation_update,
        ActivityTypes.typing,
        ActivityTypes.message_reaction,
    }
)
KNOWN_NAMES = frozenset({None, "adaptiveCard/action"})
NEW_CHAT_NOT_SAVED = (
    "Hello, I'm trustboard. I can't reach my storage just now, so I can't save anything yet "
    "and your self-assessment can't start. Please say hello again in a few minutes."
)
NEW_TEAM_NOT_SAVED = (
    "Hello, I'm trustboard. I can't reach my storage just now, so I couldn't set up this "
    "board yet. Mention me with board here in a few minutes to try again."
)
ADDED_TO_CHAT = (
    "Hello, I'm trustboard. I work with a board in its team's channel, and with each trustee "
    "in a 1:1 chat: open a chat with me to work through a CST self-assessment at your own pace."
)
BOARD_WORDS = {"board", "boards", "my board", "my boards", "clerk", "rounds", "round"}
TEXT_ONLY = "I can only read text and my own cards. Type help to see what I understand."
SENT_PRIVATELY = "I've sent that to your private chat with me, so only you see it."
NOT_SENT_PRIVATELY = (
    "I couldn't open a private chat with you to show that, and it is not shown here so "
    "the board's card stays as it is for everyone. Open a chat with me (select my name, then "
    "Chat) and type board."
)


class TurnChat:
    """Where one turn's messages go: the conversation the activity came from, addressed as
    botbuilder would (from the bot, to the sender, in reply to the activity), posted through our
    own `Connector` rather than botbuilder's client (see bot/connector.py for why)."""

    def __init__(self, connector: Connector, raw: dict[str, Any]) -> None:
        self.connector = connector
        self.service_url = str(raw.get("serviceUrl") or "")
        conversation = teams.json_object(raw, "conversation")
        self.conversation = str(conversation.get("id") or "")
        self.reply_to = raw.get("id") if isinstance(raw.get("id"), str) else None
        addressed = {
            "channelId": raw.get("channelId"),
            "serviceUrl": raw.get("serviceUrl"),
            "conversation": raw.get("conversation"),
            "from": raw.get("recipient"),
            "recipient": raw.get("from"),
            "replyToId": self.reply_to,
            "locale": raw.get("locale"),
        }
        self.addressed = {k: v for k, v in addressed.items() if v is not None}

    async def send(self, message: Card | Text) -> str | None:
        body = {**teams.message(message), **self.addressed}
        sent = await self.connector.send(self.service_url, self.conversation, body, self.reply_to)
        return sent or None

    async def update(self, activity_id: str, card: Card) -> None:
        body = {**teams.message(card), **self.addressed}
        await self.connector.update(self.service_url, self.conversation, activity_id, body)


class TrustboardBot:
    def __init__(
        self,
        engine: Walkthrough,
        store: Store,
        connector: Connector,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        desk: Desk | None = None,
        sets: Sets | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.connector = connector
        self.clock = clock
        self.desk = desk
        self.sets = sets

    async def _answer(self, turn: Turn) -> Reply:
        """Board business goes to the desk, learning sets to theirs; a trustee's own answers
        to the walkthrough."""
        if self.sets is not None and self.sets.handles(turn):
            return await self.sets.handle(turn)
        desk = self.desk
        if desk is not None and (desk.handles(turn) or _asks_for_boards(turn)):
            return await desk.handle(turn)
        place = turn.place
        if place is not None and not place.personal:
            return Reply(send=[Text(PRIVATE_ONLY)])
        return await self.engine.handle(turn)

    async def on_turn(self, context: TurnContext, raw: dict[str, Any]) -> None:
        kind = raw.get("type")
        # Only what the bot itself recognises: every field of an activity can be forged.
        log.debug(
            "turn type=%s name=%s replying=%s",
            kind if kind in KNOWN_TYPES else "other",
            raw.get("name") if raw.get("name") in KNOWN_NAMES else "other",
            isinstance(raw.get("replyToId"), str),
        )
        chat = TurnChat(self.connector, raw)
        if kind == ActivityTypes.message:
            await self._message(chat, raw)
        elif kind == ActivityTypes.invoke:
            await self._invoke(context, chat, raw)
        elif kind == ActivityTypes.conversation_update and teams.bot_was_added(raw):
            await self._added(context, chat, raw)
        elif kind in (ActivityTypes.conversation_update, ActivityTypes.installation_update):
            await self._team_changed(raw)
        # Other activity types (typing, reactions) need no answer.

    async def _message(self, chat: TurnChat, raw: dict[str, Any]) -> None:
        action = teams.submitted_action(raw)
        text = teams.typed_text(raw)
        if action is None and not text:
            await chat.send(Text(TEXT_ONLY))
            return
        who = teams.who(raw)
        turn = Turn(who, self.clock(), text, action, teams.place(raw))
        reply = await self._answer(turn)
        await self._deliver(chat, raw, who, reply, invoke=False)

    async def _invoke(self, context: TurnContext, chat: TurnChat, raw: dict[str, Any]) -> None:
        if raw.get("name") != "adaptiveCard/action":
            return  # no invoke response: the adapter answers 501 Not Implemented
        who = teams.who(raw)
        turn = Turn(who, self.clock(), "", teams.executed_action(raw), teams.place(raw))
        reply = await self._answer(turn)
        body = await self._deliver(chat, raw, who, reply, invoke=True)
        # Handed to the adapter the way its own send path ends up doing, minus send_activity's
        # deep copy of the whole card: that copy was 9% of the bot's CPU under load (py-spy).
        context.turn_state[BotAdapter._INVOKE_RESPONSE_KEY] = Activity(
            type=ActivityTypes.invoke_response,
            value=InvokeResponse(status=HTTPStatus.OK, body=body),
        )

    async def _added(self, context: TurnContext, chat: TurnChat, raw: dict[str, Any]) -> None:
        if not teams.is_personal(raw):
            place = teams.place(raw)
            if self.desk is not None and place.team:
                try:
                    await self.desk.added(Turn(teams.who(raw), self.clock(), place=place))
                    return
                except StoreUnavailable:
                    log.warning("store unavailable while the bot was added to a team")
                    await chat.send(Text(NEW_TEAM_NOT_SAVED))
                    return
                except Exception as exc:
                    log.error("could not introduce the bot to a team: %s", failure(exc))
            await chat.send(Text(ADDED_TO_CHAT))
            return
        who = teams.who(raw)
        try:
            reference = TurnContext.get_conversation_reference(context.activity).serialize()
            await self.store.save_conversation(who, _json(reference))
            welcome: Card | Text = await self.engine.welcome(who)
        except StoreUnavailable:
            log.warning("store unavailable while welcoming a new chat")
            welcome = Text(NEW_CHAT_NOT_SAVED)
        await chat.send(welcome)

    async def _team_changed(self, raw: dict[str, Any]) -> None:
        """Someone joined or left a board's team, it was renamed, or the bot was removed from
        it (or installed again): the board follows at once. Teams expects no reply."""
        event = teams.team_event(raw, self.clock())
        if event is None or self.desk is None:
            return
        try:
            await self.desk.team_event(event)
        except StoreUnavailable:
            # Not lost for good: the roster is read again when a round opens or closes.
            log.warning("store unavailable while following a change to a team")
        except TeamsError as exc:
            log.warning("Teams refused a call while following a change to a team: %s", exc.brief())
        except Exception as exc:
            # Teams does not resend: say where it failed (never the message, which could quote
            # a name), and let the next roster refresh catch up.
            log.error("could not follow a change to a team: %s", failure(exc))

    async def _deliver(
        self, chat: TurnChat, raw: dict[str, Any], who: Who, reply: Reply, invoke: bool
    ) -> dict[str, Any] | teams.Encoded | None:
        """Sends the reply; for an invoke, returns the body of the invoke response."""
        clicked = raw.get("replyToId") if isinstance(raw.get("replyToId"), str) else None
        body: dict[str, Any] | teams.Encoded | None = None
        if reply.replace is not None:
            if invoke:
                body = teams.card_response(reply.replace)
            elif clicked and not teams.is_personal(raw):
                await self._privately(chat, raw, who, reply.replace)
                clicked = None
            elif clicked:
                await chat.update(clicked, reply.replace)
            else:
                clicked = await chat.send(reply.replace)
            await self._track(chat, who, reply, reply.replace, clicked)
        sends = list(reply.send)
        if invoke and body is None:
            # Teams shows this text on the clicked card; sending it as a message too would say
            # the same thing twice.
            first = next((item for item in sends if isinstance(item, Text)), None)
            if first is not None:
                sends.remove(first)
            body = {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": first.text if first else "Done.",
            }
        for item in sends:
            sent = await chat.send(item)
            if isinstance(item, Card):
                await self._track(chat, who, reply, item, sent)
        return body

    async def _privately(self, chat: TurnChat, raw: dict[str, Any], who: Who, card: Card) -> None:
        """The clicker's own view of a channel card, in their 1:1 chat; a line in the channel."""
        place = teams.place(raw)
        first = who.name.split()[0] if who.name.split() else ""
        note = SENT_PRIVATELY
        try:
            if self.desk is None:
                raise TeamsError(None, "no board desk to reach Teams with")
            await self.desk.teams.personal(place.service_url, who.tenant, place.sender_id, card)
        except TeamsError as exc:
            log.warning("could not show a channel card privately: status %s", exc.status)
            note = NOT_SENT_PRIVATELY
        # Said in the channel, where everyone sees it: the first name says who it is for.
        await chat.send(Text(f"{escape_markdown(first)}: {note}" if first else note))

    async def _track(
        self, chat: TurnChat, who: Who, reply: Reply, card: Card, activity_id: str | None
    ) -> None:
        """Remember which message now drives an assessment; retire the one it replaces."""
        if not card.drives or not activity_id or activity_id == reply.live_card:
            return
        try:
            previous = await self.store.set_card(who, card.drives, activity_id)
        except StoreUnavailable:
            return  # the answer itself is saved; an old card left live is still safe to click
        if previous and previous != activity_id:
            try:
                await chat.update(previous, cards.superseded_card())
            except Exception as exc:
                log.info("could not retire an old card: %s", type(exc).__name__)


def _asks_for_boards(turn: Turn) -> bool:
    return turn.action is None and " ".join(turn.text.lower().split()) in BOARD_WORDS


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
