"""`/healthz` means the store accepts a write: a full, read-only or stopped Redis is a 503 with the
reason, and the answer says which background loops run and when each last made progress.

Each test starts its own redis-server and turns it into what an operator would meet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError

from bot.app import STORE
from tests.support.bot_app import BotApp
from tests.support.net import LOOPBACK, free_port
from tests.support.redis_server import RedisServer

Health = tuple[int, dict[str, Any]]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    with RedisServer(tmp_path) as started:
        yield started


@pytest.fixture
async def admin(server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(server.url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def bot(server: RedisServer) -> AsyncIterator[BotApp]:
    async with BotApp({"REDIS_URL": server.url, "DELIVERY_WORKERS": "2"}) as app:
        yield app


async def health_until(bot: BotApp, check: Callable[[Health], bool], timeout: float = 15) -> Health:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found: Health = await bot.get("/healthz")
        if check(found):
            return found
        assert asyncio.get_running_loop().time() < deadline, f"/healthz stayed {found}"
        await asyncio.sleep(0.1)


def progressed(found: Health) -> bool:
    return all(loop["last_progress"] for loop in found[1]["loops"])


async def test_a_healthy_store_and_every_loop_with_its_last_progress(bot: BotApp) -> None:
    status, body = await health_until(bot, progressed)
    assert status == 200
    assert {k: body[k] for k in ("status", "store", "store_state")} == {
        "status": "ok",
        "store": "redis",
        "store_state": "ok",
    }
    assert "reason" not in body
    loops = body["loops"]
    assert [loop["loop"] for loop in loops] == ["agenda", "delivery worker", "delivery worker"]
    assert all(loop["running"] for loop in loops)
    for loop in loops:
        when = datetime.fromisoformat(loop["last_progress"])
        assert abs((datetime.now(UTC) - when).total_seconds()) < 15
        assert 0 <= loop["seconds_since_progress"] < 15
    assert len({loop["name"] for loop in loops}) == 3


async def test_the_probe_is_a_short_lived_key_of_its_own(bot: BotApp, admin: Redis) -> None:
    await health_until(bot, lambda found: found[0] == 200)
    [key] = await admin.keys("tb:{health}:*")
    assert 0 < await admin.pttl(key) <= 30_000


async def test_a_full_store_is_a_503_that_says_so_and_recovers(bot: BotApp, admin: Redis) -> None:
    await health_until(bot, lambda found: found[0] == 200)
    for index in range(64):
        await admin.set(f"filler:{index}", "x" * 16384)
    # Below what it holds now, so no write fits: as a Redis that filled up would be.
    used = int((await admin.info("memory"))["used_memory"])
    await admin.config_set("maxmemory-policy", "noeviction")
    await admin.config_set("maxmemory", str(used - 256 * 1024))
    with pytest.raises(OutOfMemoryError):
        await admin.set("one-more", "x")
    status, body = await bot.get("/healthz")
    assert (status, body["status"], body["store_state"]) == (503, "unavailable", "full")
    assert "Redis is full (maxmemory reached with noeviction)" in body["reason"]
    assert all(loop["running"] for loop in body["loops"])  # they wait it out

    await admin.config_set("maxmemory", "0")
    status, body = await health_until(bot, lambda found: found[0] == 200)
    assert body["store_state"] == "ok"


async def test_a_read_only_replica_is_a_503_that_says_so(bot: BotApp, admin: Redis) -> None:
    await health_until(bot, lambda found: found[0] == 200)
    # A primary that is not there: the server stays a replica, serving reads, refusing writes.
    await admin.execute_command("REPLICAOF", LOOPBACK, str(free_port()))
    try:
        status, body = await bot.get("/healthz")
        assert (status, body["status"], body["store_state"]) == (503, "unavailable", "read-only")
        assert "read-only replica" in body["reason"] and "primary" in body["reason"]
    finally:
        await admin.execute_command("REPLICAOF", "NO", "ONE")
    status, _ = await health_until(bot, lambda found: found[0] == 200)
    assert status == 200


async def test_a_stopped_store_is_a_503_that_says_so(bot: BotApp, server: RedisServer) -> None:
    await health_until(bot, progressed)
    await asyncio.to_thread(server.stop)
    status, body = await bot.get("/healthz")
    assert (status, body["status"], body["store"]) == (503, "unavailable", "redis")
    assert body["store_state"] == "unreachable"
    assert "cannot be reached" in body["reason"]
    assert all(loop["running"] for loop in body["loops"])
    await asyncio.to_thread(server.restart)
    await health_until(bot, lambda found: found[0] == 200)


async def test_a_probe_failing_unexpectedly_is_a_503_with_the_reason_not_a_500(
    bot: BotApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    await health_until(bot, progressed)

    async def broken(*_: Any, **__: Any) -> None:
        raise KeyError(1234)  # redis-py's slot lookup raises one for a slot it lacks

    monkeypatch.setattr(bot.app[STORE].redis, "set", broken)
    status, body = await bot.get("/healthz")
    assert (status, body["status"], body["store_state"]) == (503, "unavailable", "unreachable")
    assert "cannot be reached" in body["reason"]
    assert "the store's health could not be probed: KeyError" in bot.logs()
    monkeypatch.undo()
    await health_until(bot, lambda found: found[0] == 200)
