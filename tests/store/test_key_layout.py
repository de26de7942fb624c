"""The Redis key layout: the exact key strings (data already stored must still be found), and a
board's keys all under one hash tag, so that deleting the board finds and deletes every one."""

from __future__ import annotations

from dataclasses import replace

from redis.asyncio import Redis

from bot.delivery import Outbox
from dialogs.boards.store import BoardStore
from dialogs.state import Who
from dialogs.store.keys import QUEUE_SHARDS, Keys, agenda_shard, job_id_for, queue_shard
from tests.boards.cardkit import CLOSED_AT, board, open_round
from tests.delivery.conftest import make_job
from tests.support.redis_state import every_key

TENANT = "t:{odd}"
BOARD = "19:team-oak@thread.tacv2"
ROUND = "a1b2c3d4e5f6"
LATER = "ffffffffffff"


def test_the_keys_are_spelled_as_they_always_were() -> None:
    keys = Keys("tb")
    who = Who(TENANT, "aad:{1}")
    job_id = job_id_for(TENANT, BOARD, ROUND, "29:1")
    assert job_id.startswith("t%3A%7Bodd%7D/19%3Ateam-oak@thread.tacv2/")
    digest = job_id.rsplit("/", 1)[1]
    built = [
        keys.profile(who),
        keys.assessments(who),
        keys.assessment(who, "0123456789ab"),
        keys.board(TENANT, BOARD),
        keys.members(TENANT, BOARD),
        keys.rounds(TENANT, BOARD),
        keys.round(TENANT, BOARD, ROUND),
        keys.card_turn(TENANT, BOARD, ROUND),
        keys.job(job_id),
        keys.round_jobs(TENANT, BOARD, ROUND),
        keys.tenant_boards(TENANT),
        keys.job_stream(None),
        keys.jobs_due(None),
        keys.job_stream(queue_shard(job_id)),
        keys.jobs_due(queue_shard(job_id)),
        keys.tenant_rate(TENANT),
        keys.recipient_rate(TENANT, "29:1"),
        keys.tenant_hold(TENANT),
        keys.agenda_due(None),
        keys.agenda_claims(None),
        keys.agenda_due(agenda_shard("remind|t|b|r")),
        keys.agenda_claims(agenda_shard("remind|t|b|r")),
        keys.link_secret(),
    ]
    # A job's and an item's shard must never change under them: spelled out too.
    assert (queue_shard(job_id), agenda_shard("remind|t|b|r")) == (2, 5)
    user = "tb:{t:t%3A%7Bodd%7D:u:aad%3A%7B1%7D}"
    tag = "tb:{t:t%3A%7Bodd%7D:b:19%3Ateam-oak@thread.tacv2}"
    assert built == [
        f"{user}:profile",
        f"{user}:sa",
        f"{user}:sa:0123456789ab",
        f"{tag}:board",
        f"{tag}:members",
        f"{tag}:rounds",
        f"{tag}:round:{ROUND}",
        f"{tag}:round:{ROUND}:card",
        f"{tag}:dq:job:{digest}",
        f"{tag}:dq:round:{ROUND}",
        "tb:{t:t%3A%7Bodd%7D}:boards",
        "tb:{dq}:stream",  # the unsharded keys of before, still read
        "tb:{dq}:due",
        "tb:{dq:2}:stream",
        "tb:{dq:2}:due",
        "tb:{dq:t:t%3A%7Bodd%7D}:rate",
        "tb:{dq:t:t%3A%7Bodd%7D}:rate:u:29%3A1",
        "tb:{dq:t:t%3A%7Bodd%7D}:hold",
        "tb:{agenda}:due",
        "tb:{agenda}:claims",
        "tb:{agenda:5}:due",
        "tb:{agenda:5}:claims",
        "tb:{links}:secret",
    ]


