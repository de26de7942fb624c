"""Consent and data protection in a learning set, over HTTP across tenants: nothing leaves a
board until its chair presses Share for that result; a rating fewer than three trustees gave
never leaves; the chair's own self-assessment can be shared and `forget me` withdraws it; the
board's data export lists what it shared; deleting the board takes its shares out of every set;
and a set is deleted when its retention period ends."""

from __future__ import annotations

import json
import re

import aiohttp
import pytest
from redis.asyncio import Redis

from tests.boards.scripted import eventually
from tests.sets.trusts import (
    ASH,
    ELM,
    OAK,
    Running,
    by_name,
    clerk_chat,
    join,
    personal,
    run_round,
    running_set,
    share_latest_round,
    texts_to,
)
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector
from tests.support.redis_state import agenda_key, every_key

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}
LINK = re.compile(r"\((http://[^)]+/links/[^)]+)\)")


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with(FAST)


async def shares(redis: Redis, running: Running) -> dict[str, dict]:
    raw = await redis.hgetall(f"tb:{{set:{running.set_id}}}:shares")
    return {k: json.loads(v) for k, v in raw.items() if not k.endswith(":prev")}


def board_key(t) -> str:  # type: ignore[no-untyped-def]
    from dialogs.sets.model import member_key

    return member_key(t.tenant, t.team_id)


