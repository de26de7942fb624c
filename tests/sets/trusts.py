"""Trust boards in different Microsoft Entra tenants, served by one bot, driven over HTTP.

Each trust has its own tenant, team, clerk, chair and trustees; a facilitator (say, at CST) is
in a tenant of their own and chairs no board. Every activity carries its sender's tenant, as
Teams' would; the bot is served in-process on the throwaway Redis (tests/support/bot_app.py),
and what it sends is read at the fake connector.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tests.boards.scripted import (
    ChatClient,
    channel_cards,
    eventually,
    roster,
    team_id,
    words,
)
from tests.dialogs.cardkit import walk
from tests.http.teams_client import TeamsClient
from tests.support.activities import OTHER_TENANT, TENANT, Chat, Conversation, User, channel, user
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector, adaptive_cards

THIRD_TENANT = "3c2b1a09-8f7e-4d6c-b5a4-932817065f4e"
CST_TENANT = "7d6c5b4a-3f2e-4d1c-8b0a-f9e8d7c6b5a4"
FRAMEWORK = "cst-trust-governance"


@dataclass(frozen=True)
class Trust:
    name: str  # the board's team name
    tenant: str
    clerk: User
    chair: User
    trustees: tuple[User, ...]

    @property
    def team(self) -> str:
        return self.name

    @property
    def team_id(self) -> str:
        return team_id(self.name)

    @property
    def answering(self) -> tuple[User, ...]:
        return (self.chair, *self.trustees)


def trust(name: str, tenant: str, short: str) -> Trust:
    return Trust(
        name=name,
        tenant=tenant,
        clerk=user(f"{short} Clerk"),
        chair=user(f"{short} Chair"),
        trustees=tuple(user(f"{short} Trustee {n}") for n in (1, 2, 3)),
    )


OAK = trust("Oak Learning Trust", TENANT, "Oak")
ELM = trust("Elm Academies", OTHER_TENANT, "Elm")
ASH = trust("Ash Schools Trust", THIRD_TENANT, "Ash")
FACILITATOR = user("Fay Facilitator")


def chat(connector: FakeConnector, who: User, tenant: str, conversation: Any = None) -> Chat:
    return Chat(service_url=connector.url, tenant=tenant, user=who, conversation=conversation)


def personal(bot: BotHttp, connector: FakeConnector, who: User, tenant: str) -> ChatClient:
    """Someone's own 1:1 chat with the bot, in their tenant, as they type in it."""
    return ChatClient(bot, connector, chat(connector, who, tenant))


def proactive(bot: BotHttp, connector: FakeConnector, who: User, tenant: str) -> ChatClient:
    """The 1:1 chat the bot opened with someone, on the latest card it sent there."""
    created = [
        c
        for c in connector.calls_of("create")
        if c.ok and who.id in [m.get("id") for m in (c.body or {}).get("members", [])]
    ]
    assert created, f"the bot never opened a chat with {who.name}"
    conversation = Conversation(str(created[-1].conversation_id))
    client = ChatClient(bot, connector, chat(connector, who, tenant, conversation))
    cards = cards_to(connector, who)
    assert cards, f"{who.name} has had no card"
    client.card_id, client.card = cards[-1]
    return client


def cards_to(connector: FakeConnector, who: User) -> list[tuple[str, dict[str, Any]]]:
    """Every card the bot sent to chats it opened with `who`, in order."""
    chats = {
        str(c.conversation_id)
        for c in connector.calls_of("create")
        if c.ok and who.id in [m.get("id") for m in (c.body or {}).get("members", [])]
    }
    return [
        (str(call.assigned_id), card)
        for call in connector.calls_of("send")
        if call.ok and call.conversation_id in chats
        for card in adaptive_cards(call.body)
    ]


def texts_to(connector: FakeConnector, who: User) -> list[str]:
    chats = {
        str(c.conversation_id)
        for c in connector.calls_of("create")
        if c.ok and who.id in [m.get("id") for m in (c.body or {}).get("members", [])]
    }
    return [
        str(call.body.get("text"))
        for call in connector.calls_of("send")
        if call.ok and call.conversation_id in chats and isinstance(call.body, dict)
        if call.body.get("text")
    ]


# ---- a board in its tenant ----------------------------------------------------------------------


