"""The clerk's round card is refreshed in the background, shortly after answers arrive: a
refresh that finds Redis unreachable is logged and dropped, never an error that escapes, and the
desk answers again once Redis is back; settle() waits for a refresh under way. Run on the desk
alone, with recording fakes of its ports."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from redis.asyncio import Redis

from dialogs.boards import round_service
from tests.support.desk_fakes import RecordingMailer, RecordingTeams, desk_on
from tests.support.redis_server import RedisServer

TENANT, BOARD, ROUND = "t-1", "b-1", "0123456789ab"


async def test_a_refresh_that_finds_redis_down_is_logged_and_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(round_service, "REFRESH_DELAY", 0)
    teams, mailer = RecordingTeams(), RecordingMailer()
    with RedisServer(tmp_path) as server:
        redis = Redis.from_url(server.url, decode_responses=True)
        desk = desk_on(redis, teams=teams, mailer=mailer)
        try:
            server.stop()
            with caplog.at_level(logging.WARNING, logger="trustboard"):
                desk.refresh_round_card_soon(TENANT, BOARD, ROUND)
                await desk.settle()
            warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
            assert "could not refresh a round card: the store is unavailable" in warned
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert teams.calls == [] and mailer.queued == []

            server.restart()
            await desk.boards.card_stale(TENANT, BOARD, ROUND)  # Redis answers again
            keys = await redis.keys("*")
            assert len(keys) == 1 and ROUND in keys[0]
        finally:
            await redis.aclose()


async def test_settle_waits_for_a_refresh_under_way(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh that has begun (its delay over) is waited for too: a clean shutdown closes the
    store and the connector after settle(), and a test compares Redis after it."""
    monkeypatch.setattr(round_service, "REFRESH_DELAY", 0)
    desk = desk_on(redis_client)
    begun, release = asyncio.Event(), asyncio.Event()
    ended: list[tuple[str, str, str]] = []

    async def held_refresh(tenant: str, board: str, round_id: str) -> None:
        begun.set()
        await release.wait()  # as an update to Teams that takes its time
        ended.append((tenant, board, round_id))

    monkeypatch.setattr(desk.rounds, "refresh_round_card", held_refresh)
    desk.refresh_round_card_soon(TENANT, BOARD, ROUND)
    await begun.wait()

    async def let_it_end() -> None:
        for _ in range(20):  # after settle() has had every chance to return
            await asyncio.sleep(0)
        release.set()

    releasing = asyncio.create_task(let_it_end())
    await desk.settle()
    assert ended == [(TENANT, BOARD, ROUND)]
    await releasing
