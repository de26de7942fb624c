"""A scripted trust board over HTTP: a clerk, a chair, trustees and an observer in one team.

The bot runs on the throwaway Redis, served in-process (tests/support/bot_app.py) or, where a test
kills one, as a real process (`python -m bot`); everyone's Teams client posts real Activity JSON
to it and reads what it sent at the fake connector, including the personal messages it sends
proactively (a chat created with the member, then a message in it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.dialogs.cardkit import walk
from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat, Conversation, User, channel, user
from tests.support.bot_http import BotHttp
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector, adaptive_cards
from tests.support.redis_state import agenda_entries, agenda_key, queue_idle

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


def personal_client(bot: BotHttp, connector: FakeConnector, member: User) -> TeamsClient:
    """A member's client on the 1:1 chat the bot created, looking at its latest card there: it
    takes in only what is posted in that chat, as their Teams would, not a summary the outbox
    happens to post elsewhere during their turn."""
    box = inbox(connector, member)
    assert box is not None and box.cards, f"{member.name} has had no personal card"
    chat = Chat(service_url=connector.url, user=member, conversation=Conversation(box.conversation))
    client = ChatClient(bot, connector, chat)
    client.card_id, client.card = box.cards[-1]
    return client


def channel_client(
    bot: BotHttp, connector: FakeConnector, member: User, team: str = BOARD_TEAM
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


# ---- helpers for the fault and permission tests (test_board_faults, test_board_permissions) ----

import asyncio  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import date, timedelta  # noqa: E402

from redis.asyncio import Redis  # noqa: E402

FRAMEWORK = "cst-trust-governance"
INVITED = "has opened a self-assessment round"  # the invitation's heading
REMINDED = "A reminder: the board's self-assessment closes"  # the reminder's heading
HEAT_MAP = "Board heat map"  # on the round's summary card


class TimedConnector(FakeConnector):
    """A FakeConnector that also notes when each call arrived: `times[i]` is when `calls[i]`
    was answered (time.monotonic()). Do not `clear()` it: the two lists would part."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.times: list[float] = []

    def _record(self, *args: Any, **kwargs: Any) -> Any:
        self.times.append(time.monotonic())
        return super()._record(*args, **kwargs)


