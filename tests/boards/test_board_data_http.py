"""A board's data over HTTP: the clerk's export link, deleting everything, and retention."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from redis.asyncio import Redis

from tests.boards.conftest import FAST
from tests.boards.scripted import (
    CHAIR,
    CLERK,
    TRUSTEES,
    deliveries_done,
    no_steps_left,
    personal_client,
    summary_gone_out,
)
from tests.boards.scripted import eventually as settles
from tests.boards.test_board_round_http import (
    ELEMENTS,
    answer,
    eventually,
    inbox,
    name_roles,
    open_round,
    set_up_board,
)
from tests.support.activities import TENANT
from tests.support.bot_http import BotHttp
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.redis_server import RedisServer
from tests.support.redis_state import agenda_entries, agenda_key, every_key

LINK = re.compile(r"\((http://[^)]+/links/[^)]+)\)")


async def _round_with_answers(
    bot: BotHttp, connector: FakeConnector, attributed: bool, redis: Redis | None = None
):
    clerk = await set_up_board(bot, connector)
    await name_roles(clerk)
    await open_round(clerk, visibility="attributed" if attributed else "anonymous")
    for member in (CHAIR, *TRUSTEES[:3]):
        await eventually(lambda m=member: (b := inbox(connector, m)) and b.cards)
    clients = [personal_client(bot, connector, m) for m in (CHAIR, *TRUSTEES[:3])]
    ratings = ("AR", "G", "AG", "R")
    await asyncio.gather(*(answer(c, ratings[: len(ELEMENTS)], finish=True) for c in clients))
    clerk_chat = personal_client(bot, connector, CLERK)
    await clerk_chat.click("round.close")
    if redis is not None:  # the summary goes out in the background: wait till Redis is still
        round_id = str(clerk_chat.button("summary.show")["data"]["r"])
        await settles(lambda: summary_gone_out(connector, redis, round_id), what="the summary")
    return clerk_chat


async def _get(url: str) -> tuple[int, object]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        body = await response.json(content_type=None)
        return response.status, body


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_export_respects_anonymity_and_the_link_expires_nowhere_else(
    board_bot: BotHttp,
    connector: FakeConnector,
    redis_client: Redis,
) -> None:
    # Once the summary has gone out: the chair's and clerks' copies, sent in the background,
    # would otherwise reach the clerk's chat during a later turn, in place of the card it shows.
    clerk = await _round_with_answers(board_bot, connector, attributed=False, redis=redis_client)
    await clerk.click("board.show") if clerk.card and "board.show" in str(clerk.card) else None
    clerk.card = None
    await clerk.say("board")
    await clerk.click("data.show")
    assert "Export the board's data" in str(clerk.card)
    await clerk.click("data.export")
    url = LINK.search(" ".join(clerk.texts)).group(1)
    status, body = await _get(url)
    assert status == 200
    rounds = body["rounds"]
    assert len(rounds) == 1 and rounds[0]["invited"] == 6
    assert len(rounds[0]["responses"]) == 4
    assert all("name" not in r for r in rounds[0]["responses"])  # an anonymous round
    assert {m["role"] for m in body["members"]} == {"clerk", "chair", "trustee", "other"}
    # A tampered link opens nothing.
    token = url.rsplit("/", 1)[1]
    forged = url.rsplit("/", 1)[0] + "/" + token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert (await _get(forged))[0] == 404


async def test_a_non_clerk_cannot_export_or_delete(
    board_bot: BotHttp,
    connector: FakeConnector,
    redis_client: Redis,
) -> None:
    clerk = await _round_with_answers(board_bot, connector, attributed=True, redis=redis_client)
    await clerk.say("board")
    data = clerk.button("data.show")["data"]
    chair = personal_client(board_bot, connector, CHAIR)
    before = len(await every_key(redis_client))
    for verb in ("data.show", "data.export", "data.delete"):
        await chair.post(chair.chat.execute(verb, {**data, "verb": verb}, str(chair.card_id)))
        assert any("Only the board's clerk" in t for t in chair.texts), (verb, chair.texts)
    assert len(await every_key(redis_client)) == before


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_deleting_the_board_removes_its_rounds_and_trustees_answers(
    board_bot: BotHttp,
    connector: FakeConnector,
    redis_client: Redis,
) -> None:
    clerk = await _round_with_answers(board_bot, connector, attributed=True, redis=redis_client)
    await clerk.say("board")
    await clerk.click("data.show")
    await clerk.click("data.delete")
    assert "deleted the board's data" in clerk.words()
    keys = await every_key(redis_client)
    assert not [k for k in keys if ":b:" in k and ":dq:" not in k]
    assert not [k for k in keys if ":b:" in k]  # delivery records of the board too
    for member in (CHAIR, *TRUSTEES[:3]):
        profile = await redis_client.hgetall(
            f"tb:{{t:{quote(TENANT, safe='-._~@')}:u:{quote(member.aad_object_id)}}}:profile"
        )
        assert not [f for f in profile if "round:" in f]
    assert not await redis_client.smembers(f"tb:{{t:{TENANT}}}:boards")


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_a_closed_round_is_deleted_when_its_retention_ends(
    board_bot: BotHttp,
    connector: FakeConnector,
    redis_client: Redis,
) -> None:
    await _round_with_answers(board_bot, connector, attributed=False)
    purge = [m for m, _ in await agenda_entries(redis_client) if m.startswith("purge|")]
    assert len(purge) == 1
    # Two years pass: the item comes due.
    await redis_client.zadd(agenda_key(purge[0]), {purge[0]: int(time.time() * 1000)})
    round_id = purge[0].rsplit("|", 1)[1]

    async def gone() -> bool:
        return not [k for k in await every_key(redis_client) if round_id in k]

    for _ in range(100):
        if await gone():
            break
        await asyncio.sleep(0.1)
    assert await gone(), board_bot.stderr()[-3000:]
    for member in (CHAIR, *TRUSTEES[:3]):
        profile = await redis_client.hgetall(
            f"tb:{{t:{quote(TENANT, safe='-._~@')}:u:{quote(member.aad_object_id)}}}:profile"
        )
        assert not [f for f in profile if round_id in f]


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_the_chair_gets_a_board_paper_and_a_ratings_csv_that_name_nobody(
    board_bot: BotHttp, connector: FakeConnector
) -> None:
    await _round_with_answers(board_bot, connector, attributed=True)
    box = await eventually(
        lambda: (
            (b := inbox(connector, CHAIR))
            and any("board paper" in a.get("text", "") for a in connector.sent(b.conversation))
            and b
        )
    )
    text = next(
        a["text"] for a in connector.sent(box.conversation) if "board paper" in a.get("text", "")
    )
    paper_url, csv_url = LINK.findall(text)
    async with aiohttp.ClientSession() as session:
        async with session.get(paper_url) as response:
            assert response.status == 200
            assert response.headers["Cache-Control"] == "no-store"
            html = await response.text()
        async with session.get(csv_url) as response:
            assert response.status == 200
            rows = (await response.text()).strip().splitlines()
    assert "Board self-assessment: Oak Learning Trust board" in html
    assert "Priorities for improvement" in html and "Board" in html
    for member in (CHAIR, *TRUSTEES, CLERK):
        assert member.name not in html  # an attributed round, but a paper names nobody
        assert member.name not in "\n".join(rows)
    assert rows[0] == "round,framework,element,title,rating,rating_name"
    # Four trustees finished four elements each: sixteen ratings, all shown (minimum 3).
    assert len(rows) == 1 + 16


async def test_each_summary_shows_the_change_since_the_boards_previous_round(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    clerk = await set_up_board(board_bot, connector)
    await name_roles(clerk)
    trustees = (CHAIR, *TRUSTEES[:3])
    for rating, change in (("R", None), ("G", "Change: R → G"), ("AG", "Change: G → AG")):
        if "board.show" not in str(clerk.card):
            await clerk.click("roles.show")  # a card with Back to the board, as open_round wants
        await open_round(clerk)
        # Every invitation of this round is in: all queued, and each delivered or given up on.
        await settles(lambda: no_steps_left(redis_client), what="the opening's steps")
        await settles(lambda: deliveries_done(redis_client), what="the invitations")
        for member in trustees:
            await eventually(lambda m=member: (b := inbox(connector, m)) and len(b.cards) >= 1)
        clients = [personal_client(board_bot, connector, m) for m in trustees]
        ratings = (rating,) * len(ELEMENTS)
        await asyncio.gather(*(answer(c, ratings, finish=True) for c in clients))
        before = len(summaries(connector))
        await personal_client(board_bot, connector, CLERK).click("round.close")
        text = (await eventually(lambda n=before: summaries(connector)[n:]))[-1]
        assert f"Board: {rating} · " in text
        if change is None:
            assert "Change:" not in text
        else:  # against the round just before only, not any earlier one
            assert text.count(change) == len(ELEMENTS), text


def summaries(connector: FakeConnector) -> list[str]:
    from tests.boards.scripted import channel_cards, words

    return [words(c) for _, c in channel_cards(connector) if "Board heat map" in words(c)]


async def _listening(bot: BotProcess, timeout: float = 20.0) -> None:
    """Until the process answers HTTP at all: aiohttp runs the app's start-up before it binds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await bot.get("/healthz", timeout=1)
            return
        except (aiohttp.ClientError, OSError, TimeoutError):
            assert asyncio.get_running_loop().time() < deadline, "the bot never listened"
            await asyncio.sleep(0.1)


