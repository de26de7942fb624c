"""The learning sets' store, on a real redis-server and on the embedded store: the rules that must
hold under races are the scripts' (at most eight members, a withdrawn code admits nobody, only a
member shares or votes), and leaving or closing leaves nothing behind."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from dialogs.sets.model import MAX_MEMBERS, SELF, LearningSet, Person, SetMember, Share
from dialogs.sets.store import SetStore
from dialogs.store.keys import Keys

SET_ID = "0123456789abcdef"
CODE = "KQ7M4XPD"
OAK, ELM = "tenant-oak", "tenant-elm"


def a_set(code: str | None = CODE) -> LearningSet:
    return LearningSet(
        id=SET_ID,
        name="North West chairs",
        framework="cst-trust-governance",
        named=False,
        created="2026-11-23T09:00:00Z",
        facilitator=Person("tenant-cst", "fac-1", "Fay Facilitator", "29:fay", "https://smba/"),
        code=code,
    )


def board(tenant: str, n: int) -> SetMember:
    return SetMember(tenant, f"19:team{n}@thread.tacv2", f"Trust {n}", "2026-11-23T10:00:00Z", "")


async def keys_of(redis: Redis) -> list[str]:
    return sorted([k async for k in redis.scan_iter(match="*")])


async def test_a_set_reads_back_as_it_was_created(redis: Redis) -> None:
    store = SetStore(redis, Keys("tb"))
    await store.create(a_set())
    found = await store.get(SET_ID)
    assert found == a_set()
    assert await store.by_code(CODE) == SET_ID
    assert await store.facilitated("tenant-cst", "fac-1") == [SET_ID]
    assert await store.get("fedcba9876543210") is None
    assert await store.get("not-a-set-id") is None


async def test_members_get_labels_in_the_order_they_join_and_the_ninth_is_refused(
    redis: Redis,
) -> None:
    store = SetStore(redis, Keys("tb"))
    await store.create(a_set())
    answers = await asyncio.gather(
        *(store.join(SET_ID, CODE, board(OAK, n)) for n in range(MAX_MEMBERS + 2))
    )
    assert sorted(answers) == sorted([f"ok:{label}" for label in "ABCDEFGH"] + ["full", "full"])
    found = await store.get(SET_ID)
    assert found is not None and len(found.members) == MAX_MEMBERS
    assert sorted(m.label for m in found.members) == list("ABCDEFGH")
    # The boards refused are not left pointing at the set.
    pointing = [
        n for n in range(MAX_MEMBERS + 2) if await store.board_sets(OAK, board(OAK, n).board)
    ]
    assert len(pointing) == MAX_MEMBERS


async def test_a_withdrawn_or_wrong_code_admits_nobody(redis: Redis) -> None:
    store = SetStore(redis, Keys("tb"))
    await store.create(a_set())
    assert await store.join(SET_ID, "ABCDEFGH", board(OAK, 1)) == "code"
    await store.withdraw_code(SET_ID, CODE)
    assert await store.by_code(CODE) is None
    assert await store.join(SET_ID, CODE, board(OAK, 1)) == "code"
    assert await store.new_code(SET_ID, "ZZZZ2345", None)
    assert await store.join(SET_ID, "ZZZZ2345", board(OAK, 1)) == "ok:A"
    assert await store.join(SET_ID, "ZZZZ2345", board(OAK, 1)) == "already"
    assert await store.board_sets(OAK, board(OAK, 1).board) == [SET_ID]


async def test_the_same_team_id_in_another_tenant_is_another_board(redis: Redis) -> None:
    store = SetStore(redis, Keys("tb"))
    await store.create(a_set())
    assert await store.join(SET_ID, CODE, board(OAK, 1)) == "ok:A"
    share = Share({1: "R"}, "2026-11-24T09:00:00Z", "round", "aaaaaaaaaaaa", "by")
    # A board with the same team id in another tenant is not a member: it cannot share or vote.
    assert not await store.share(SET_ID, ELM, board(OAK, 1).board, share)
    assert not await store.vote(SET_ID, ELM, board(OAK, 1).board, (1, 2, 3))
    found = await store.get(SET_ID)
    assert found is not None and found.shares == {} and found.votes == {}
    assert found.member(ELM, board(OAK, 1).board) is None


async def test_a_new_share_keeps_the_one_before_for_the_change(redis: Redis) -> None:
    store = SetStore(redis, Keys("tb"))
    await store.create(a_set())
    member = board(OAK, 1)
    await store.join(SET_ID, CODE, member)
    first = Share({1: "R", 2: "AG"}, "2026-11-24T09:00:00Z", "round", "aaaaaaaaaaaa", "by")
    second = Share({1: "AR", 2: "AG"}, "2026-12-24T09:00:00Z", "round", "bbbbbbbbbbbb", "by")
    assert await store.share(SET_ID, OAK, member.board, first)
    assert await store.share(SET_ID, OAK, member.board, second)
    found = await store.get(SET_ID)
    assert found is not None
    shared = found.shares[member.key]
    assert shared.ratings == {1: "AR", 2: "AG"}
    assert shared.previous == {1: "R", 2: "AG"}
    assert shared.previous_at == "2026-11-24T09:00:00Z"


async def test_leaving_takes_the_share_and_the_vote_with_it(redis: Redis) -> None:
    store = SetStore(redis, Keys("tb"))
    await store.create(a_set())
    stay, leave = board(OAK, 1), board(ELM, 2)
    for member in (stay, leave):
        await store.join(SET_ID, CODE, member)
        share = Share({1: "R"}, "2026-11-24T09:00:00Z", "round", "aaaaaaaaaaaa", "by")
        await store.share(SET_ID, member.tenant, member.board, share)
        await store.share(SET_ID, member.tenant, member.board, share)  # a :prev too
        await store.vote(SET_ID, member.tenant, member.board, (1, 2, 3))
    assert await store.leave(SET_ID, ELM, leave.board)
    found = await store.get(SET_ID)
    assert found is not None
    assert [m.key for m in found.members] == [stay.key]
    assert set(found.shares) == {stay.key} and set(found.votes) == {stay.key}
    raw = await redis.hgetall(store.keys.set_shares(SET_ID))
    assert all(not k.startswith(leave.key) for k in raw)
    assert await store.board_sets(ELM, leave.board) == []
    assert not await store.leave(SET_ID, ELM, leave.board)


async def test_forget_me_withdraws_only_that_persons_own_self_assessment_shares(
    redis: Redis,
) -> None:
    store = SetStore(redis, Keys("tb"))
    await store.create(a_set())
    mine, theirs = board(OAK, 1), board(OAK, 2)
    for member in (mine, theirs):
        await store.join(SET_ID, CODE, member)
    own = Share({1: "G"}, "2026-11-24T09:00:00Z", SELF, "cccccccccccc", "ref-sam")
    other = Share({1: "R"}, "2026-11-24T09:00:00Z", SELF, "dddddddddddd", "ref-kim")
    await store.share(SET_ID, OAK, mine.board, own, user="sam")
    await store.share(SET_ID, OAK, theirs.board, other, user="kim")
    assert await store.withdraw_self_shares(OAK, "sam", "ref-sam") == 1
    found = await store.get(SET_ID)
    assert found is not None and set(found.shares) == {theirs.key}
    assert await redis.exists(store.keys.self_shares(OAK, "sam")) == 0


async def test_deleting_a_set_leaves_no_key_of_it(redis: Redis) -> None:
    store = SetStore(redis, Keys("tb"))
    await store.create(a_set())
    for n, tenant in enumerate((OAK, ELM)):
        member = board(tenant, n)
        await store.join(SET_ID, CODE, member)
        share = Share({1: "R"}, "2026-11-24T09:00:00Z", "round", "aaaaaaaaaaaa", "by")
        await store.share(SET_ID, tenant, member.board, share)
        await store.vote(SET_ID, tenant, member.board, (1, 2, 3))
    found = await store.get(SET_ID)
    assert found is not None
    await store.delete(found)
    assert await keys_of(redis) == []
    assert not await store.set_fields(SET_ID, {"focus": "1,2,3"})
    assert await keys_of(redis) == []  # a late click does not bring it back
