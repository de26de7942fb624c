"""The bot removed from a board's team (issue 11, part 3): the board is detached, posts nothing
more to the channel, its clerks are told and can finish privately, its data is deleted after
BOARD_DETACHED_RETENTION_DAYS, and adding the bot back reattaches it with its history.

The removal comes as Teams sends it (an installationUpdate with action remove, and a
conversationUpdate with the bot in membersRemoved); timed work is driven by moving its agenda
item to now, never by waiting for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.boards.scripted import (
    BOARD_TEAM,
    CHAIR,
    CLERK,
    HEAT_MAP,
    agenda_item,
    answer_round,
    channel_client,
    chat_client,
    clerk_desk,
    due_now,
    eventually,
    invitations,
    open_round_here,
    personal_cards,
    reminders,
    round_hash,
    set_up,
    settled,
)
from tests.support.activities import channel, user
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector
from tests.support.redis_state import agenda_entries, agenda_key
from tests.support.team_events import bot_removed, installation

ADA, BEN = user("Ada Brook"), user("Ben Carr")
TEAM = channel(BOARD_TEAM)
DETACHED = "I was removed from the board's team"
FORGET = "forget-board|"


async def post(bot: BotHttp, activity: dict[str, Any]) -> None:
    status, _ = await bot.post(activity)
    assert status in (200, 201), status


async def remove_the_bot(bot: BotHttp, connector: FakeConnector) -> None:
    """An uninstallation, as Teams reports it: both events, in this order."""
    await post(bot, installation(connector.url, TEAM, CLERK, "remove"))
    await post(bot, bot_removed(connector.url, TEAM, CLERK))


async def _no_summary_item(redis: Redis, round_id: str) -> bool:
    return await agenda_item(redis, "summary", round_id) is None


async def board_hash(redis: Redis) -> dict[str, str]:
    keys = [k async for k in redis.scan_iter("*:board")]
    return await redis.hgetall(keys[0]) if keys else {}


async def forget_item(redis: Redis) -> tuple[str, float] | None:
    found = [(m, s) for m, s in await agenda_entries(redis)]
    return next(((m, s) for m, s in found if m.startswith(FORGET)), None)


def channel_calls(connector: FakeConnector) -> int:
    return len(connector.calls_of("send", "reply", "update", conversation_id=TEAM.id))


async def a_round_in_progress(bot: BotHttp, connector: FakeConnector) -> tuple[Any, str]:
    """Chair, Ada and Ben invited to a round on element 1; Ada has answered."""
    invited = [CHAIR, ADA, BEN]
    await set_up(bot, connector, CLERK, invited, chair=CHAIR)
    desk = await clerk_desk(bot, connector, CLERK)
    round_id = await open_round_here(desk, elements="1")
    await eventually(lambda: all(invitations(connector, m) for m in invited), what="invitations")
    await answer_round(chat_client(bot, connector, ADA), ("G",), finish=True)
    return desk, round_id


async def test_the_rounds_timed_work_posts_nothing_to_the_channel_once_the_bot_is_removed(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    _, round_id = await a_round_in_progress(board_bot, connector)

    await remove_the_bot(board_bot, connector)

    assert (await board_hash(redis_client)).get("detached")
    # The clerk is told once (two events, one removal), in their 1:1 chat.
    await eventually(lambda: settled(redis_client, 4), what="three invitations and one notice")
    assert len(personal_cards(connector, CLERK, DETACHED)) == 1
    assert not personal_cards(connector, CHAIR, DETACHED)
    posted_in_channel = channel_calls(connector)

    # The automatic reminder's time comes: nobody is reminded.
    remind = await due_now(redis_client, "remind", round_id)
    await eventually(lambda: _absent(redis_client, remind), what="the reminder's turn")
    # The deadline comes: the round closes; its summary goes to the chair and the clerk only.
    await due_now(redis_client, "close", round_id)
    await eventually(
        lambda: (
            personal_cards(connector, CHAIR, HEAT_MAP)
            and personal_cards(connector, CLERK, HEAT_MAP)
        ),
        what="the summary to the chair, and to the clerk (who cannot see the channel's copy)",
    )
    assert (await round_hash(redis_client, round_id))["status"] == "closed"
    # The summary's backstop stays on the agenda only until the copies are delivered.
    await eventually(
        lambda: _no_summary_item(redis_client, round_id), what="no summary retry left queued"
    )
    assert channel_calls(connector) == posted_in_channel
    assert reminders(connector, BEN) == 0
    assert await settled(redis_client, 4)  # and nothing else queued


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_clerks_close_privately_and_the_data_goes_after_the_retention_period(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    desk, _ = await a_round_in_progress(board_bot, connector)
    await remove_the_bot(board_bot, connector)
    detached = (await board_hash(redis_client))["detached"]

    # The data is kept for BOARD_DETACHED_RETENTION_DAYS (30) from the removal.
    found = await forget_item(redis_client)
    assert found is not None
    removed = datetime.fromisoformat(detached.replace("Z", "+00:00"))
    assert found[1] == (removed + timedelta(days=30)).timestamp() * 1000

    # What would reach the team or trustees is refused, from the clerk's old round card.
    assert await desk.click("round.remind") == 200
    assert "removed from this board's team" in desk.said(), desk.said()

    # From the card that told them, in their 1:1 chat, the clerk closes the round.
    clerk = await eventually(
        lambda: (
            personal_cards(connector, CLERK, DETACHED) and chat_client(board_bot, connector, CLERK)
        ),
        what="the clerk told",
    )
    assert DETACHED in clerk.words()
    posted_in_channel = channel_calls(connector)
    assert await clerk.click("round.close") == 200
    assert "nothing went to its channel" in clerk.said(), clerk.said()
    # The summary's copies go through the outbox, a role job handed on to each holder: they may
    # arrive just after the reply (on a cluster, each worker reads every shard in turn).
    await eventually(
        lambda: (
            personal_cards(connector, CLERK, HEAT_MAP)
            and personal_cards(connector, CHAIR, HEAT_MAP)
        ),
        what="the summary in the clerk's and the chair's chats",
    )
    assert channel_calls(connector) == posted_in_channel

    # The board's data can still be exported, from the board as the clerk's chat shows it.
    assert await clerk.say("board") == 200
    assert DETACHED in clerk.words()
    assert await clerk.click("data.export") == 200
    assert "download it" in clerk.said(), clerk.said()

    # The retention period ends: everything of the board goes, the trustees' answers too.
    seconds, micros = await redis_client.time()
    await redis_client.zadd(agenda_key(found[0]), {found[0]: seconds * 1000 + micros // 1000})
    await eventually(lambda: _board_gone(redis_client), what="the board's data deleted")
    assert not [k async for k in redis_client.scan_iter("*:sa:*")]  # Ada's answers in the round
    assert await forget_item(redis_client) is None


async def test_the_bot_added_back_reattaches_the_board_with_its_history(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    desk, round_id = await a_round_in_progress(board_bot, connector)
    await remove_the_bot(board_bot, connector)
    assert await forget_item(redis_client) is not None

    # Added back: an installationUpdate add, and the bot in membersAdded in the channel.
    await post(board_bot, installation(connector.url, TEAM, CLERK, "add"))
    in_channel = channel_client(board_bot, connector, CLERK)
    assert await in_channel.post(in_channel.chat.bot_added()) in (200, 201)

    assert "detached" not in await board_hash(redis_client)
    assert await forget_item(redis_client) is None  # nothing will delete it now
    assert (await round_hash(redis_client, round_id))["status"] == "open"  # the round carries on
    assert "Round open" in in_channel.words(), in_channel.words()  # the board card, posted again
    # The clerk runs the round again as before: a reminder goes to Ben.
    assert await desk.click("round.status") == 200
    assert await desk.click("round.remind") == 200
    assert "Reminder on its way to 2 trustees" in desk.words(), desk.words()
    await eventually(lambda: reminders(connector, BEN) == 1, what="Ben's reminder")


async def _absent(redis: Redis, item: str) -> bool:
    return await redis.zscore(agenda_key(item), item) is None


async def _board_gone(redis: Redis) -> bool:
    return not [k async for k in redis.scan_iter("*:b:*")]
