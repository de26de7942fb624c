"""The 1:1 chat the outbox opens for a board's message is remembered on the board (so a reminder
goes without opening it again), and forgotten when its trustee says forget me, leaves the team,
or the board is deleted."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.app import DESK
from tests.boards.scripted import CHAIR, TRUSTEES, eventually, inbox, personal_client
from tests.boards.test_board_round_http import name_roles, open_round, set_up_board
from tests.http.teams_client import TeamsClient
from tests.support.bot_app import BotApp
from tests.support.fake_connector import FakeConnector

ADA, BEN = TRUSTEES[0], TRUSTEES[1]
INVITED = (CHAIR, *TRUSTEES)


async def remembered(redis: Redis) -> dict[str, str]:
    """Every board's remembered chats, Teams id -> conversation id."""
    found: dict[str, str] = {}
    async for key in redis.scan_iter(match="*:dq:chats"):
        found.update(await redis.hgetall(key))
    return found


async def everyones(redis: Redis) -> dict[str, str] | None:
    """The remembered chats once every invited member's is there."""
    found = await remembered(redis)
    return found if {m.id for m in INVITED} <= found.keys() else None


def invited(connector: FakeConnector) -> bool:
    return all((box := inbox(connector, m)) is not None and box.cards for m in INVITED)


async def round_opened(
    bot: BotApp, connector: FakeConnector, redis: Redis
) -> tuple[TeamsClient, dict[str, str]]:
    """A board whose round has invited everyone; the clerk's client and the chats remembered."""
    clerk = await set_up_board(bot, connector)
    await name_roles(clerk)
    await open_round(clerk)
    await eventually(lambda: invited(connector), what="every invitation")
    chats = await eventually(lambda: everyones(redis), what="every chat remembered")
    return clerk, chats


async def test_forget_me_forgets_the_chat_remembered_for_the_board_and_no_one_elses(
    board_bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    _, chats = await round_opened(board_bot, connector, redis_client)
    assert set(chats) == {m.id for m in INVITED}
    for member in INVITED:
        box = inbox(connector, member)
        assert box is not None and chats[member.id] == box.conversation

    ada = personal_client(board_bot, connector, ADA)
    assert await ada.say("forget me") == 200
    assert await ada.click("forget.confirm") == 200
    after = await remembered(redis_client)
    assert ADA.id not in after
    assert after == {k: v for k, v in chats.items() if k != ADA.id}


async def test_leaving_the_team_and_deleting_the_board_forget_the_chats(
    board_bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    clerk, _ = await round_opened(board_bot, connector, redis_client)
    desk = board_bot.app[DESK]
    tenant = clerk.chat.tenant
    assert clerk.chat.conversation is not None and clerk.chat.conversation.team_id
    board = clerk.chat.conversation.team_id
    await desk.boards.remove_members(tenant, board, [BEN.aad_object_id])
    assert BEN.id not in await remembered(redis_client)
    assert ADA.id in await remembered(redis_client)

    board_now = await desk.boards.board(tenant, board)
    assert board_now is not None
    await desk.delete_board(board_now)
    assert await remembered(redis_client) == {}
