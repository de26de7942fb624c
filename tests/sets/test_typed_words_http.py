"""The manifest's learning-set commands as Teams inserts them: `join set` arrives before anyone
has typed the code, and gets how to join, with nothing stored."""

from __future__ import annotations

from redis.asyncio import Redis

from tests.sets.trusts import CST_TENANT, FACILITATOR, OAK, personal, set_up_board
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector


async def test_join_set_without_a_code_says_how_to_join_and_changes_nothing(
    bot_app: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    await set_up_board(bot_app, connector, OAK)
    before = sorted([k async for k in redis_client.scan_iter()])
    chair = personal(bot_app, connector, OAK.chair, OAK.tenant)
    assert await chair.say("join set") == 200
    said = chair.said()
    assert "type join set and the code the set's facilitator gave you" in said, said
    assert "Nothing was changed" in said
    assert sorted([k async for k in redis_client.scan_iter()]) == before


async def test_sets_and_new_set_from_the_command_list(
    bot_app: BotHttp, connector: FakeConnector
) -> None:
    fay = personal(bot_app, connector, FACILITATOR, CST_TENANT)
    assert await fay.say("sets") == 200
    assert fay.button("set.new"), fay.words()
    assert await fay.say("new set") == 200
    assert fay.button("set.create"), fay.words()