async def set_up_board(bot: BotHttp, connector: FakeConnector, t: Trust) -> None:
    """The bot added to the trust's team, the board set up by its clerk, the chair named."""
    connector.set_roster(roster(t.clerk, t.chair, *t.trustees), conversation_id=t.team_id)
    client = TeamsClient(bot, connector, chat(connector, t.clerk, t.tenant, channel(t.team)))
    assert await client.post(client.chat.bot_added()) in (200, 201)
    client.card_id, client.card = channel_cards(connector, t.team)[-1]
    assert await client.click("board.setup") == 200
    assert "you are its clerk" in client.words(), client.words()
    await client.click("roles.show")
    keys = client.button("roles.save")["data"]["keys"]
    roles = {
        f"role.{i}": "chair" if key == t.chair.aad_object_id else _current(client.card, i)
        for i, key in enumerate(keys)
    }
    assert await client.click("roles.save", **roles) == 200
    assert "Roles saved" in client.words(), client.words()


def _current(card: dict[str, Any] | None, index: int) -> str:
    for node in walk(card or {}):
        if node.get("type") == "Input.ChoiceSet" and node.get("id") == f"role.{index}":
            return str(node.get("value"))
    raise AssertionError(f"no role.{index} on the roles card")


async def clerk_chat(bot: BotHttp, connector: FakeConnector, t: Trust) -> ChatClient:
    client = personal(bot, connector, t.clerk, t.tenant)
    assert await client.say("board") == 200
    assert client.card is not None and "Manage roles" in str(client.card), client.texts
    return client


async def open_round(
    client: TeamsClient, elements: tuple[int, ...], via_form: bool = True, **inputs: Any
) -> str:
    """From the card on screen (the board card, or a form already prefilled), open a round."""
    if via_form:
        assert await client.click("round.new") == 200
        choose = [
            n
            for n in walk(client.card)
            if n.get("type") == "Action.Execute" and n["data"].get("fw") == FRAMEWORK
        ]
        assert choose, client.words()
        activity = client.chat.execute("round.form", choose[0]["data"], str(client.card_id))
        assert await client.post(activity) == 200
    fields = {
        "elements": ",".join(str(n) for n in elements),
        "deadline": (date.today() + timedelta(days=7)).isoformat(),
        "visibility": "anonymous",
        "min": "3",
        "message": "",
        **inputs,
    }
    assert await client.click("round.open", **fields) == 200
    assert "Round opened" in client.words(), (client.words(), client.texts)
    return str(client.button("round.close")["data"]["r"])


async def answer(client: ChatClient, ratings: tuple[str, ...]) -> None:
    """From the invitation on screen: start, rate each element in turn with evidence, finish."""
    assert await client.click("start") == 200, client.texts
    for rating in ratings:
        nodes = [
            n
            for n in walk(client.card)
            if n.get("type") == "Action.Execute" and n["data"].get("rating") == rating
        ]
        assert nodes, f"no {rating} button: {client.words()[:300]}"
        evidence = {"evidence": f"EVIDENCE-{client.chat.user.name}: minutes show {rating}"}
        activity = client.chat.execute("rate", nodes[0]["data"], str(client.card_id), evidence)
        assert await client.post(activity) == 200
    if "'finish'" in str(client.card):
        assert await client.click("finish") == 200
    else:  # some elements left unrated: the card on screen is the next one, with no Finish
        assert await client.say("finish") == 200
    assert "answers are in the board's round" in client.words(), client.words()


async def run_round(
    bot: BotHttp,
    connector: FakeConnector,
    t: Trust,
    ratings: dict[str, tuple[str, ...]],
    elements: tuple[int, ...],
    *,
    clerk: ChatClient | None = None,
    **inputs: Any,
) -> str:
    """A whole round on `elements`: opened by the clerk in their chat, each answering member
    rates as `ratings` says (by name), closed by the clerk. Returns the round id."""
    before = {m.name: len(cards_to(connector, m)) for m in t.answering}
    desk = clerk or await clerk_chat(bot, connector, t)
    round_id = (
        await open_round(desk, elements, **inputs) if clerk is None else await _open_prefilled(desk)
    )
    for member in t.answering:
        await eventually(
            lambda m=member: len(cards_to(connector, m)) > before[m.name],
            what=f"{member.name}'s invitation",
        )
    clients = [proactive(bot, connector, m, t.tenant) for m in t.answering]
    await asyncio.gather(*(answer(c, ratings[c.chat.user.name]) for c in clients))
    status = desk.chat.execute("round.close", {"b": t.team_id, "r": round_id}, str(desk.card_id))
    assert await desk.post(status) == 200
    assert "Round closed" in desk.said(), desk.said()
    return round_id


def form_values(card: dict[str, Any] | None) -> dict[str, Any]:
    """What a card's inputs hold as drawn: what Teams posts with a button if nobody edits them."""
    return {
        str(n["id"]): n["value"]
        for n in walk(card or {})
        if str(n.get("type", "")).startswith("Input.") and "value" in n
    }


