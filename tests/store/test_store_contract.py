"""The contract of `dialogs.store.Store`, run on both backends: a real Redis and the emulation.

Each test is about something a trustee would notice: an assessment resumed or lost, an answer
saved or dropped, one person's answers showing up for another.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from dialogs.state import Answer, Assessment, Profile, Who
from dialogs.store import Keys, Store, StoreUnavailable, connect
from tests.support.net import free_port
from tests.support.redis_state import every_key

FW = "cst-trust-governance"
FW2 = "cst-strong-trusts"
V1 = "2024.1"
T0 = "2025-03-03T09:00:00Z"
T1 = "2025-03-03T09:05:00Z"
T2 = "2025-03-04T10:00:00Z"
T3 = "2025-03-05T11:00:00Z"

ALICE = Who(tenant="tenant-a", user="29:alice", name="Alice")
BOB = Who(tenant="tenant-a", user="29:bob", name="Bob")
ALICE_ELSEWHERE = Who(tenant="tenant-b", user="29:alice", name="Alice")

# Ids that a naive key layout would mix up: ':' that fakes the layout, braces that move the hash
# tag, percent signs, spaces, case, and unicode in two normal forms.
AWKWARD = [
    Who("t", "a:u:b"),
    Who("t:u:a", "b"),
    Who("t", "{x}"),
    Who("t", "}x{"),
    Who("{t}", "x"),
    Who("t", "x y"),
    Who("t", "x%20y"),
    Who("t", "x+y"),
    Who("t", "X Y"),
    Who("t", "ü"),
    Who("t", "u\u0308"),
    Who("t", "名前"),
    Who("t", "29:1Ab/c=="),
    Who("t", ""),
]


def answer_fields(number: int, rating: str, evidence: str, at: str) -> dict[str, str]:
    return {f"r:{number}": rating, f"e:{number}": evidence, f"t:{number}": at}


def hash_tag(key: str) -> str:
    """The part of a key Redis Cluster hashes: between the first '{' and the next '}'."""
    start = key.find("{")
    end = key.find("}", start + 1)
    assert 0 <= start < end - 1, f"no hash tag in {key!r}"
    return key[start + 1 : end]


async def opened(store: Store, who: Who, framework: str = FW, now: str = T0) -> Assessment:
    assessment_id = await store.open_assessment(who, framework, V1, now)
    found = await store.assessment(who, assessment_id)
    assert found is not None
    return found


# -- opening and resuming ----------------------------------------------------------------------


async def test_open_creates_an_assessment_once_and_then_resumes_it(store: Store) -> None:
    first = await store.open_assessment(ALICE, FW, V1, T0)
    again = await store.open_assessment(ALICE, FW, V1, T1)

    assert again == first
    assessment = await store.assessment(ALICE, first)
    assert assessment == Assessment(
        id=first, framework=FW, version=V1, status="open", started=T0, updated=T0, cursor=1
    )
    assert assessment.is_open
    assert await store.history(ALICE) == [first]
    assert await store.profile(ALICE) == Profile(open={FW: first})


async def test_each_framework_has_its_own_open_assessment(store: Store) -> None:
    first = await store.open_assessment(ALICE, FW, V1, T0)
    second = await store.open_assessment(ALICE, FW2, V1, T1)

    assert first != second
    assert (await store.profile(ALICE)).open == {FW: first, FW2: second}
    assert await store.history(ALICE) == [first, second]


async def test_twenty_racing_opens_create_exactly_one_assessment(store: Store) -> None:
    ids = await asyncio.gather(*(store.open_assessment(ALICE, FW, V1, T0) for _ in range(20)))

    assert len(set(ids)) == 1
    assert await store.history(ALICE) == [ids[0]]
    assert (await store.profile(ALICE)).open == {FW: ids[0]}
    assert await store.assessment(ALICE, ids[0]) is not None


async def test_a_burst_of_three_hundred_trustees_all_get_their_assessment(store: Store) -> None:
    # More turns at once than the bot keeps connections: they wait their turn, none is refused.
    trustees = [Who("tenant-a", f"29:trustee-{n}", f"Trustee {n}") for n in range(300)]
    ids = await asyncio.gather(*(store.open_assessment(w, FW, V1, T0) for w in trustees))

    assert len(set(ids)) == 300
    profiles = await asyncio.gather(*(store.profile(w) for w in trustees))
    assert [p.open for p in profiles] == [{FW: i} for i in ids]


# -- answering ---------------------------------------------------------------------------------


async def test_update_saves_fields_and_answers_come_back_as_answers(store: Store) -> None:
    assessment = await opened(store, ALICE)
    fields = {
        **answer_fields(3, "B", "Minutes of the March board", T1),
        "e:4": "Evidence still to be rated",
        "cursor": "4",
        "updated": T1,
    }

    assert await store.update(ALICE, assessment.id, fields) is True

    saved = await store.assessment(ALICE, assessment.id)
    assert saved is not None
    assert saved.answers == {
        3: Answer(rating="B", evidence="Minutes of the March board", at=T1),
        4: Answer(rating=None, evidence="Evidence still to be rated", at=None),
    }
    assert (saved.cursor, saved.updated, saved.started) == (4, T1, T0)
    assert saved.rated_count() == 1


async def test_update_overwrites_an_earlier_answer(store: Store) -> None:
    assessment = await opened(store, ALICE)
    await store.update(ALICE, assessment.id, answer_fields(2, "C", "first thoughts", T1))
    await store.update(ALICE, assessment.id, answer_fields(2, "A", "after the audit", T2))

    saved = await store.assessment(ALICE, assessment.id)
    assert saved is not None
    assert saved.answer(2) == Answer(rating="A", evidence="after the audit", at=T2)


async def test_sixteen_concurrent_updates_to_different_elements_lose_nothing(
    store: Store,
) -> None:
    assessment = await opened(store, ALICE)
    numbers = range(1, 17)

    results = await asyncio.gather(
        *(
            store.update(ALICE, assessment.id, answer_fields(n, "ABCD"[n % 4], f"note {n}", T1))
            for n in numbers
        )
    )

    assert results == [True] * 16
    saved = await store.assessment(ALICE, assessment.id)
    assert saved is not None
    assert saved.answers == {n: Answer("ABCD"[n % 4], f"note {n}", T1) for n in numbers}


async def test_update_of_an_unknown_assessment_is_refused_and_creates_nothing(
    store: Store,
) -> None:
    unknown = "0123456789ab"

    assert await store.update(ALICE, unknown, answer_fields(1, "A", "x", T1)) is False
    assert await store.assessment(ALICE, unknown) is None
    assert await store.redis.exists(store.keys.assessment(ALICE, unknown)) == 0


# -- finishing ---------------------------------------------------------------------------------


async def test_finish_moves_the_assessment_from_open_to_last(store: Store) -> None:
    assessment = await opened(store, ALICE)
    await store.update(ALICE, assessment.id, {**answer_fields(1, "B", "ok", T1), "cursor": "5"})

    assert await store.finish(ALICE, assessment, T2) is True

    profile = await store.profile(ALICE)
    assert profile.open == {}
    assert profile.last == {FW: assessment.id}
    done = await store.assessment(ALICE, assessment.id)
    assert done is not None
    assert (done.status, done.is_open, done.finished, done.updated) == ("done", False, T2, T2)
    assert done.cursor == 0
    assert done.answers == {1: Answer("B", "ok", T1)}


async def test_finish_twice_is_refused_and_changes_nothing(store: Store) -> None:
    assessment = await opened(store, ALICE)
    await store.finish(ALICE, assessment, T2)
    profile, done = await store.profile(ALICE), await store.assessment(ALICE, assessment.id)

    assert await store.finish(ALICE, assessment, T3) is False

    assert await store.profile(ALICE) == profile
    assert await store.assessment(ALICE, assessment.id) == done


async def test_update_of_a_finished_assessment_is_refused_and_changes_nothing(
    store: Store,
) -> None:
    assessment = await opened(store, ALICE)
    await store.update(ALICE, assessment.id, answer_fields(1, "B", "before", T1))
    await store.finish(ALICE, assessment, T2)
    done = await store.assessment(ALICE, assessment.id)

    late = {**answer_fields(1, "D", "after", T3), "status": "open", "cursor": "1", "updated": T3}
    assert await store.update(ALICE, assessment.id, late) is False

    assert await store.assessment(ALICE, assessment.id) == done
    assert (await store.profile(ALICE)).open == {}


async def test_opening_after_finishing_starts_a_new_assessment(store: Store) -> None:
    first = await opened(store, ALICE)
    await store.update(ALICE, first.id, answer_fields(1, "B", "round one", T1))
    await store.finish(ALICE, first, T2)

    second = await opened(store, ALICE, now=T3)

    assert second.id != first.id
    assert (second.status, second.started, second.cursor, second.answers) == ("open", T3, 1, {})
    assert await store.profile(ALICE) == Profile(open={FW: second.id}, last={FW: first.id})
    assert await store.history(ALICE) == [first.id, second.id]
    old = await store.assessment(ALICE, first.id)
    assert old is not None
    assert (old.status, old.answer(1).evidence) == ("done", "round one")


async def test_finishing_one_framework_leaves_the_other_open(store: Store) -> None:
    governance = await opened(store, ALICE, FW)
    strong = await opened(store, ALICE, FW2)

    await store.finish(ALICE, governance, T2)

    assert await store.profile(ALICE) == Profile(open={FW2: strong.id}, last={FW: governance.id})


# -- the card that drives an assessment ---------------------------------------------------------


async def test_set_card_returns_the_card_it_supersedes(store: Store) -> None:
    assessment = await opened(store, ALICE)

    assert await store.set_card(ALICE, assessment.id, "1730000000001") is None
    assert await store.set_card(ALICE, assessment.id, "1730000000002") == "1730000000001"
    assert await store.set_card(ALICE, assessment.id, "1730000000003") == "1730000000002"

    saved = await store.assessment(ALICE, assessment.id)
    assert saved is not None
    assert saved.card == "1730000000003"


async def test_set_card_on_an_unknown_assessment_creates_nothing(store: Store) -> None:
    unknown = "0123456789ab"

    assert await store.set_card(ALICE, unknown, "1730000000001") is None
    assert await store.assessment(ALICE, unknown) is None


# -- reading -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "assessment_id",
    ["", "abc", "0123456789AB", "0123456789abc", "0123456789a", "../../profile", "{t:x}", "*"],
)
async def test_a_malformed_assessment_id_finds_nothing(store: Store, assessment_id: str) -> None:
    await opened(store, ALICE)

    assert await store.assessment(ALICE, assessment_id) is None


async def test_an_unknown_assessment_id_finds_nothing(store: Store) -> None:
    assessment = await opened(store, ALICE)
    unknown = "0123456789ab" if assessment.id != "0123456789ab" else "ba9876543210"

    assert await store.assessment(ALICE, unknown) is None


async def test_a_new_trustee_has_an_empty_profile_and_history(store: Store) -> None:
    assert await store.profile(ALICE) == Profile()
    assert await store.history(ALICE) == []


async def test_conversation_reference_round_trips_beside_the_assessments(store: Store) -> None:
    assessment = await opened(store, ALICE)
    reference = '{"conversation": {"id": "a:1xyz"}, "serviceUrl": "https://smba/", "name": "Zoë"}'

    await store.save_conversation(ALICE, reference)
    await store.save_conversation(ALICE, reference.replace("xyz", "new"))

    profile = await store.profile(ALICE)
    assert profile.conversation == reference.replace("xyz", "new")
    assert profile.open == {FW: assessment.id}
    assert profile.last == {}


# -- who sees what -----------------------------------------------------------------------------


async def assert_kept_apart(store: Store, owner: Who, other: Who) -> None:
    """`other` can neither see nor change `owner`'s assessment, and has their own."""
    mine = await opened(store, owner)
    await store.update(owner, mine.id, answer_fields(1, "A", "mine", T1))
    before = await store.assessment(owner, mine.id)

    theirs = await opened(store, other)
    assert theirs.id != mine.id
    assert await store.assessment(other, mine.id) is None
    assert await store.update(other, mine.id, answer_fields(1, "D", "theirs", T2)) is False
    assert await store.set_card(other, mine.id, "1730000000009") is None
    assert await store.finish(other, mine, T2) is False

    assert await store.assessment(owner, mine.id) == before
    assert await store.profile(owner) == Profile(open={FW: mine.id})
    assert await store.profile(other) == Profile(open={FW: theirs.id})
    assert await store.history(other) == [theirs.id]


