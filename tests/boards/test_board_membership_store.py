"""The board store's side of following a team (dialogs/boards/membership.py): removing and adding
members, marking a board detached, and a round's team changes. On a real redis-server and on the
embedded store."""

from __future__ import annotations

from redis.asyncio import Redis

from dialogs.boards.model import CHAIR, CLERK, TRUSTEE, Member
from dialogs.boards.store import BoardStore
from tests.boards.cardkit import board, member, open_round


async def stored(redis: Redis) -> tuple[BoardStore, str, str]:
    store = BoardStore(redis, "tb")
    the_board = board()
    await store.ensure(the_board.tenant, the_board.id, the_board.created, {"name": "Oak"})
    clerk, *others = the_board.members
    assert await store.claim_clerk(the_board.tenant, the_board.id, clerk, others)
    await store.set_roles(the_board.tenant, the_board.id, clerk.key, {"aad-001": CHAIR})
    return store, the_board.tenant, the_board.id


async def test_people_who_left_are_removed_by_key_or_teams_id_and_say_what_they_were(
    redis: Redis,
) -> None:
    store, tenant, board_id = await stored(redis)
    gone = await store.remove_members(tenant, board_id, ["29:001", "aad-002", "29:nobody"])
    assert {(m.key, m.role) for m in gone} == {("aad-001", CHAIR), ("aad-002", TRUSTEE)}
    found = await store.board(tenant, board_id)
    assert found is not None and found.chair is None
    assert found.member("aad-002") is None and found.member("aad-003") is not None
    assert await store.remove_members(tenant, board_id, ["29:001"]) == []  # told twice


async def test_the_last_clerk_stays_on_the_board_as_refresh_members_keeps_them(
    redis: Redis,
) -> None:
    store, tenant, board_id = await stored(redis)
    assert await store.remove_members(tenant, board_id, ["aad-000"]) == []
    found = await store.board(tenant, board_id)
    assert found is not None and [m.key for m in found.clerks] == ["aad-000"]
    # With a second clerk, the first can go.
    await store.set_roles(tenant, board_id, "aad-000", {"aad-003": CLERK})
    assert [m.key for m in await store.remove_members(tenant, board_id, ["aad-000"])] == ["aad-000"]


async def test_newcomers_join_as_trustees_and_members_keep_their_role(redis: Redis) -> None:
    store, tenant, board_id = await stored(redis)
    renamed_chair = Member(key="aad-001", teams_id="29:001", name="Sam Chair-Jones")
    added = await store.add_members(tenant, board_id, [renamed_chair, member(20, "Dev Ellis")])
    assert added == ["aad-020"]
    found = await store.board(tenant, board_id)
    assert found is not None
    assert found.role("aad-020") == TRUSTEE
    assert found.chair is not None and found.chair.name == "Sam Chair-Jones"


async def test_a_board_is_detached_once_and_reattached_with_when_it_was(redis: Redis) -> None:
    store, tenant, board_id = await stored(redis)
    assert await store.detach(tenant, board_id, "2026-12-01T10:00:00Z")
    assert not await store.detach(tenant, board_id, "2026-12-01T10:00:05Z")  # the second event
    found = await store.board(tenant, board_id)
    assert found is not None and found.detached == "2026-12-01T10:00:00Z"
    assert await store.reattach(tenant, board_id) == "2026-12-01T10:00:00Z"
    assert await store.reattach(tenant, board_id) is None
    assert not await store.detach(tenant, "no-such-board", "2026-12-01T10:00:00Z")


async def test_team_changes_are_marked_on_an_open_round_only(redis: Redis) -> None:
    store, tenant, board_id = await stored(redis)
    the_board = await store.board(tenant, board_id)
    assert the_board is not None
    rnd = open_round(the_board)
    assert await store.open_round(tenant, board_id, rnd) is None
    assert await store.mark_open(tenant, board_id, rnd.id, "left:aad-002", "2026-12-02T09:00:00Z")
    assert not await store.mark_open(tenant, board_id, rnd.id, "left:aad-002", "later")
    newcomer = member(20, "Dev Ellis")
    assert await store.invite_late(tenant, board_id, rnd.id, newcomer)
    assert await store.invite_late(tenant, board_id, rnd.id, newcomer)  # once in the list
    found = await store.round(tenant, board_id, rnd.id)
    assert found is not None and found.left == {"aad-002": "2026-12-02T09:00:00Z"}
    assert [m.key for m in found.invited].count("aad-020") == 1

    assert await store.close_round(tenant, board_id, rnd.id, "2026-12-03T09:00:00Z", "clerk")
    assert not await store.mark_open(tenant, board_id, rnd.id, "joined:aad-021", "x")
    assert not await store.invite_late(tenant, board_id, rnd.id, member(21, "Eve Frost"))