async def _open_prefilled(desk: ChatClient) -> str:
    """The round form on screen, opened as it came (prefilled), a week to answer."""
    values = form_values(desk.card)
    values["deadline"] = (date.today() + timedelta(days=7)).isoformat()
    assert await desk.click("round.open", **values) == 200
    assert "Round opened" in desk.words(), (desk.words(), desk.texts)
    return str(desk.button("round.close")["data"]["r"])


def card_words(card: dict[str, Any] | None) -> str:
    return words(card)


@dataclass
class Inboxes:
    """How many cards each person had, to find what arrived since."""

    counts: dict[str, int] = field(default_factory=dict)

    def mark(self, connector: FakeConnector, *people: User) -> None:
        for p in people:
            self.counts[p.name] = len(cards_to(connector, p))

    def since(self, connector: FakeConnector, who: User) -> list[dict[str, Any]]:
        return [card for _, card in cards_to(connector, who)[self.counts.get(who.name, 0) :]]


# ---- a set already running: Oak (its chair joined) and Elm (its clerk joined) --------------------

# Four answering members each, on elements 1, 5, 15 and 16: Oak's board ratings R, AR, G, AR;
# Elm's G, R, AG, AR; Ash's AR, AG, R, G (the median, the weaker middle one of four).
ROUND_ELEMENTS = (1, 5, 15, 16)
OAK_RATINGS = [
    ("R", "AR", "G", "R"),
    ("R", "AR", "G", "AR"),
    ("AR", "AG", "AG", "AR"),
    ("AG", "G", "G", "AG"),
]
ELM_RATINGS = [
    ("AG", "R", "AR", "AR"),
    ("G", "R", "AG", "AR"),
    ("G", "R", "AG", "R"),
    ("G", "AR", "AG", "AR"),
]
ASH_RATINGS = [
    ("AR", "AG", "R", "G"),
    ("AR", "AG", "AR", "AG"),
    ("AR", "G", "R", "G"),
    ("AR", "G", "R", "G"),
]
FIRST_RATINGS = {OAK: OAK_RATINGS, ELM: ELM_RATINGS, ASH: ASH_RATINGS}


def by_name(t: Trust, ratings: list[tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {m.name: r for m, r in zip(t.answering, ratings, strict=True)}


@dataclass
class Running:
    set_id: str
    code: str  # as the facilitator's card shows it, "KQ7M-4XPD"
    rounds: dict[str, str]  # board name -> its closed round's id
    facilitator: ChatClient


async def create_set(
    bot: BotHttp, connector: FakeConnector, name: str = "North West chairs", named: str = "unnamed"
) -> tuple[ChatClient, str, str]:
    """The facilitator creates a set in their own chat: (their client, set id, join code)."""
    fay = personal(bot, connector, FACILITATOR, CST_TENANT)
    assert await fay.say("new set") == 200
    assert await fay.click("set.create", name=name, fw=FRAMEWORK, named=named) == 200
    text = fay.words()
    assert "Set created" in text, text
    code = text.split("Its join code is ", 1)[1][:9]
    return fay, str(fay.button("set.close")["data"]["s"]), code


async def join(bot: BotHttp, connector: FakeConnector, who: User, tenant: str, code: str) -> str:
    client = personal(bot, connector, who, tenant)
    assert await client.say(f"join set {code}") == 200
    return client.said()


async def share_latest_round(bot: BotHttp, connector: FakeConnector, t: Trust) -> ChatClient:
    """The chair opens the set from their chat and shares the board's latest round."""
    chair = personal(bot, connector, t.chair, t.tenant)
    assert await chair.say("sets") == 200
    assert await chair.click("set.show") == 200
    assert await chair.click("set.offer") == 200
    assert "The board's round, closed" in chair.words(), chair.words()
    assert await chair.click("set.share") == 200
    assert "Shared with the set" in chair.words(), chair.words()
    return chair


async def running_set(
    bot: BotHttp, connector: FakeConnector, *, share: bool = True, named: bool = False
) -> Running:
    """Oak, Elm and Ash set up in their tenants; Oak and Elm have each closed a round; the
    facilitator's set has Oak (joined by its chair) and Elm (by its clerk); Oak's chair shared."""
    rounds = {}
    for t, ratings in ((OAK, OAK_RATINGS), (ELM, ELM_RATINGS)):
        await set_up_board(bot, connector, t)
        rounds[t.name] = await run_round(bot, connector, t, by_name(t, ratings), ROUND_ELEMENTS)
    await set_up_board(bot, connector, ASH)
    fay, set_id, code = await create_set(bot, connector, named="named" if named else "unnamed")
    assert "joined" in await join(bot, connector, OAK.chair, OAK.tenant, code)
    assert "joined" in await join(bot, connector, ELM.clerk, ELM.tenant, code)
    if share:
        await share_latest_round(bot, connector, OAK)
    return Running(set_id, code, rounds, fay)
