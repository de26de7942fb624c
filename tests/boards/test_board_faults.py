"""A board round when things go wrong: Teams throttling and failing, trustees who blocked the bot,
a bot process killed mid-delivery, two processes sharing one Redis, and the timed work (closing at
the deadline, the automatic reminder) racing between processes.

Every test runs bots on the throwaway Redis and reads what trustees and the clerk would see at the
fake connector. The bots are served in-process (tests/support/bot_app.py), two apps where two
processes share one Redis (they share nothing else: each has its own clients, workers and consumer
names), except where a process is killed: there they are real `python -m bot` processes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from bot.app import BACKGROUND
from tests.boards.scripted import (
    CHAIR,
    CLERK,
    HEAT_MAP,
    ChatClient,
    TimedConnector,
    agenda_item,
    answer_round,
    chat_client,
    clerk_desk,
    creates_for,
    deliveries_done,
    delivery_jobs,
    due_now,
    eventually,
    invitations,
    open_round_here,
    personal_cards,
    reminders,
    round_hash,
    round_steps_done,
    set_up,
    settled,
    start_bots,
    summaries_in_channel,
    summary_gone_out,
    words,
)
from tests.support.activities import user
from tests.support.bot_app import BotApp, StartBot
from tests.support.bot_http import BotHttp
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.redis_state import agenda_key, queue_pending

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}
ADA, BEN, CARA = (user(n) for n in ("Ada Brook", "Ben Carr", "Cara Dunn"))
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
async def timed_connector() -> AsyncIterator[TimedConnector]:
    """The fake connector, noting when each call came (to check Retry-After was honoured)."""
    async with TimedConnector() as fake:
        yield fake
    if fake.unknown:
        pytest.fail(f"calls to unknown connector routes: {fake.unknown}", pytrace=False)


@pytest.fixture
def bots(bot_app_with: StartBot) -> Callable[..., Any]:
    """Start bots in-process on the test's Redis: `await bots(2, ENV=…)`; all stopped at the end."""

    async def start(count: int = 1, **env: str) -> list[BotApp]:
        return [await bot_app_with({**FAST, **env}) for _ in range(count)]

    return start


