"""The set's comparison as a printable page, by signed link, over HTTP: the link is given only in
a member board's chair's and clerks' 1:1 chats (never to the facilitator, never to a channel),
the page says what the comparison card says to that board, names trusts only where the set
shows names, and opens nothing once the board has left or the link is forged."""

from __future__ import annotations

import re

import aiohttp
import pytest
from redis.asyncio import Redis

from tests.boards.scripted import ChatClient, channel_cards, eventually
from tests.sets.trusts import (
    ELM,
    OAK,
    Inboxes,
    personal,
    running_set,
    share_latest_round,
    texts_to,
)
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector
from tests.support.quiet import quiet

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}
LINK = re.compile(r"\[the comparison, to print\]\((http://[^)]+/links/[^)]+)\)")


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with(FAST)


async def fetch(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.content_type, await response.text()


def rows_of(page: str) -> list[tuple[str, ...]]:
    """Each table row of the page as its cells' text, headings included."""
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)
        found.append(tuple(" ".join(c.split()) for c in cells))
    return found


def section(page: str, heading: str) -> list[tuple[str, ...]]:
    part = page.split(f"<h2>{heading}</h2>", 1)[1].split("<h2>", 1)[0]
    return rows_of(part)[1:]


async def focus_and_send(bot: BotApp, redis: Redis, fay: ChatClient, focus: str = "1,5,16") -> None:
    """The facilitator chooses the focus and sends the comparison; the outbox has sent it."""
    assert await fay.say("sets") == 200
    assert await fay.click("set.show") == 200
    assert await fay.click("set.focus", focus=focus) == 200
    assert await fay.click("set.send") == 200
    assert "Comparison on its way to" in fay.words(), fay.words()
    await quiet(bot, redis)


async def test_the_comparison_page_by_signed_link_in_members_chats_only(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await running_set(bot, connector)  # unnamed: Oak is Trust A, Elm Trust B
    await share_latest_round(bot, connector, ELM)
    channels = {t: len(channel_cards(connector, t.team)) for t in (OAK, ELM)}
    await focus_and_send(bot, redis_client, running.facilitator)

    # Each member's chair and clerks get the card and then the link, in their own chats.
    for person in (OAK.chair, OAK.clerk, ELM.chair, ELM.clerk):
        links = [LINK.search(t) for t in texts_to(connector, person)]
        assert len([m for m in links if m]) == 1, person.name
    assert not [t for t in running.facilitator.texts if "/links/" in t]
    assert "/links/" not in running.facilitator.words()
    assert {t: len(channel_cards(connector, t.team)) for t in (OAK, ELM)} == channels

    oak_url = next(m[1] for t in texts_to(connector, OAK.chair) if (m := LINK.search(t)))
    status, kind, page = await fetch(oak_url)
    assert (status, kind) == (200, "text/html")
    # Oak's board ratings R, AR, G, AR on 1, 5, 15, 16; Elm's G, R, AG, AR; focus 1, 5, 16.
    assert section(page, "1. Setting direction") == [
        ("Trust A (your board)", "R", "Red", "first share"),
        ("Trust B", "G", "Green", "first share"),
    ]
    assert section(page, "5. Risk management") == [
        ("Trust A (your board)", "AR", "Amber Red", "first share"),
        ("Trust B", "R", "Red", "first share"),
    ]
    assert section(page, "16. Board effectiveness") == [
        ("Trust A (your board)", "AR", "Amber Red", "first share"),
        ("Trust B", "AR", "Amber Red", "first share"),
    ]
    assert "15. Self-review" not in page
    for hidden in ("Elm Academies", "Oak Learning Trust", "EVIDENCE", "Trustee", "Chair", "Clerk"):
        assert hidden not in page, hidden
    elm_url = next(m[1] for t in texts_to(connector, ELM.clerk) if (m := LINK.search(t)))
    _, _, elm_page = await fetch(elm_url)
    assert section(elm_page, "1. Setting direction")[1] == (
        "Trust B (your board)",
        "G",
        "Green",
        "first share",
    )

    # On screen too: a member's chair opening The comparison gets a fresh link with it.
    oak = personal(bot, connector, OAK.chair, OAK.tenant)
    assert await oak.say("sets") == 200
    assert await oak.click("set.show") == 200
    assert await oak.click("set.compare") == 200
    assert [t for t in oak.texts if LINK.search(t)], oak.texts

    # A forged or damaged token opens nothing; nor does Elm's once Elm has left the set.
    signature = oak_url.rpartition(".")[2]
    forged = oak_url.replace(signature, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB"))
    assert (await fetch(forged))[0] == 404
    elm = personal(bot, connector, ELM.chair, ELM.tenant)
    assert await elm.say("sets") == 200
    assert await elm.click("set.show") == 200
    assert await elm.click("set.leave") == 200
    status, _, text = await fetch(elm_url)
    assert status == 404 and "Trust A" not in text
    # Oak's page, fetched again, no longer has Elm.
    _, _, page = await fetch(oak_url)
    assert section(page, "1. Setting direction") == [
        ("Trust A (your board)", "R", "Red", "first share")
    ]


async def test_a_set_that_shows_names_names_them_on_the_page(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await running_set(bot, connector, named=True)
    await share_latest_round(bot, connector, ELM)
    inboxes = Inboxes()
    inboxes.mark(connector, ELM.chair)
    await focus_and_send(bot, redis_client, running.facilitator)
    url = await eventually(
        lambda: next((m[1] for t in texts_to(connector, ELM.chair) if (m := LINK.search(t))), None),
        what="Elm's link",
    )
    _, _, page = await fetch(url)
    assert section(page, "5. Risk management") == [
        ("Oak Learning Trust", "AR", "Amber Red", "first share"),
        ("Elm Academies (your board)", "R", "Red", "first share"),
    ]
