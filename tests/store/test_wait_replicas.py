"""REDIS_WAIT_REPLICAS on one server with a replica: an answer counts as saved only once the
replica has it (dialogs/store/durable.py); while the replica does not answer, "not saved"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis as SyncRedis

from dialogs.state import Who
from dialogs.store import Store, StoreUnavailable, connect
from tests.support.net import LOOPBACK
from tests.support.redis_server import RedisServer

ALICE = Who("tenant-a", "29:alice")
FW, V1, T0 = "cst-trust-governance", "2024.1", "2026-11-23T09:00:00Z"


@pytest.fixture(scope="module")
def primary_and_replica(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RedisServer, RedisServer]]:
    with RedisServer(Path(tmp_path_factory.mktemp("primary"))) as primary:
        replica = RedisServer(
            Path(tmp_path_factory.mktemp("replica")),
            extra=("--replicaof", LOOPBACK, str(primary.port), "--repl-diskless-sync-delay", "0"),
        )
        with replica:
            with SyncRedis(port=primary.port, decode_responses=True) as client:
                assert client.wait(1, 10_000) == 1  # the replica is in sync
            yield primary, replica


async def test_an_answer_is_saved_once_the_replica_has_it_and_not_before(
    primary_and_replica: tuple[RedisServer, RedisServer],
) -> None:
    primary, replica = primary_and_replica
    waiting = Store(connect(primary.url, wait_replicas=1))
    plain = Store(connect(primary.url))
    try:
        assessment_id = await waiting.open_assessment(ALICE, FW, V1, T0)
        assert await waiting.update(ALICE, assessment_id, {"r:1": "G", "e:1": "on the replica"})
        with SyncRedis(port=replica.port, decode_responses=True) as read:
            found = [k for k in read.scan_iter("*:sa:*")]
            assert [read.hget(k, "e:1") for k in found] == ["on the replica"]

        with replica.frozen():  # the replica stops answering, for longer than the bot waits
            with pytest.raises(StoreUnavailable, match="0 of 1 replicas"):
                await waiting.update(ALICE, assessment_id, {"r:2": "R", "e:2": "not saved"})
            assert await plain.update(ALICE, assessment_id, {"r:3": "G", "e:3": "acknowledged"})
        assert await waiting.update(ALICE, assessment_id, {"r:2": "R", "e:2": "tried again"})
        saved = await plain.assessment(ALICE, assessment_id)
        assert saved is not None and saved.answer(2).evidence == "tried again"
    finally:
        await waiting.close()
        await plain.close()


async def test_a_rounds_closing_waits_for_the_replica_too(
    primary_and_replica: tuple[RedisServer, RedisServer],
) -> None:
    primary, replica = primary_and_replica
    store = Store(connect(primary.url, wait_replicas=1))
    scope = "round:0123456789ab"
    extra = {"round": "0123456789ab", "board": "team", "elements": "1"}
    whos = [Who("tenant-a", f"29:trustee-{n}") for n in range(3)]
    try:
        for who in whos:
            assessment_id = await store.open_assessment(who, FW, V1, T0, scope=scope, extra=extra)
            await store.update(who, assessment_id, {"r:1": "G"})
        with replica.frozen(), pytest.raises(StoreUnavailable, match="0 of 1 replicas"):
            await store.lock_scope(whos, scope, "2026-11-30T23:59:59Z")
        locked = await store.lock_scope(whos, scope, "2026-11-30T23:59:59Z")
        assert [a.status if a else None for a in locked] == ["closed"] * 3
    finally:
        await store.close()