async def eventually(check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    """Poll `check` until it returns something truthy (awaiting it if it is a coroutine)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        await asyncio.sleep(0.05)


async def start_bots(count: int, env: dict[str, str]) -> list[BotProcess]:
    """`count` bot processes with the same environment, started side by side."""
    bots = [BotProcess(env) for _ in range(count)]
    try:
        await asyncio.gather(*(asyncio.to_thread(bot.start) for bot in bots))
    except BaseException:
        for bot in bots:
            bot.cleanup()
        raise
    return bots


def team_id(team: str = BOARD_TEAM) -> str:
    return str(channel(team).team_id)


async def set_up(
    bot: BotHttp,
    connector: FakeConnector,
    clerk: User,
    members: list[User],
    *,
    chair: User | None = None,
    others: tuple[User, ...] = (),
    team: str = BOARD_TEAM,
) -> TeamsClient:
    """A board for `team` (its roster: the clerk and `members`), set up by `clerk` in the
    channel, with `chair` named and `others` not trustees. Returns the clerk's channel client."""
    connector.set_roster(roster(clerk, *members), conversation_id=team_id(team))
    client = channel_client(bot, connector, clerk, team)
    assert await client.post(client.chat.bot_added()) in (200, 201)
    client.card_id, client.card = channel_cards(connector, team)[-1]
    assert await client.click("board.setup") == 200
    assert "you are its clerk" in client.words(), client.words()
    if chair is not None or others:
        await client.click("roles.show")
        keys = client.button("roles.save")["data"]["keys"]
        chosen = {chair.aad_object_id: "chair"} if chair else {}
        chosen.update({o.aad_object_id: "other" for o in others})
        current = {k: v.get("value") for k, v in _role_inputs(client.card).items()}
        inputs = {
            f"role.{i}": chosen.get(key, current.get(f"role.{i}")) for i, key in enumerate(keys)
        }
        assert await client.click("roles.save", **inputs) == 200
        assert "Roles saved" in client.words(), client.words()
        await client.click("board.show")
    return client


def _role_inputs(card: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {
        str(n["id"]): n
        for n in walk(card or {})
        if n.get("type") == "Input.ChoiceSet" and str(n.get("id", "")).startswith("role.")
    }


class ChatClient(TeamsClient):
    """A TeamsClient that only takes in what the bot posted in its own conversation: while
    invitations go out to other chats, the card on screen stays the one in this chat."""

    rotation: tuple[BotHttp, ...] = ()  # if set, each turn goes to the next of these
    turns = 0

    async def post(self, activity: dict[str, Any]) -> int:
        if self.rotation:
            self.bot = self.rotation[self.turns % len(self.rotation)]
            self.turns += 1
        return await super().post(activity)

    def _read_new(self, before: int) -> None:
        self.texts = []
        here = self.chat.where.id
        for call in self.connector.calls[before:]:
            if not call.ok or not isinstance(call.body, dict) or call.conversation_id != here:
                continue
            cards = adaptive_cards(call.body)
            if call.kind in ("send", "reply") and cards:
                self.card_id, self.card = call.assigned_id, cards[0]
            elif call.kind == "update" and cards and call.activity_id == self.card_id:
                self.card = cards[0]
            elif call.kind in ("send", "reply") and call.body.get("text"):
                self.texts.append(call.body["text"])

    def said(self) -> str:
        """What the bot said in answer to the last turn: its texts, and the card's words."""
        return "\n".join([*self.texts, self.words()])


def chat_client(bot: BotHttp, connector: FakeConnector, member: User) -> ChatClient:
    """A member's client on the latest 1:1 chat the bot opened with them, on its latest card."""
    box = inbox(connector, member)
    assert box is not None and box.cards, f"{member.name} has had no personal card"
    chat = Chat(service_url=connector.url, user=member, conversation=Conversation(box.conversation))
    client = ChatClient(bot, connector, chat)
    client.card_id, client.card = box.cards[-1]
    return client


async def clerk_desk(bot: BotHttp, connector: FakeConnector, clerk: User) -> ChatClient:
    """The clerk's 1:1 chat with the bot, showing the board card they get by typing "board"."""
    client = ChatClient(bot, connector, Chat(service_url=connector.url, user=clerk))
    assert await client.say("board") == 200
    assert client.card is not None and "Open a round" in str(client.card), client.texts
    return client


def form_fields(**inputs: Any) -> dict[str, Any]:
    """What a clerk types on the round form: element 1 only, a week to answer, unless told."""
    fields = {
        "elements": "1",
        "deadline": (date.today() + timedelta(days=7)).isoformat(),
        "visibility": "anonymous",
        "min": "1",
        "message": "Please answer before the board meets.",
    }
    fields.update(inputs)
    return fields


async def to_round_form(client: TeamsClient) -> None:
    """From the board card on screen to the form opening a round on the governance framework."""
    assert await client.click("round.new") == 200
    choose = [
        n
        for n in walk(client.card)
        if n.get("type") == "Action.Execute" and n["data"].get("fw") == FRAMEWORK
    ]
    assert choose, client.words()
    assert (
        await client.post(client.chat.execute("round.form", choose[0]["data"], str(client.card_id)))
        == 200
    )
    assert client.button("round.open")


async def open_round_here(client: TeamsClient, **inputs: Any) -> str:
    """Open a round from the board card on screen (best in the clerk's 1:1 chat, where the round
    card replaces the clicked one); returns the round id."""
    await to_round_form(client)
    assert await client.click("round.open", **form_fields(**inputs)) == 200
    assert "Round opened" in client.words(), (client.words(), client.texts)
    return str(client.button("round.close")["data"]["r"])


def chats_with(connector: FakeConnector, member: User) -> set[str]:
    """The 1:1 conversations the bot created (successfully) with the member."""
    return {
        str(c.conversation_id)
        for c in connector.calls_of("create")
        if c.ok and member.id in [m.get("id") for m in (c.body or {}).get("members", [])]
    }


def personal_cards(connector: FakeConnector, member: User, heading: str) -> list[dict[str, Any]]:
    """Cards the bot posted successfully in its 1:1 chats with the member whose text has
    `heading`: one per message that reached them."""
    chats = chats_with(connector, member)
    return [
        card
        for call in connector.calls_of("send")
        if call.ok and call.conversation_id in chats
        for card in adaptive_cards(call.body)
        if heading in words(card)
    ]


def invitations(connector: FakeConnector, member: User) -> int:
    return len(personal_cards(connector, member, INVITED))


def reminders(connector: FakeConnector, member: User) -> int:
    return len(personal_cards(connector, member, REMINDED))


def creates_for(connector: FakeConnector, member: User) -> list[int]:
    """Indexes in `connector.calls` of every attempt to open a chat with the member."""
    return [
        i
        for i, c in enumerate(connector.calls)
        if c.kind == "create"
        and member.id in [m.get("id") for m in (c.body or {}).get("members", [])]
    ]


def summaries_in_channel(connector: FakeConnector, team: str = BOARD_TEAM) -> list[str]:
    """The texts of the round summaries posted to the board's channel (as last updated)."""
    return [words(card) for _, card in channel_cards(connector, team) if HEAT_MAP in words(card)]


async def answer_round(client: TeamsClient, ratings: tuple[str, ...], *, finish: bool) -> None:
    """A trustee starts from their invitation, rates elements in turn, and maybe finishes."""
    assert await client.click("start") == 200, client.texts
    for rating in ratings:
        nodes = [
            n
            for n in walk(client.card)
            if n.get("type") == "Action.Execute" and n["data"].get("rating") == rating
        ]
        assert nodes, f"no {rating} button: {client.words()[:200]}"
        # Evidence that does not name its author: a name in a summary must come from the bot.
        evidence = {"evidence": f"Minutes show {rating} ({client.chat.user.aad_object_id[:8]})"}
        activity = client.chat.execute("rate", nodes[0]["data"], str(client.card_id), evidence)
        assert await client.post(activity) == 200
    if finish:
        assert await client.click("finish") == 200
        assert "answers are in the board's round" in client.words(), client.words()


async def delivery_jobs(redis: Redis, *, everything: bool = False) -> list[dict[str, str]]:
    """The hash (state, attempts, recipient, …) of every message queued for a named person (an
    invitation, a reminder, a notice); with `everything`, of the board's other messages too: its
    channel posts, and those for a role (the chair's copy) with the copies handed on from them."""
    found = []
    async for key in redis.scan_iter(match="*:dq:job:*"):
        job = await redis.hgetall(key)
        if everything or _to_a_named_person(job):
            found.append(job)
    return found


def _to_a_named_person(job: dict[str, str]) -> bool:
    recipient = json.loads(job.get("recipient") or "{}").get("id")
    return bool(recipient) and not job.get("conversation") and not job.get("parent")


async def settled(redis: Redis, expected: int) -> list[dict[str, str]] | None:
    """The jobs for named people, once there are exactly `expected` of them and every one is
    delivered, unreachable or failed, and the board's other messages (its channel posts, say)
    have settled too; else None."""
    jobs = await delivery_jobs(redis)
    done = [j for j in jobs if j.get("state") in ("delivered", "unreachable", "failed")]
    others = await delivery_jobs(redis, everything=True)
    if any(j.get("state") not in FINAL for j in others):
        return None
    return jobs if len(jobs) == expected and len(done) == len(jobs) else None


FINAL = ("delivered", "unreachable", "failed", "dropped", "forwarded")


async def summary_gone_out(connector: FakeConnector, redis: Redis, round_id: str) -> bool:
    """The round's summary is in the channel and the chair has their copy, and the bot has done
    bringing the round up to date with both: no summary left on its agenda, every message of
    the board settled, the clerk's round card saying so, and no update of that card under way."""
    rnd = await round_hash(redis, round_id)
    if not rnd.get("summary_card") or rnd.get("card_stale"):
        return False
    if await agenda_item(redis, "summary", round_id) is not None:
        return False
    if any(j.get("state") not in FINAL for j in await delivery_jobs(redis, everything=True)):
        return False
    if [key async for key in redis.scan_iter(match=f"*}}:round:{round_id}:card")]:
        return False
    clerk_card = rnd.get("clerk_card", "").partition("\t")[2]
    shown = words(connector.activity(clerk_card) or {})
    return "Summary posted" in shown and "The chair has their copy" in shown


async def round_hash(redis: Redis, round_id: str) -> dict[str, str]:
    keys = [key async for key in redis.scan_iter(match=f"*}}:round:{round_id}")]
    assert len(keys) == 1, keys
    return await redis.hgetall(keys[0])


async def agenda_item(redis: Redis, kind: str, round_id: str) -> tuple[str, float] | None:
    """The agenda's item of that kind for the round, with its score (ms), if it is there."""
    for member, score in await agenda_entries(redis):
        if member.startswith(f"{kind}|") and member.endswith(f"|{round_id}"):
            return member, score
    return None


async def due_now(redis: Redis, kind: str, round_id: str) -> str:
    """Move the round's `kind` agenda item (close, remind) to now, as if its time had come."""
    found = await agenda_item(redis, kind, round_id)
    assert found is not None, f"no {kind} item for round {round_id} on the agenda"
    seconds, micros = await redis.time()
    await redis.zadd(agenda_key(found[0]), {found[0]: seconds * 1000 + micros // 1000})
    return found[0]


async def deliveries_done(redis: Redis) -> bool:
    """Every message the bot has queued, for anyone or any channel, has its final outcome, and the
    delivery queue is idle: no entry on its streams, pending or not, and no retry due."""
    if any(j.get("state") not in FINAL for j in await delivery_jobs(redis, everything=True)):
        return False
    return await queue_idle(redis)


async def round_steps_done(redis: Redis, round_id: str) -> bool:
    """The round's operations (opening, closing, a reminder) have no step left to do
    (todo:<step>) and nobody holds the turn to do one."""
    rnd = await round_hash(redis, round_id)
    if any(field.startswith("todo:") for field in rnd):
        return False
    return not [key async for key in redis.scan_iter(match=f"*}}:round:{round_id}:steps")]


async def round_card_settled(redis: Redis, round_id: str) -> bool:
    """No update of the clerk's round card is asked for (card_stale) or under way (its lease)."""
    if (await round_hash(redis, round_id)).get("card_stale"):
        return False
    return not [key async for key in redis.scan_iter(match=f"*}}:round:{round_id}:card")]


async def no_steps_left(redis: Redis) -> bool:
    """No round of any board has a step of an operation left to do (todo:<step>), or is having
    one done (the lease on its steps): an opening has queued every invitation, say."""
    async for key in redis.scan_iter(match="*}:round:*"):
        if key.endswith(":steps"):
            return False
        if await redis.type(key) == "hash" and any(
            field.startswith("todo:") for field in await redis.hkeys(key)
        ):
            return False
    return True