async def test_two_users_never_see_each_others_assessments(store: Store) -> None:
    await assert_kept_apart(store, ALICE, BOB)


async def test_the_same_user_id_in_two_tenants_is_two_people(store: Store) -> None:
    await assert_kept_apart(store, ALICE, ALICE_ELSEWHERE)


async def test_awkward_ids_stay_separate(store: Store) -> None:
    assessments = await asyncio.gather(*(opened(store, who) for who in AWKWARD))
    await asyncio.gather(
        *(
            store.update(who, a.id, answer_fields(1, "A", f"by {who!r}", T1))
            for who, a in zip(AWKWARD, assessments, strict=True)
        )
    )

    assert len({a.id for a in assessments}) == len(AWKWARD)
    for who, assessment in zip(AWKWARD, assessments, strict=True):
        saved = await store.assessment(who, assessment.id)
        assert saved is not None
        assert saved.answer(1).evidence == f"by {who!r}"
        assert await store.history(who) == [assessment.id]
        assert (await store.profile(who)).open == {FW: assessment.id}


async def test_each_users_keys_share_one_hash_tag_and_users_do_not(store: Store) -> None:
    people = [ALICE, BOB, ALICE_ELSEWHERE, *AWKWARD]
    assessments = await asyncio.gather(*(opened(store, who) for who in people))
    await asyncio.gather(*(store.save_conversation(who, "{}") for who in people))
    keys = Keys()

    tags = []
    for who, assessment in zip(people, assessments, strict=True):
        own = [keys.profile(who), keys.assessments(who), keys.assessment(who, assessment.id)]
        assert len({hash_tag(key) for key in own}) == 1, own
        tags.append(hash_tag(own[0]))
    assert len(set(tags)) == len(people)

    # Everything the store wrote lies under some user's tag: no key escaped the layout.
    written = await every_key(store.redis)
    assert {hash_tag(key) for key in written} == set(tags)
    assert len(written) == 3 * len(people)