@pytest.fixture
async def processes(redis_client: Redis, redis_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Start bot processes on the test's Redis: `await processes(1, ENV=…)`; stopped at the end."""
    started: list[BotProcess] = []

    async def start(count: int = 1, **env: str) -> list[BotProcess]:
        found = await start_bots(count, {"REDIS_URL": redis_url, **FAST, **env})
        started.extend(found)
        return found

    try:
        yield start
    finally:
        await asyncio.gather(*(asyncio.to_thread(bot.cleanup) for bot in started))


async def open_board_round(
    bot: BotHttp, connector: FakeConnector, trustees: list[Any], **inputs: Any
) -> tuple[ChatClient, str]:
    """Clerk and chair plus `trustees`; the round opened from the clerk's 1:1 chat, so the
    connector's create-chat route is used by delivery alone. Returns the clerk's client (its
    card is the live round card) and the round id."""
    await set_up(bot, connector, CLERK, [CHAIR, *trustees], chair=CHAIR)
    desk = await clerk_desk(bot, connector, CLERK)
    return desk, await open_round_here(desk, **inputs)


# ---- 1. throttled and failing Teams -------------------------------------------------------------


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_throttling_and_503s_still_deliver_one_invitation_each_after_retry_after(
    bots: Callable[..., Any], timed_connector: TimedConnector, redis_client: Redis
) -> None:
    connector = timed_connector
    (bot,) = await bots(1)
    invited = [CHAIR, ADA, BEN, CARA]
    # Every first attempt to open a chat is throttled (429, Retry-After 1 s). The channel post
    # that announces the round also goes out in the opening turn, so the 503s (on posting a
    # message into a chat that was opened fine) are queued once that turn is over: they can
    # only meet the retries.
    connector.throttle(len(invited), retry_after=1, kinds=["create"])
    desk, _ = await open_board_round(bot, connector, [ADA, BEN, CARA])
    connector.fail_next(2, 503, kinds=["send"])

    await eventually(
        lambda: all(invitations(connector, m) for m in invited), timeout=20, what="invitations"
    )
    # Once every job is settled nothing more is sent: a duplicate would have shown by now.
    await eventually(lambda: settled(redis_client, len(invited)), what="delivery to settle")

    for member in invited:
        assert invitations(connector, member) == 1, f"{member.name}: {connector.summary()}"
    throttled = [i for i, c in enumerate(connector.calls) if c.status == 429]
    unavailable = [i for i, c in enumerate(connector.calls) if c.status == 503]
    assert len(throttled) == len(invited) and len(unavailable) == 2
    for member in invited:
        attempts = creates_for(connector, member)
        assert connector.calls[attempts[-1]].ok  # the last attempt opened the chat
        for earlier, later in itertools.pairwise(attempts):
            if connector.calls[earlier].status == 429:
                waited = connector.times[later] - connector.times[earlier]
                assert waited >= 0.95, f"{member.name} retried {waited:.2f} s after a 429"
    # The clerk's card, refreshed, shows nobody as unreachable.
    assert await desk.click("round.status") == 200
    assert "Unreachable 0 of 4 trustees" in desk.words()


# ---- 2. blocked and unknown trustees ------------------------------------------------------------


async def test_blocked_and_unknown_trustees_show_as_unreachable_and_are_not_retried(
    bots: Callable[..., Any], connector: FakeConnector, redis_client: Redis
) -> None:
    (bot,) = await bots(1)
    # Far more failures than any retrying would use: each stands until the test ends.
    connector.block(50, kinds=["create"], member=ADA.id)
    connector.fail_next(50, 404, kinds=["create"], member=BEN.id)
    desk, _ = await open_board_round(bot, connector, [ADA, BEN, CARA])
    card_id = str(desk.card_id)

    def clerk_card_words() -> str:
        return words(connector.activity(card_id) or {})

    # The clerk's card updates by itself once delivery gives up on them.
    text = await eventually(
        lambda: (t := clerk_card_words()) and "Unreachable 2" in t and t,
        what="the clerk's card to show two unreachable",
    )
    assert "Ada Brook — Unreachable: Not reachable: they have blocked or removed trustboard" in text
    assert "Ben Carr — Unreachable: Not reachable: Teams could not find them" in text
    assert "Cara Dunn — Not started" in text and "Sam Chair — Not started" in text

    # Delivery has decided: every invitation has its final outcome (a 403 or 404 retried would be
    # retrying, or failed after its attempts) and the queue holds nothing, no retry due either.
    await eventually(lambda: settled(redis_client, 4), what="delivery to settle")
    await eventually(lambda: deliveries_done(redis_client), what="the queue to empty")
    for member in (ADA, BEN):
        assert len(creates_for(connector, member)) == 1, f"{member.name} was tried again"
        assert invitations(connector, member) == 0
    for member in (CHAIR, CARA):
        assert invitations(connector, member) == 1
    states = {j["recipient"]: j["state"] for j in await delivery_jobs(redis_client)}
    assert sorted(states.values()) == ["delivered", "delivered", "unreachable", "unreachable"]

    # Refreshing the card by hand says the same.
    assert await desk.click("round.status") == 200
    assert "Unreachable 2 of 4 trustees" in desk.words()
    assert "they have blocked or removed trustboard in Teams" in desk.words()


# ---- 3. a process killed mid-delivery -----------------------------------------------------------


async def test_a_process_killed_mid_delivery_leaves_every_trustee_invited_exactly_once(
    processes: Callable[..., Any], connector: FakeConnector, redis_client: Redis
) -> None:
    trustees = [user(f"Trustee {n:02d}") for n in range(1, 31)]
    # Four sends a second: the 30 invitations take several seconds, in bursts of four a second.
    (first,) = await processes(1, DELIVERY_PER_TENANT="4")
    await set_up(first, connector, CLERK, trustees)
    desk = await clerk_desk(first, connector, CLERK)
    await open_round_here(desk)

    def delivered() -> int:
        return sum(invitations(connector, t) for t in trustees)

    # The outbox promises at-least-once, and says where a duplicate can come from: a process
    # that dies after Teams accepted a message and before the outcome was stored. That window
    # is one connector call plus one Redis write, a few milliseconds. Killing at a random moment
    # would make this test pass or fail by luck. At four a second the sends come in bursts of
    # four (a burst takes up to ~0.1 s, the next starts ~1 s after the one before), so the kill
    # comes 100 ms after the eighth invitation, the last of the second burst, once its outcome
    # is stored: nothing is in flight, and the next burst is most of a second away. What is
    # tested is what must hold outside that window: nobody missed and nobody invited twice,
    # although the dead process held entries it had read and not yet sent, which only a claim
    # by the new process recovers.
    await eventually(lambda: delivered() >= 8, what="eight invitations")

    async def eight_stored() -> bool:
        return len(await _stored_deliveries(redis_client)) >= 8

    await eventually(eight_stored, what="their outcomes stored")
    await asyncio.sleep(0.1)
    first.kill()
    before = delivered()
    assert before < len(trustees), "delivery ended before the kill: make it slower"
    assert await queue_pending(redis_client) > 0, "the dead process held no entries"
    # Should a slow machine have stretched a burst past the kill after all, a message Teams
    # accepted without its outcome stored is the documented window: it alone may come twice.
    stored = await _stored_deliveries(redis_client)
    in_window = {t.id for t in trustees if invitations(connector, t)} - stored

    (second,) = await processes(1, DELIVERY_PER_TENANT="4")
    await eventually(
        lambda: settled(redis_client, len(trustees)), timeout=30, what="the rest delivered"
    )
    for trustee in trustees:
        times = invitations(connector, trustee)
        allowed = (1, 2) if trustee.id in in_window else (1,)
        assert times in allowed, f"{trustee.name} invited {times}×: {connector.summary()}"
    jobs = await delivery_jobs(redis_client)
    assert [j["state"] for j in jobs] == ["delivered"] * len(trustees)
    assert second.returncode() is None


# ---- 4. two processes, one Redis ----------------------------------------------------------------

RATED = {CHAIR.name: ("AR", "G"), "Ada Brook": ("G", "AG"), "Ben Carr": ("R", "AR")}


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_two_processes_share_a_round_invite_once_and_post_one_summary(
    bots: Callable[..., Any], connector: FakeConnector, redis_client: Redis
) -> None:
    first, second = await bots(2)
    invited = [CHAIR, ADA, BEN, CARA]
    await set_up(first, connector, CLERK, invited, chair=CHAIR)
    desk = await clerk_desk(second, connector, CLERK)
    round_id = await open_round_here(desk, elements="1,2")
    await eventually(lambda: all(invitations(connector, m) for m in invited), what="invitations")

    # Each trustee's turns alternate between the processes, starting on different ones, so at
    # any moment both are answering somebody.
    clients = []
    for index, member in enumerate(invited):
        client = chat_client(first, connector, member)
        client.rotation = (first, second) if index % 2 else (second, first)
        clients.append(client)
    await asyncio.gather(
        *(answer_round(c, RATED[c.chat.user.name], finish=True) for c in clients[:3]),
        answer_round(clients[3], ("AG",), finish=False),  # Cara is still at it when it closes
    )
    await eventually(lambda: settled(redis_client, len(invited)), what="delivery to settle")
    for member in invited:
        assert invitations(connector, member) == 1, member.name

    # The clerk's Close, clicked twice, reaching each process at once.
    close = desk.button("round.close")["data"]
    answers = await asyncio.gather(
        *(
            bot.post(desk.chat.execute("round.close", close, str(desk.card_id)))
            for bot in (first, second)
        )
    )
    assert [status for status, _ in answers] == [200, 200]
    for _, body in answers:  # both see the round closed (the race's loser may say either)
        assert words(body["value"]).startswith(("Round closed.", "That round had already closed"))

    # The close is done with: the summary out and the clerk's card saying so, its steps all done
    # and nobody doing one, every message settled; a second summary would be queued or posted.
    await eventually(
        lambda: summary_gone_out(connector, redis_client, round_id), what="the summary out"
    )
    await eventually(lambda: round_steps_done(redis_client, round_id), what="the close's steps")
    await eventually(lambda: deliveries_done(redis_client), what="delivery to settle")
    summaries = summaries_in_channel(connector)
    assert len(summaries) == 1, summaries
    assert "3 of 4 trustees (75%)" in summaries[0] and "1 more was in progress" in summaries[0]
    assert len(personal_cards(connector, CHAIR, HEAT_MAP)) == 1  # the chair's copy, once
    assert (await round_hash(redis_client, round_id))["status"] == "closed"


# ---- 5. the deadline, with two processes --------------------------------------------------------


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_the_deadline_closes_the_round_once_with_two_processes(
    bots: Callable[..., Any], connector: FakeConnector, redis_client: Redis
) -> None:
    first, second = await bots(2)
    invited = [CHAIR, ADA, BEN]
    await set_up(first, connector, CLERK, invited, chair=CHAIR)
    desk = await clerk_desk(first, connector, CLERK)
    deadline_day = date.today() + timedelta(days=3)
    round_id = await open_round_here(desk, deadline=deadline_day.isoformat())
    clerk_card = str(desk.card_id)
    await eventually(lambda: all(invitations(connector, m) for m in invited), what="invitations")
    ada = chat_client(second, connector, ADA)
    await answer_round(ada, ("G",), finish=True)

    # The close is on the agenda at the end of the deadline day, UK time.
    scheduled = await agenda_item(redis_client, "close", round_id)
    assert scheduled is not None
    end_of_day = datetime.combine(deadline_day, datetime.max.time(), LONDON).replace(microsecond=0)
    assert scheduled[1] == end_of_day.timestamp() * 1000
    await due_now(redis_client, "close", round_id)  # and now that time has come

    await eventually(lambda: summaries_in_channel(connector), what="the summary")
    # Each bot looks at the agenda every second: wait until each has made two more looks (so at
    # least one whole look began after the summary), where a second close would have shown.
    await agenda_looks(first, second, count=2)
    summaries = summaries_in_channel(connector)
    assert len(summaries) == 1, summaries
    assert "1 of 3 trustees (33%)" in summaries[0]
    assert len(personal_cards(connector, CHAIR, HEAT_MAP)) == 1

    stored = await round_hash(redis_client, round_id)
    assert stored["status"] == "closed" and stored["closed_by"] == "deadline"
    for kind in ("close", "remind", "summary"):
        assert await agenda_item(redis_client, kind, round_id) is None, kind
    assert "Closed on" in words(connector.activity(clerk_card) or {})
    assert "at the deadline." in words(connector.activity(clerk_card) or {})
    # Ada's answers are locked now.
    ada.rotation = ()
    assert await ada.say("status") == 200
    assert "closed" in ada.said().lower(), ada.said()


async def agenda_looks(*bots: BotApp, count: int) -> None:
    """Until each bot's agenda loop has finished `count` more passes over the agenda."""
    seen: list[list[float | None]] = [[bot.app[BACKGROUND].agenda_progressed] for bot in bots]

    def done() -> bool:
        for bot, times in zip(bots, seen, strict=True):
            now = bot.app[BACKGROUND].agenda_progressed
            if now != times[-1]:
                times.append(now)
        return all(len(times) > count for times in seen)

    await eventually(done, timeout=10, what=f"{count} looks at the agenda by each bot")


# ---- 6. the automatic reminder ------------------------------------------------------------------


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_the_automatic_reminder_goes_once_to_those_who_have_not_finished(
    bots: Callable[..., Any], connector: FakeConnector, redis_client: Redis
) -> None:
    first, second = await bots(2, ROUND_REMINDER_HOURS="24")
    invited = [CHAIR, ADA, BEN, CARA]
    await set_up(first, connector, CLERK, invited, chair=CHAIR)
    desk = await clerk_desk(second, connector, CLERK)
    deadline_day = date.today() + timedelta(days=7)
    round_id = await open_round_here(desk, deadline=deadline_day.isoformat())
    await eventually(lambda: all(invitations(connector, m) for m in invited), what="invitations")

    clients = {m.name: chat_client(first, connector, m) for m in invited}
    for index, client in enumerate(clients.values()):
        client.rotation = (first, second) if index % 2 else (second, first)
    await answer_round(clients[CHAIR.name], ("AG",), finish=True)
    await answer_round(clients[ADA.name], ("G",), finish=True)
    await answer_round(clients[BEN.name], (), finish=False)  # started, nothing rated yet
    # Cara has not opened hers.

    # ROUND_REMINDER_HOURS=24: the reminder is due a day before the end of the deadline day.
    scheduled = await agenda_item(redis_client, "remind", round_id)
    assert scheduled is not None
    end_of_day = datetime.combine(deadline_day, datetime.max.time(), LONDON).replace(microsecond=0)
    assert scheduled[1] == (end_of_day - timedelta(hours=24)).timestamp() * 1000
    item = await due_now(redis_client, "remind", round_id)

    await eventually(lambda: reminders(connector, BEN) and reminders(connector, CARA))
    await eventually(lambda: settled(redis_client, len(invited) + 2), what="delivery to settle")
    await eventually(lambda: _absent(redis_client, item), what="the reminder done")
    # As if a process had died after reminding and before marking it done: it comes due again.
    seconds, micros = await redis_client.time()
    await redis_client.zadd(agenda_key(item), {item: seconds * 1000 + micros // 1000})
    await eventually(lambda: _absent(redis_client, item), what="the reminder done again")
    # The reminder's steps all done and the queue empty: a second reminder, had one been
    # queued, would be a job of its own (settled counts them) or a send on the way.
    await eventually(lambda: round_steps_done(redis_client, round_id), what="the reminder's steps")
    await eventually(lambda: deliveries_done(redis_client), what="the queue to empty")
    assert await settled(redis_client, len(invited) + 2)

    for member in (BEN, CARA):
        assert reminders(connector, member) == 1, member.name
    for member in (CHAIR, ADA):
        assert reminders(connector, member) == 0, member.name
    for member in invited:
        assert invitations(connector, member) == 1, member.name
    # The clerk's card no longer promises an automatic reminder.
    assert (await round_hash(redis_client, round_id)).get("remind_at", "") == ""


async def _absent(redis: Redis, item: str) -> bool:
    return await redis.zscore(agenda_key(item), item) is None


async def _stored_deliveries(redis: Redis) -> set[str]:
    """The Teams ids of the trustees whose invitation is stored as delivered."""
    jobs = await delivery_jobs(redis)
    return {json.loads(j["recipient"])["id"] for j in jobs if j.get("state") == "delivered"}