async def test_a_process_started_while_redis_was_down_gives_links_every_process_opens(
    connector: FakeConnector, tmp_path: Path
) -> None:
    # No LINK_SECRET: the secret is made once, kept in Redis, and read when first needed.
    with RedisServer(tmp_path) as redis:
        await asyncio.to_thread(redis.stop)
        first = BotProcess({"REDIS_URL": redis.url, **FAST})
        starting = asyncio.create_task(asyncio.to_thread(first.start))
        try:
            await _listening(first)  # started, with Redis down
            await asyncio.to_thread(redis.restart)
            await starting
            async with (
                BotProcess({"REDIS_URL": redis.url, **FAST}) as second,
                Redis.from_url(redis.url, decode_responses=True) as client,
            ):
                # Once the summary has gone out (as above), so no late copy takes the card's place.
                clerk = await _round_with_answers(first, connector, attributed=False, redis=client)
                clerk.card = None
                await clerk.say("board")
                await clerk.click("data.show")
                await clerk.click("data.export")
                words = " ".join(clerk.texts)
                assert "not set up" not in words
                url = LINK.search(words).group(1)
                assert (await _get(url))[0] == 200
                # The link made by the first process opens on the second: they share the secret.
                elsewhere = second.url + "/links/" + url.rsplit("/", 1)[1]
                status, body = await _get(elsewhere)
                assert status == 200 and len(body["rounds"]) == 1
        finally:
            await asyncio.to_thread(first.stop)
            first.cleanup()
