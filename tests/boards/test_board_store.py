"""The board store's order of rounds, on a real redis-server and on the embedded store."""

from __future__ import annotations

from dataclasses import replace

from redis.asyncio import Redis

from dialogs.boards.store import BoardStore
from tests.boards.cardkit import board, open_round


async def test_rounds_opened_in_the_same_second_list_in_the_order_they_were_opened(
    redis: Redis,
) -> None:
    store = BoardStore(redis, "tb")
    the_board = board()
    opened = []
    # Ids chosen so that their own order is the reverse of the order they are opened in.
    for round_id in ("ffffffffffff", "888888888888", "000000000000"):
        rnd = replace(open_round(the_board), id=round_id)  # all at the same `opened` second
        assert await store.open_round(the_board.tenant, the_board.id, rnd) is None
        assert await store.close_round(
            the_board.tenant, the_board.id, round_id, rnd.opened, "clerk"
        )
        opened.append(round_id)
    assert await store.rounds(the_board.tenant, the_board.id) == opened


async def test_a_later_round_comes_after_an_earlier_one(redis: Redis) -> None:
    store = BoardStore(redis, "tb")
    the_board = board()
    first = replace(open_round(the_board), id="ffffffffffff", opened="2026-11-20T09:00:00Z")
    second = replace(open_round(the_board), id="000000000000", opened="2026-11-23T09:00:00Z")
    for rnd in (first, second):
        assert await store.open_round(the_board.tenant, the_board.id, rnd) is None
        await store.close_round(the_board.tenant, the_board.id, rnd.id, rnd.opened, "clerk")
    assert await store.rounds(the_board.tenant, the_board.id) == [first.id, second.id]
    key = store.keys.rounds(the_board.tenant, the_board.id)
    assert await redis.zscore(key, second.id) == 20261123090000  # still the time it opened
