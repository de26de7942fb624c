"""A whole board round over HTTP: set-up → roles → open → delivery → concurrent answers →
reminder → close → summary → the chair's priorities, with the numbers checked."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.boards.scripted import (
    CHAIR,
    CLERK,
    OBSERVER,
    TRUSTEES,
    channel_cards,
    channel_client,
    inbox,
    personal_client,
    roster,
    words,
)
from tests.dialogs.cardkit import walk
from tests.http.teams_client import TeamsClient
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector

ELEMENTS = (1, 2, 3, 4)
# What each invited trustee rates elements 1-4. Chair and four trustees finish; the fifth rates
# two elements and stops.
RATINGS = {
    CHAIR.name: ("AR", "G", "AG", "R"),
    "Ada Brook": ("R", "G", "AG", "AR"),
    "Ben Carr": ("AR", "AG", "AG", "R"),
    "Cara Dunn": ("AG", "G", "G", "AR"),
    "Dev Ellis": ("R", "G", "AG", "AR"),
    "Eve Frost": ("AR", "AG"),  # in progress when the round closes
}


async def eventually(check: Any, timeout: float = 15.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


async def set_up_board(bot: BotHttp, connector: FakeConnector) -> TeamsClient:
    connector.set_roster(roster(CLERK, CHAIR, *TRUSTEES, OBSERVER))
    clerk = channel_client(bot, connector, CLERK)
    assert await clerk.post(clerk.chat.bot_added()) in (200, 201)
    setup_id, setup_card = channel_cards(connector)[0]
    assert "Set up this board" in str(setup_card)
    clerk.card_id, clerk.card = setup_id, setup_card
    assert await clerk.click("board.setup") == 200
    assert "you are its clerk" in clerk.words()
    assert "7 members" in clerk.words() or "8 members" in clerk.words()
    return clerk


async def name_roles(clerk: TeamsClient) -> None:
    await clerk.click("roles.show")
    keys = clerk.button("roles.save")["data"]["keys"]
    names = {m.aad_object_id: m.name for m in (CLERK, CHAIR, *TRUSTEES, OBSERVER)}
    roles = {}
    for index, key in enumerate(keys):
        role = {CLERK.name: "clerk", CHAIR.name: "chair", OBSERVER.name: "other"}.get(
            names[key], "trustee"
        )
        roles[f"role.{index}"] = role
    assert await clerk.click("roles.save", **roles) == 200
    assert "Roles saved" in clerk.words()


async def open_round(clerk: TeamsClient, **inputs: Any) -> None:
    await clerk.click("board.show")
    await clerk.click("round.new")
    choose = [
        n
        for n in walk(clerk.card)
        if n.get("type") == "Action.Execute" and n["data"].get("fw") == "cst-trust-governance"
    ]
    assert choose
    await clerk.post(clerk.chat.execute("round.form", choose[0]["data"], str(clerk.card_id), {}))
    deadline = (date.today() + timedelta(days=7)).isoformat()
    fields = {
        "elements": ",".join(str(n) for n in ELEMENTS),
        "deadline": deadline,
        "visibility": "anonymous",
        "min": "3",
        "message": "Please complete this before our December meeting.",
        **inputs,
    }
    assert await clerk.click("round.open", **fields) == 200


async def answer(client: TeamsClient, ratings: tuple[str, ...], finish: bool) -> None:
    assert await client.click("start") == 200
    for rating in ratings:
        assert await _rate(client, rating) == 200
    if finish:
        assert await client.click("finish") == 200
        assert "answers are in the board's round" in (client.words() + " ".join(client.texts))


async def _rate(client: TeamsClient, rating: str) -> int:
    nodes = [
        n
        for n in walk(client.card)
        if n.get("type") == "Action.Execute" and n["data"].get("rating") == rating
    ]
    assert nodes, f"no {rating} button"
    evidence = f"Minutes show {rating} for this ({client.chat.user.aad_object_id[:8]})"
    return await client.post(
        client.chat.execute("rate", nodes[0]["data"], str(client.card_id), {"evidence": evidence})
    )


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_a_whole_round_from_set_up_to_agreed_priorities(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    clerk = await set_up_board(board_bot, connector)
    await name_roles(clerk)
    await open_round(clerk)
    # The round card goes to the clerk's own chat, so the channel does not see who answered.
    round_box = await eventually(lambda: inbox(connector, CLERK))
    assert round_box.cards
    invited = [CHAIR, *TRUSTEES]
    for member in invited:
        await eventually(lambda m=member: (b := inbox(connector, m)) and b.cards)
    for member in (CLERK, OBSERVER):
        box = inbox(connector, member)
        assert box is None or all("has opened" not in words(c) for _, c in box.cards)
    creates = [c.body["members"][0]["id"] for c in connector.calls_of("create") if c.ok]
    for member in invited:
        assert creates.count(member.id) == 1, f"{member.name} invited {creates.count(member.id)}×"

    clients = {m.name: personal_client(board_bot, connector, m) for m in invited}
    await asyncio.gather(
        *(
            answer(clients[name], ratings, finish=len(ratings) == len(ELEMENTS))
            for name, ratings in RATINGS.items()
        )
    )

    clerk_chat = personal_client(board_bot, connector, CLERK)
    await clerk_chat.click("round.status")
    card_text = clerk_chat.words()
    assert "Responded 5" in card_text.replace(":", "")
    assert "In progress 1" in card_text.replace(":", "")

    await clerk_chat.click("round.remind")
    assert "Reminder" in clerk_chat.words()
    await eventually(
        lambda: (
            any(
                "reminder" in words(c).lower()
                for _, c in (inbox(connector, TRUSTEES[4]) or []).cards
            )
            if inbox(connector, TRUSTEES[4])
            else False
        )
    )
    # Eve rated two of the four: her reminder says so, rather than looking like a new invitation.
    eve_box = inbox(connector, TRUSTEES[4])
    assert eve_box is not None
    reminder = [c for _, c in eve_box.cards if "reminder" in words(c).lower()][-1]
    assert "2 of 4 rated: carry on where you left off." in words(reminder)
    assert "Carry on" in [n.get("title") for n in walk(reminder)]

    await clerk_chat.click("round.close")
    assert "Round closed" in clerk_chat.words()
    summary = await eventually(
        lambda: [c for _, c in channel_cards(connector) if "Board heat map" in words(c)]
    )
    text = words(summary[-1])
    assert "5 of 6 trustees (83%)" in text
    assert "1 more was in progress" in text
    # Element 1: R R AR AR AR AG (Eve's AR counts): median of six, the weaker middle one → AR.
    assert "Board: AR · R 2 · AR 3 · AG 1 · G 0" in text
    # Element 4: R R AR AR AR → AR; element 2: G G AG G AG G → G.
    assert "Board: G · R 0 · AR 0 · AG 2 · G 4" in text
    assert "Casey" not in text and "Ada Brook" not in text  # anonymous, and the channel never names

    await eventually(lambda: (b := inbox(connector, CHAIR)) and len(b.cards) >= 3 and b)
    chair_client = personal_client(board_bot, connector, CHAIR)
    assert "Save draft" in str(chair_client.card)
    plan = {
        f"{kind}.{n}": f"{kind} for element {n}" for n in (1, 4) for kind in ("actions", "progress")
    }
    assert await chair_client.click("plan.save", **plan) == 200
    assert "Draft saved" in chair_client.words()
    assert await chair_client.click("plan.publish", **plan) == 200
    published = await eventually(
        lambda: [c for _, c in channel_cards(connector) if "agreed by the chair" in words(c)]
    )
    assert "actions for element 4" in words(published[-1])
    assert "Ada Brook" not in words(published[-1])

    # A trustee's answers are locked once the round has closed.
    eve = clients["Eve Frost"]
    assert await _rate(eve, "G") == 200
    assert any("round closed" in t for t in eve.texts), eve.texts
    # Typed, with no card: the round has closed, not "no self-assessment in progress".
    eve.texts.clear()
    assert await eve.say("AG the minutes say so") == 200
    assert any("round closed on" in t for t in eve.texts), eve.texts
    assert not any("no self-assessment in progress" in t for t in eve.texts)

    # Evidence is never written to the logs, even at DEBUG (see conftest's board_bot).
    logs = board_bot.stdout() + board_bot.stderr()
    assert "Minutes show" not in logs and "actions for element" not in logs
    assert "DEBUG" in logs  # the check above looked at a debug log