# -- the server is gone ------------------------------------------------------------------------


async def test_an_unreachable_server_raises_store_unavailable_not_a_redis_error() -> None:
    store = Store(connect(f"redis://127.0.0.1:{free_port()}/0"))
    placeholder = Assessment(
        id="0123456789ab", framework=FW, version=V1, status="open", started=T0, updated=T0, cursor=1
    )
    calls = {
        "profile": lambda: store.profile(ALICE),
        "save_conversation": lambda: store.save_conversation(ALICE, "{}"),
        "open_assessment": lambda: store.open_assessment(ALICE, FW, V1, T0),
        "assessment": lambda: store.assessment(ALICE, placeholder.id),
        "update": lambda: store.update(ALICE, placeholder.id, {"cursor": "2"}),
        "finish": lambda: store.finish(ALICE, placeholder, T1),
        "set_card": lambda: store.set_card(ALICE, placeholder.id, "1730000000001"),
        "history": lambda: store.history(ALICE),
    }
    try:
        started = time.monotonic()
        assert await store.ping() is False
        for name, call in calls.items():
            with pytest.raises(StoreUnavailable):
                await call()
                pytest.fail(f"{name} did not raise")
        assert time.monotonic() - started < 30, "a refused connection should fail fast"
    finally:
        await store.close()


