"""Nothing a person typed reaches the logs, even at DEBUG and even when things go wrong.

One marker, unique to the run, goes into every input a person controls (message text, evidence,
card inputs, display names, the team's name, forged card data and activity fields) and into
every error path (a store that stops, Teams answering 503 with the marker in its error message,
tampered cards, bodies that are not activities). Then no log line may hold it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.boards.conftest import FAST
from tests.boards.scripted import eventually, inbox, personal_client, roster
from tests.boards.test_board_round_http import ELEMENTS, open_round
from tests.dialogs.cardkit import walk
from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat, channel, user
from tests.support.bot_app import BotApp
from tests.support.fake_connector import FakeConnector, error_body
from tests.support.redis_server import RedisServer

MARKER = f"QZX{secrets.token_hex(6)}"  # in no file and no id the bot makes itself

CLERK = user(f"Casey {MARKER}")
CHAIR = user(f"Sam {MARKER}")
TRUSTEES = [user(f"Trustee{n} {MARKER}") for n in range(1, 4)]
TEAM = f"Board of {MARKER} [link](https://phish.example/{MARKER})"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    with RedisServer(tmp_path) as started:
        yield started


@pytest.fixture
async def bot(server: RedisServer) -> AsyncIterator[BotApp]:
    env = {"REDIS_URL": server.url, **FAST, "LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json"}
    async with BotApp(env) as app:
        yield app


def forged(client: TeamsClient, verb: str, **data: Any) -> dict[str, Any]:
    """A click on the card on screen with its data replaced by the marker wherever asked."""
    assert client.card_id
    return client.chat.execute(verb, {"verb": verb, **data}, client.card_id)


def buttons(card: dict[str, Any] | None, verb: str) -> list[dict[str, Any]]:
    return [
        n["data"]
        for n in walk(card or {})
        if n.get("type") == "Action.Execute" and n["data"].get("verb") == verb
    ]


async def set_up(bot: BotApp, connector: FakeConnector) -> TeamsClient:
    connector.set_roster(roster(CLERK, CHAIR, *TRUSTEES))
    clerk = TeamsClient(
        bot, connector, Chat(service_url=connector.url, user=CLERK, conversation=channel(TEAM))
    )
    assert await clerk.post(clerk.chat.bot_added()) == 200
    await clerk.say(f"board {MARKER}")  # not a word it knows, in the channel
    await clerk.say("board")
    assert await clerk.click("board.setup") == 200
    await clerk.click("roles.show")
    keys = clerk.button("roles.save")["data"]["keys"]
    names = {m.aad_object_id: m for m in (CLERK, CHAIR, *TRUSTEES)}
    tampered = {f"role.{i}": MARKER for i in range(len(keys))}
    assert await clerk.click("roles.save", **tampered) == 200
    roles = {
        f"role.{i}": {CLERK: "clerk", CHAIR: "chair"}.get(names[key], "trustee")
        for i, key in enumerate(keys)
    }
    assert await clerk.click("roles.save", **roles) == 200
    return clerk


async def a_trustee_types_and_forges(bot: BotApp, connector: FakeConnector) -> TeamsClient:
    await eventually(lambda: (box := inbox(connector, TRUSTEES[0])) and box.cards)
    ada = personal_client(bot, connector, TRUSTEES[0])
    assert await ada.click("start") == 200
    rate = buttons(ada.card, "rate")[0]
    evidence = {"evidence": f"Minutes of {MARKER}: strategy agreed"}
    await ada.post(ada.chat.execute("rate", rate, str(ada.card_id), evidence))
    for text in (MARKER, f"start {MARKER}", f"start ²{MARKER}", f"go to {MARKER}", f"R {MARKER}"):
        await ada.say(text)
    # Forged card data: every field the marker, and fields the card never has.
    for verb in ("rate", "pause", "review", "skip", "back", "start", "finish", MARKER):
        await ada.post(
            forged(ada, verb, element=MARKER, assessment=MARKER, rating=MARKER, fw=MARKER)
        )
    await ada.post(ada.chat.submit({"verb": "rate", MARKER: MARKER}, MARKER, {"x": MARKER}))
    return ada


async def the_clerk_forges(clerk: TeamsClient) -> None:
    for verb in ("round.close", "round.extend", "round.remind", "data.export", "plan.save"):
        await clerk.post(forged(clerk, verb, board=MARKER, round=MARKER, deadline=MARKER))
    await clerk.click("round.extend", deadline=MARKER) if buttons(
        clerk.card, "round.extend"
    ) else None


async def bad_bodies(bot: BotApp, connector: FakeConnector) -> None:
    chat = Chat(service_url=connector.url, user=TRUSTEES[1])
    activity = chat.message(MARKER)
    await bot.post_raw(f'{{"type": "message", "text": "{MARKER}"'.encode())
    await bot.post_raw(MARKER.encode(), content_type="text/plain")
    for field, value in (
        ("text", {MARKER: MARKER}),
        ("type", MARKER),
        ("serviceUrl", MARKER),
        ("replyToId", [MARKER]),
        ("name", 7),
    ):
        await bot.post({**activity, field: value})
    # Every id Teams sends, forged: the activity's, the reply's, the conversation's name.
    await bot.post({**activity, "id": MARKER, "replyToId": MARKER, "locale": MARKER})
    await bot.post([MARKER])
    await bot.post(activity, headers={"Authorization": f"Bearer {MARKER}"})
    await bot.get(f"/links/{MARKER}")
    await bot.get(f"/links/{MARKER}.{MARKER}")


async def test_a_marker_typed_everywhere_and_through_every_failure_is_in_no_log_line(
    bot: BotApp, connector: FakeConnector, server: RedisServer
) -> None:
    clerk = await set_up(bot, connector)
    await open_round(clerk, message=f"Before our meeting, {MARKER}", min=MARKER)
    fields = {
        "elements": ",".join(str(n) for n in ELEMENTS),
        "deadline": (date.today() + timedelta(days=7)).isoformat(),
        "visibility": "anonymous",
        "min": "3",
        "message": f"Before our meeting, {MARKER}",
    }
    await clerk.click("round.open", **{**fields, "deadline": MARKER, "elements": MARKER})
    assert await clerk.click("round.open", **fields) == 200
    ada = await a_trustee_types_and_forges(bot, connector)
    await the_clerk_forges(clerk)
    await bad_bodies(bot, connector)

    # Teams refuses with the marker in its own error message (as if it quoted what was sent).
    echo = error_body("ServiceError", f"could not deliver '{MARKER}'")
    connector.fail_next(2, 503, body=echo)
    await ada.say("status")
    await clerk.say("board")
    await clerk.click("data.show")
    connector.fail_next(1, 503, body=echo, kinds=["create"])
    await clerk.click("data.export")  # the link goes to the clerk's 1:1 chat, refused
    assert "couldn't open our 1:1 chat" in " ".join(clerk.texts)
    await clerk.say("board")
    connector.fail_next(1, 403, body=error_body("Forbidden", MARKER), kinds=["create"])
    await ada.click("start") if buttons(ada.card, "start") else await ada.say("hi")

    # The store stops mid-round: answers and board actions are refused.
    await asyncio.to_thread(server.stop)
    rate = buttons(ada.card, "rate") or [{"verb": "rate", "element": 2, "rating": "G"}]
    await ada.post(
        ada.chat.execute("rate", rate[0], str(ada.card_id), {"evidence": f"Down: {MARKER}"})
    )
    await clerk.post(forged(clerk, "round.close", board=MARKER, round=MARKER))
    await clerk.post(clerk.chat.bot_added())
    await ada.post(ada.chat.bot_added())
    await asyncio.to_thread(server.restart)
    await clerk.say("board")
    if buttons(clerk.card, "round.close"):
        await clerk.click("round.close")

    logs = bot.logs()
    lines = logs.splitlines()
    assert len(lines) > 50  # DEBUG: every turn, every delivery
    expected_lines = (
        "store unavailable",
        "could not open a chat with the clerk: HTTP 503 ServiceError",
        "unhandled error",
        "delivery ",
        "refused a request to the bot",
    )
    for expected in expected_lines:
        assert expected in logs, f"no {expected!r} line: the failure path did not run"
    leaked = [line for line in lines if MARKER in line]
    assert leaked == [], "\n".join(leaked[:5])
    assert all(json.loads(line) for line in lines)  # one JSON object a line, all of them
