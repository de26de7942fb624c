"""Deleting a board on a Redis Cluster: a SCAN for its keys visits every master, so whichever
master holds the board's slot, every key of the board goes and no other board's does."""

from __future__ import annotations

from dataclasses import replace

from redis.asyncio import Redis

from bot.delivery import Outbox
from dialogs.boards.store import BoardStore
from dialogs.store import Keys
from tests.boards.cardkit import board, open_round
from tests.delivery.conftest import make_job
from tests.support.redis_cluster import RedisCluster
from tests.support.redis_state import every_key

TENANT = "tenant-a"


def boards_on_every_master(cluster: RedisCluster) -> dict[int, str]:
    """A board id for each master (by port), its keys held there."""
    keys, found, n = Keys(), {}, 0
    masters = {node.port for node in cluster.masters()}
    while set(found) != masters:
        board_id = f"19:team-{n}@thread.tacv2"
        n += 1
        port = cluster.master_of_slot(cluster.slot_of(keys.board(TENANT, board_id))).port
        found.setdefault(port, board_id)
    return found


async def fill(redis: Redis, board_id: str) -> None:
    boards, outbox = BoardStore(redis), Outbox(redis)
    the_board = replace(board(), tenant=TENANT, id=board_id)
    assert await boards.ensure(TENANT, board_id, "2026-11-20T09:00:00Z", {"name": board_id})
    assert await boards.claim_clerk(TENANT, board_id, the_board.clerks[0], the_board.members)
    rnd = open_round(the_board)
    assert await boards.open_round(TENANT, board_id, rnd) is None
    for n in range(3):
        await outbox.enqueue(make_job(n, tenant=TENANT, board=board_id, round_id=rnd.id))


async def test_deleting_a_board_finds_its_keys_on_whichever_master_holds_them(
    redis_cluster: RedisCluster, cluster_client: Redis
) -> None:
    on = boards_on_every_master(redis_cluster)
    for board_id in on.values():
        await fill(cluster_client, board_id)
    store = BoardStore(cluster_client)

    remaining = list(on.values())
    for port, board_id in on.items():
        tag = Keys().board_tag(TENANT, board_id)
        before = [k for k in await every_key(cluster_client) if k.startswith(tag)]
        assert len(before) >= 7  # board, members, rounds, round, 3 jobs, the round's job index
        assert await store.delete_board(TENANT, board_id) == len(before)
        assert not [k for k in await every_key(cluster_client) if k.startswith(tag)], port
        remaining.remove(board_id)
        for other in remaining:  # the boards on the other masters are untouched
            found = await store.board(TENANT, other)
            assert found is not None and found.members, other
    assert await store.tenant_boards(TENANT) == []
