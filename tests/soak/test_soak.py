"""Reliability: a bounded soak on loopback.

200 trustees on 20 boards (two tenants) answer a 4-element round at once through two bot
processes sharing one Redis, which is restarted while the answers flow; then every board's clerk
closes the round. The scenario, its checks and its figures are bench/soak.py (`scripts/bench
soak` runs it larger); here it runs at the issue's size and the correctness figures must be zero:
no rating lost or duplicated, no 5xx, nobody invited twice or missed, one summary per board with
numbers that add up. Nothing is timed: the figures are printed (`pytest tests/soak -s`).

The second test pins down a fault the soak shows in about half its runs: the clerk's round card,
which updates itself as answers arrive, can be left showing an older tally.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from pathlib import Path

import pytest
from aiohttp import web
from redis.asyncio import Redis

from bench import soak
from tests.boards.scripted import (
    CHAIR,
    CLERK,
    ChatClient,
    chat_client,
    clerk_desk,
    eventually,
    invitations,
    open_round_here,
    round_card_settled,
    set_up,
    words,
)
from tests.dialogs.cardkit import walk
from tests.support.activities import user
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector

pytestmark = pytest.mark.soak

ADA, BEN = user("Ada Brook"), user("Ben Carr")
FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}


async def test_a_soak_through_a_redis_restart_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    setup = soak.Setup()  # 20 boards, 10 answering trustees each, 2 tenants, 4 elements
    result = await soak.run(setup, tmp_path)
    soak.report(result)

    restart = result["redis_restart"]
    assert restart.get("happened"), f"Redis was not restarted while answers flowed: {restart}"
    assert result["not_saved_overlapping_restart"] > 0, "no turn met the restart"
    assert result["errors_5xx"] == 0, result["error_samples"]
    assert result["ratings_submitted"] == setup.boards * setup.trustees * setup.elements
    assert result["lost_ratings"] == 0, result["problems"]
    assert result["duplicated_ratings"] == 0, result["problems"]
    assert result["duplicate_invitations"] == 0, result["problems"]
    assert result["missed_invitations"] == 0, result["problems"]
    assert result["summaries_in_channels"] == setup.boards, result["problems"]
    assert result["summary_problems"] == 0, result["problems"]
    assert result["problems"] == []


# ---- the clerk's round card, left behind ------------------------------------------------------


class HeldUpdate(FakeConnector):
    """Holds one update (PUT) of a message, the first whose card shows `stale`, until an update
    of the same message showing `fresh` has been taken: as if the first had been slow to reach
    Teams (a busy sender thread, a slow network), so the two arrive in the other order."""

    def __init__(self, activity: str = "", stale: str = "", fresh: str = "") -> None:
        super().__init__()
        self.target = (activity, stale, fresh)
        self.held = asyncio.Event()  # the stale update arrived and is being held
        self.taken = asyncio.Event()  # and has been taken, after the fresh one

    async def _handle(self, request: web.Request) -> web.Response:
        activity, stale, fresh = self.target
        if (
            activity
            and not self.held.is_set()
            and request.method == "PUT"
            and request.rel_url.raw_path.endswith(f"/activities/{activity}")
            and stale in words(json.loads(await request.read()))
        ):
            self.held.set()

            def with_fresh() -> bool:
                return any(
                    c.kind == "update" and c.activity_id == activity and fresh in words(c.body)
                    for c in self.calls
                )

            # Had the bot sent no fresher update meanwhile, this one goes on after 10 s.
            with contextlib.suppress(AssertionError):
                await eventually(with_fresh, timeout=10, what="the fresh update")
            try:
                return await super()._handle(request)
            finally:
                self.taken.set()
        return await super()._handle(request)


async def test_the_clerks_round_card_ends_up_showing_every_answer(
    redis_client: Redis, redis_url: str
) -> None:
    async with HeldUpdate() as connector, BotProcess({"REDIS_URL": redis_url, **FAST}) as bot:
        await set_up(bot, connector, CLERK, [CHAIR, ADA, BEN], chair=CHAIR)
        desk = await clerk_desk(bot, connector, CLERK)
        round_id = await open_round_here(desk)  # element 1 only
        card = str(desk.card_id)  # the round card, kept up to date in the clerk's chat
        await eventually(
            lambda: invitations(connector, ADA) and invitations(connector, BEN), what="invitations"
        )
        ada, ben = chat_client(bot, connector, ADA), chat_client(bot, connector, BEN)

        def tally() -> str:
            """The card's count of who has responded, as it now stands."""
            found = re.search(r"Responded \d+ · In progress \d+", words(connector.activity(card)))
            return found.group(0) if found else ""

        await _answer(ada, "G")
        await eventually(lambda: tally() == "Responded 1 · In progress 0", what="Ada on the card")

        # Ben starts: the refresh that sets off reads "1 responded, 1 in progress", and its
        # update is slow to reach Teams...
        connector.target = (card, "Responded 1 · In progress 1", "Responded 2 · In progress 0")
        assert await ben.click("start") == 200
        await asyncio.wait_for(connector.held.wait(), 10)
        # ... while Ben rates and finishes, and the refresh that sets off reads "2 responded".
        await _rate(ben, "AG")
        assert await ben.click("finish") == 200
        await asyncio.wait_for(connector.taken.wait(), 15)
        # The bot has done with the card: no update of it asked for, none under way.
        await eventually(
            lambda: round_card_settled(redis_client, round_id), what="the card's updates to end"
        )

        assert tally() == "Responded 2 · In progress 0"


async def _answer(client: ChatClient, rating: str) -> None:
    assert await client.click("start") == 200
    await _rate(client, rating)
    assert await client.click("finish") == 200


async def _rate(client: ChatClient, rating: str) -> None:
    [data] = [
        n["data"]
        for n in walk(client.card)
        if n.get("type") == "Action.Execute" and n["data"].get("rating") == rating
    ]
    evidence = {"evidence": f"Minutes show {rating}"}
    assert (
        await client.post(client.chat.execute("rate", data, str(client.card_id), evidence)) == 200
    )
    assert "Saved 1." in client.words(), client.words()
