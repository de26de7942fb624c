"""Self versus peer in the reviewed board's board paper, over HTTP: once a peer from another
trust has finished reviewing Oak's board, the paper reached by the chair's signed link has a
section with the round's board rating beside the peer's, two or more steps apart flagged, the
peer's evidence as key issues and never the reviewer's name; and an element the peer rated two
or more steps weaker, not yet a priority, is offered as a seed for the priorities."""

from __future__ import annotations

import re

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.app import DESK
from tests.boards.scripted import eventually, words
from tests.boards.test_board_permissions import click
from tests.sets.test_peer_review_http import card_with, review
from tests.sets.trusts import ELM, OAK, cards_to, personal, proactive, running_set, texts_to
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector
from tests.support.quiet import quiet

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}
PAPER = re.compile(r"\[the board paper, to print\]\((http://[^)]+/links/[^)]+)\)")


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with(FAST)


async def paper(connector: FakeConnector) -> str:
    url = await eventually(
        lambda: next(
            (m[1] for t in texts_to(connector, OAK.chair) if (m := PAPER.search(t))), None
        ),
        what="the board paper's link",
    )
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        return await response.text()


def peer_rows(page: str) -> list[tuple[str, ...]]:
    assert "<h2>Self versus peer" in page, page[-2000:]
    part = page.split("<h2>Self versus peer", 1)[1].split("<h2>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", part, flags=re.S)[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        rows.append(tuple(" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells))
    return rows


async def test_self_versus_peer_is_a_section_of_the_board_paper_and_seeds_priorities(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await running_set(bot, connector)  # Oak's round: R, AR, G, AR on 1, 5, 15 and 16
    before = await paper(connector)
    assert "Self versus peer" not in before  # no review yet

    oak = personal(bot, connector, OAK.chair, OAK.tenant)
    assert await oak.say("sets") == 200
    assert await oak.click("set.show") == 200
    assert await oak.click("review.new") == 200
    assert await oak.click("review.ask", elements="1,5,15", reviewer="B") == 200
    await quiet(bot, redis_client)  # the invitation goes through the outbox
    elm = proactive(bot, connector, ELM.chair, ELM.tenant)
    elm.card_id, elm.card = card_with(connector, ELM.chair, "Rate Oak Learning Trust's board")
    await review(
        elm,
        [
            ("G", "PEER-Elm: a clear strategy, seen at the away day"),
            ("AR", ""),
            ("AR", "PEER-Elm: no self-review in five years"),
        ],
        "Peer review: rate Oak Learning Trust's board",
    )
    await bot.app[DESK].settle()
    await quiet(bot, redis_client)

    page = await paper(connector)
    assert peer_rows(page) == [
        (
            "1. Setting direction ⚑ two or more steps apart",
            "R",
            "G",
            "PEER-Elm: a clear strategy, seen at the away day",
        ),
        ("5. Risk management", "AR", "AR", "None noted."),
        (
            "15. Self-review ⚑ peer two or more steps weaker",
            "G",
            "AR",
            "PEER-Elm: no self-review in five years",
        ),
    ]
    assert (
        "A peer rated these two or more steps weaker than the board, and they are not among the "
        "priorities: 15. Self-review." in page
    )
    assert ELM.chair.name not in page and "Elm Academies" not in page
    # The chair's plan card, from Show the summary, offers the same seed.
    said = await click(
        bot,
        connector,
        OAK.chair,
        "summary.show",
        {"b": OAK.team_id, "r": running.rounds[OAK.name]},
        tenant=OAK.tenant,
    )
    assert (
        "A peer review rated these two or more steps weaker than the board did, and they are "
        "not among the priorities: 15. Self-review." in said.text
    ), said.text
    assert "⚑ A peer review rated this" not in said.text  # no priority was rated weaker
    # The reviewer's own board paper has no section of Oak's review.
    assert "PEER-Elm" not in "\n".join(texts_to(connector, ELM.chair))


async def test_self_versus_peer_waits_out_a_busy_teams_in_the_outbox(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    await running_set(bot, connector)
    oak = personal(bot, connector, OAK.chair, OAK.tenant)
    assert await oak.say("sets") == 200
    assert await oak.click("set.show") == 200
    assert await oak.click("review.new") == 200
    assert await oak.click("review.ask", elements="1,5", reviewer="B") == 200
    await quiet(bot, redis_client)  # the invitation goes through the outbox
    elm = proactive(bot, connector, ELM.chair, ELM.tenant)
    elm.card_id, elm.card = card_with(connector, ELM.chair, "Rate Oak Learning Trust's board")
    # Teams is busy for Oak's chair: the card is sent when it takes it, not lost.
    connector.throttle(3, retry_after=0.2, kinds=["send"])
    await review(
        elm, [("G", "PEER-Elm: clear"), ("AR", "")], "Peer review: rate Oak Learning Trust's board"
    )
    await bot.app[DESK].settle()
    await quiet(bot, redis_client)
    for who in (OAK.chair, OAK.clerk):
        got = [c for _, c in cards_to(connector, who) if "self versus peer" in words(c)]
        assert len(got) == 1, who.name