def test_assessment_dataclass_is_frozen() -> None:
    # The store hands out values, not live views: changing one must not be possible.
    assessment = Assessment(
        id="0123456789ab", framework=FW, version=V1, status="open", started=T0, updated=T0, cursor=1
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        assessment.status = "done"  # type: ignore[misc]


async def test_in_scope_many_reads_each_trustees_round_answers_in_order(store: Store) -> None:
    from dialogs.state import Who

    a, b, c = (Who("t", u) for u in ("ann", "ben", "cat"))
    now = "2026-11-23T09:00:00Z"
    extra = {"round": "0123456789ab", "board": "team", "elements": "1,2"}
    first = await store.open_assessment(a, "fw", "1", now, scope="round:0123456789ab", extra=extra)
    await store.open_assessment(c, "fw", "1", now, scope="round:0123456789ab", extra=extra)
    await store.update(a, first, {"r:1": "AR", "e:1": "minutes"})
    await store.open_assessment(b, "fw", "1", now)  # a private one: not in the round
    found = await store.in_scope_many([a, b, c], "round:0123456789ab")
    assert [x.framework if x else None for x in found] == ["fw", None, "fw"]
    assert found[0] is not None and found[0].answers[1].rating == "AR"
    assert found[0].elements == (1, 2) and found[0].round is not None
    assert await store.in_scope_many([], "round:0123456789ab") == []


async def test_a_round_closing_locks_every_trustees_answers_on_a_server_without_its_scripts(
    store: Store,
) -> None:
    # A restarted Redis, or a replica just promoted to master, has an empty script cache; on a
    # cluster the trustees' keys lie on every master, and the locks go out in one pipeline.
    trustees = [Who("t", f"29:trustee-{n}") for n in range(12)]
    scope, now = "round:0123456789ab", "2026-11-23T09:00:00Z"
    extra = {"round": "0123456789ab", "board": "team", "elements": "1,2"}
    for n, who in enumerate(trustees):
        opened_id = await store.open_assessment(who, FW, V1, now, scope=scope, extra=extra)
        await store.update(who, opened_id, {"r:1": "G", "e:1": f"evidence {n}"})
    await store.redis.script_flush()

    locked = await store.lock_scope(trustees, scope, "2026-11-30T23:59:59Z")

    assert [a.status if a else None for a in locked] == ["closed"] * len(trustees)
    assert [a.answer(1).evidence if a else None for a in locked] == [
        f"evidence {n}" for n in range(len(trustees))
    ]
    again = await store.in_scope_many(trustees, scope)
    assert all(a is not None and a.status == "closed" for a in again)
    assert not await store.update(trustees[0], locked[0].id if locked[0] else "", {"r:1": "R"})