def test_patterns_match_only_their_own_keys() -> None:
    keys = Keys("tb*")  # a glob character in the prefix is matched as itself
    assert keys.board_pattern(TENANT, BOARD) == (
        r"tb\*:{t:t%3A%7Bodd%7D:b:19%3Ateam-oak@thread.tacv2}:*"
    )
    assert keys.user_pattern(Who(TENANT, "aad")) == r"tb\*:{t:t%3A%7Bodd%7D:u:aad}:*"
    assert keys.jobs_pattern() == r"tb\*:*:dq:job:*"


def hash_tag(key: str) -> str:
    """What Redis Cluster hashes: from the first `{` to the first `}` after it, when not empty."""
    start = key.find("{")
    end = key.find("}", start + 1)
    return key[start + 1 : end] if start >= 0 and end > start + 1 else key


async def fill_board(redis: Redis, prefix: str) -> None:
    """One board with everything a board gets: members, two rounds, a card lease, a plan saved,
    delivery jobs of both rounds."""
    boards, outbox = BoardStore(redis, prefix), Outbox(redis, prefix)
    the_board = replace(board(), tenant=TENANT, id=BOARD)
    assert await boards.ensure(TENANT, BOARD, "2026-11-20T09:00:00Z", {"name": "Oak"})
    await boards.set_card(TENANT, BOARD, "activity-1")
    assert await boards.claim_clerk(TENANT, BOARD, the_board.clerks[0], the_board.members)
    first = replace(open_round(the_board), id=ROUND)
    assert await boards.open_round(TENANT, BOARD, first) is None
    assert await boards.close_round(TENANT, BOARD, ROUND, CLOSED_AT, first.opened_by)
    assert await boards.save_plan(TENANT, BOARD, ROUND, 0, {}, None) is not None
    second = replace(open_round(the_board), id=LATER, opened="2026-11-23T09:00:00+00:00")
    assert await boards.open_round(TENANT, BOARD, second) is None
    await boards.card_stale(TENANT, BOARD, LATER)
    assert await boards.card_turn(TENANT, BOARD, LATER, "token")
    for n, round_id in enumerate((ROUND, LATER)):
        await outbox.enqueue(make_job(n, tenant=TENANT, board=BOARD, round_id=round_id))


async def test_every_key_of_a_board_has_its_hash_tag_and_delete_removes_them_all(
    redis: Redis,
) -> None:
    # A glob character in the prefix, and a neighbour whose prefix it would match unescaped.
    prefix, neighbour = "tb*", "tbX"
    await fill_board(redis, neighbour)
    await BoardStore(redis, neighbour).ensure(TENANT, "19:other@thread.tacv2", "x", {})
    before = set(await every_key(redis))
    await fill_board(redis, prefix)
    streams = {Keys(prefix).job_stream(shard) for shard in range(QUEUE_SHARDS)}
    shared = {Keys(prefix).tenant_boards(TENANT), *streams}
    added = set(await every_key(redis)) - before - shared
    assert {key.split("}", 1)[1] for key in added} == {
        ":board",
        ":members",
        ":rounds",
        f":round:{ROUND}",
        f":round:{LATER}",
        f":round:{LATER}:card",
        f":dq:round:{ROUND}",
        f":dq:round:{LATER}",
        ":dq:job:" + job_id_for(TENANT, BOARD, ROUND, "29:user-t:{odd}-0").rsplit("/")[-1],
        ":dq:job:" + job_id_for(TENANT, BOARD, LATER, "29:user-t:{odd}-1").rsplit("/")[-1],
    }
    assert {hash_tag(key) for key in added} == {hash_tag(Keys(prefix).board(TENANT, BOARD))}

    deleted = await BoardStore(redis, prefix).delete_board(TENANT, BOARD)

    assert deleted == len(added)
    assert set(await every_key(redis)) == before | streams
    assert await BoardStore(redis, prefix).tenant_boards(TENANT) == []
    assert await BoardStore(redis, neighbour).board(TENANT, BOARD) is not None