async def test_nothing_leaves_a_board_until_its_chair_presses_share(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await running_set(bot, connector, share=False)
    # Both boards joined and each has a closed round: the set holds no rating of either.
    assert await shares(redis_client, running) == {}
    set_keys = [k async for k in redis_client.scan_iter(match=f"*{{set:{running.set_id}}}*")]
    stored = json.dumps([await redis_client.hgetall(k) for k in set_keys if "code" not in k])
    assert (
        "EVIDENCE" not in stored
        and "Trustee" not in stored
        and "Chair" not in stored.replace("North West chairs", "")
    )
    # Looking at what could be shared shares nothing.
    chair = personal(bot, connector, OAK.chair, OAK.tenant)
    assert await chair.say("sets") == 200
    assert await chair.click("set.show") == 200
    assert await chair.click("set.offer") == 200
    offer = chair.words()
    assert "1. Setting direction: Red" in offer and "16. Board effectiveness: Amber Red" in offer
    assert "EVIDENCE" not in offer
    assert await shares(redis_client, running) == {}
    # Pressing Share for that round shares its four board ratings, and nothing else.
    assert await chair.click("set.share") == 200
    found = await shares(redis_client, running)
    assert list(found) == [board_key(OAK)]
    share = found[board_key(OAK)]
    assert share["ratings"] == {"1": "R", "5": "AR", "15": "G", "16": "AR"}
    assert share["source"] == "round" and share["ref"] == running.rounds[OAK.name]
    assert set(share) == {"ratings", "at", "source", "ref", "by"}
    assert OAK.chair.aad_object_id not in json.dumps(share)  # who pressed it, only as a digest


async def test_an_element_fewer_than_three_trustees_rated_is_never_shared(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await running_set(bot, connector)
    # Ash's round, with the fewest responses at 1: element 1 rated by four, element 16 by two.
    ratings = by_name(ASH, [("AR", "R"), ("AR", "R"), ("G",), ("AG",)])
    await run_round(bot, connector, ASH, ratings, (1, 16), min="1")
    assert "joined" in await join(bot, connector, ASH.chair, ASH.tenant, running.code)
    chair = personal(bot, connector, ASH.chair, ASH.tenant)
    assert await chair.say("sets") == 200
    assert await chair.click("set.show") == 200
    assert await chair.click("set.offer") == 200
    offer = chair.words()
    assert "1. Setting direction: Amber Red" in offer
    assert "16. Board effectiveness" not in offer
    assert "1 element is not shared: fewer than three trustees rated it" in offer
    assert await chair.click("set.share") == 200
    assert (await shares(redis_client, running))[board_key(ASH)]["ratings"] == {"1": "AR"}


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_the_chairs_own_self_assessment_and_forget_me(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await running_set(bot, connector)
    chair = personal(bot, connector, ELM.chair, ELM.tenant)
    assert await chair.say("start governance") == 200
    for rating in ("G", "AR"):
        assert await chair.say(f"{rating} my own view, EVIDENCE-self") == 200
    assert await chair.say("finish") == 200
    assert await chair.say("sets") == 200
    assert await chair.click("set.show") == 200
    assert await chair.click("set.offer") == 200
    assert "Your own self-assessment, finished" in chair.words()
    share = [b for b in _buttons(chair.card, "set.share") if b["data"]["src"] == "self"]
    assert share, chair.words()
    activity = chair.chat.execute("set.share", share[0]["data"], str(chair.card_id))
    assert await chair.post(activity) == 200
    assert "Shared with the set: 2 ratings" in chair.words()
    found = await shares(redis_client, running)
    assert found[board_key(ELM)]["ratings"] == {"1": "G", "2": "AR"}
    assert found[board_key(ELM)]["source"] == "self"
    assert "EVIDENCE" not in json.dumps(found)
    # Forget me: the share of their own self-assessment goes; Oak's round share stays.
    assert await chair.say("forget me") == 200
    assert await chair.click("forget.confirm") == 200
    found = await shares(redis_client, running)
    assert list(found) == [board_key(OAK)]
    assert await every_key(redis_client, "*:setshares") == []


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_the_export_lists_what_the_board_shared_and_deleting_the_board_withdraws_it(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await running_set(bot, connector)
    clerk = await clerk_chat(bot, connector, OAK)
    assert await clerk.click("data.show") == 200
    assert await clerk.click("data.export") == 200
    url = LINK.search(" ".join(clerk.texts))
    assert url, clerk.texts
    async with aiohttp.ClientSession() as session, session.get(url[1]) as response:
        assert response.status == 200
        exported = json.loads(await response.text())
    (entry,) = exported["learning_sets"]
    assert entry["set"] == "North West chairs" and entry["set_id"] == running.set_id
    assert entry["shared"]["from"] == "round"
    assert entry["shared"]["ratings"] == {"1": "R", "5": "AR", "15": "G", "16": "AR"}
    assert "Elm" not in json.dumps(entry)  # the set's other members are not the board's data

    # Elm shares too; then Oak's clerk deletes Oak's data: Oak leaves the set, its share goes.
    await share_latest_round(bot, connector, ELM)
    assert await clerk.say("board") == 200
    assert await clerk.click("data.show") == 200
    assert await clerk.click("data.delete") == 200
    assert list(await shares(redis_client, running)) == [board_key(ELM)]
    members = await redis_client.hgetall(f"tb:{{set:{running.set_id}}}:members")
    assert list(members) == [board_key(ELM)]
    assert not [k async for k in redis_client.scan_iter(match="*:b:*") if OAK.team_id[3:12] in k]


async def test_a_set_is_deleted_when_its_retention_period_ends(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await running_set(bot, connector)
    item = f"set|purge|{running.set_id}"
    due = await redis_client.zscore(agenda_key(item), item)
    seconds, _ = await redis_client.time()
    days = (due / 1000 - seconds) / 86400
    assert 729.99 < days < 730.01  # ROUND_RETENTION_DAYS after the last share
    await redis_client.zadd(agenda_key(item), {item: seconds * 1000})
    await eventually(
        # The set's own keys; each board keeps its delivery record of the notice (see
        # test_learning_set_http), not what it said.
        lambda: _none(redis_client, f"*{{set:{running.set_id}}}*"),
        what="the set's keys to go",
    )
    assert await every_key(redis_client, "*{setcode}*") == []
    # The members are told after the keys are gone: wait for the message, not a while.
    told = await eventually(
        lambda: [t for t in texts_to(connector, OAK.chair) if "retention period" in t],
        what="Oak's chair to be told",
    )
    assert told == [
        "The learning set North West chairs has been deleted at the end of its retention "
        "period: it and everything its members shared are deleted."
    ]


async def _none(redis: Redis, pattern: str) -> bool:
    return not [k async for k in redis.scan_iter(match=pattern)]


def _buttons(card: dict | None, verb: str) -> list[dict]:
    from tests.dialogs.cardkit import walk

    return [
        n for n in walk(card or {}) if n.get("type") == "Action.Execute" and n.get("verb") == verb
    ]
