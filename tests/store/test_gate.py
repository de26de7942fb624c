"""The fair gate in front of Redis connections (dialogs/store/gate.py): turns are served in the
order they came, a long queue that moves is waited through, and only a Redis that stops
answering makes a turn give up (the store's "not saved")."""

from __future__ import annotations

import asyncio

import pytest

from dialogs.state import Who
from dialogs.store import Store, StoreUnavailable, connect
from dialogs.store.gate import FairGate, FairPool, Stalled

FW = "cst-trust-governance"
V1 = "2024.1"
T0 = "2025-03-03T09:00:00Z"


async def settled() -> None:
    """Let every task that can run, run (a few loop passes)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_waiters_are_served_in_the_order_they_came() -> None:
    gate = FairGate(1, stall=30)
    await gate.acquire()
    served: list[str] = []

    async def turn(name: str) -> None:
        await gate.acquire()
        served.append(name)
        gate.release()

    queued = [asyncio.create_task(turn(f"waiter {n}")) for n in range(5)]
    await settled()
    assert gate.waiting == 5
    gate.release()
    late = asyncio.create_task(turn("newcomer"))  # arrives as the first waiter is handed over
    await asyncio.gather(*queued, late)

    assert served == [*(f"waiter {n}" for n in range(5)), "newcomer"]


async def test_a_queue_that_keeps_moving_is_waited_through_however_long() -> None:
    # One holder at a time, each for a quarter of the stall: the last of eight waits twice the
    # stall in all, and is still served, because someone finished all along.
    gate = FairGate(1, stall=0.2)
    served = []

    async def turn(number: int) -> None:
        await gate.acquire()
        try:
            await asyncio.sleep(0.05)  # the work done while holding
            served.append(number)
        finally:
            gate.release()

    await asyncio.gather(*(turn(n) for n in range(8)))
    assert served == list(range(8))


async def test_a_gate_nobody_leaves_gives_up_with_a_connection_error() -> None:
    gate = FairGate(1, stall=0.05)
    await gate.acquire()  # and never released: Redis stopped answering mid-command

    with pytest.raises(Stalled) as raised:
        await gate.acquire()
    assert "no Redis command finished" in str(raised.value)
    assert gate.waiting == 0


async def test_a_waiter_that_leaves_loses_nobody_their_turn() -> None:
    gate = FairGate(1, stall=30)
    await gate.acquire()
    leaving = asyncio.create_task(gate.acquire())
    staying = asyncio.create_task(gate.acquire())
    await settled()
    leaving.cancel()
    await settled()
    gate.release()
    await asyncio.wait_for(staying, 5)  # the slot went past the one that left

    assert gate.holders == 1
    gate.release()
    assert gate.holders == 0


async def test_a_waiter_cancelled_as_it_is_served_hands_its_turn_on() -> None:
    gate = FairGate(1, stall=30)
    await gate.acquire()
    first = asyncio.create_task(gate.acquire())
    second = asyncio.create_task(gate.acquire())
    await settled()
    gate.release()  # first's turn is set, but first has not run yet
    first.cancel()
    await asyncio.wait_for(second, 5)

    assert gate.holders == 1


async def test_a_burst_far_over_the_pool_is_all_saved(redis_url: str) -> None:
    store = Store(connect(redis_url, max_connections=2))
    try:
        pool = store.redis.connection_pool
        assert isinstance(pool, FairPool) and pool.max_connections == 2
        trustees = [Who("tenant-gate", f"29:trustee-{n}", f"Trustee {n}") for n in range(200)]
        ids = await asyncio.gather(*(store.open_assessment(w, FW, V1, T0) for w in trustees))

        assert len(set(ids)) == 200
        profiles = await asyncio.gather(*(store.profile(w) for w in trustees))
        assert [p.open for p in profiles] == [{FW: i} for i in ids]
        assert pool.gate.holders == 0
    finally:
        await store.close()


async def test_a_stalled_pool_is_store_unavailable(redis_url: str) -> None:
    store = Store(connect(redis_url, max_connections=1))
    try:
        pool = store.redis.connection_pool
        assert isinstance(pool, FairPool)
        pool.gate.stall = 0.05
        held = await pool.get_connection()  # taken and never given back, as by a hung command
        with pytest.raises(StoreUnavailable):
            await store.profile(Who("tenant-gate", "29:someone", "Someone"))
        await pool.release(held)
        assert (await store.profile(Who("tenant-gate", "29:someone", "Someone"))).open == {}
    finally:
        await store.close()
