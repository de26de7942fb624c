"""Deadlines are set and shown in the board's time zone (ROUND_TIMEZONE), whichever it is.

A deadline is the end of its day in that zone; west of UTC that moment is the next day in UTC,
so a card that read the date in UTC would show the deadline a day late, and one that said
"(UK time)" would name the wrong zone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from dialogs import clock
from tests.boards.conftest import FAST
from tests.boards.scripted import CHAIR, CLERK, personal_client, round_hash, words
from tests.boards.test_board_round_http import eventually, inbox, name_roles, set_up_board
from tests.dialogs.cardkit import walk
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
async def new_york_bot(bot_app_with: StartBot) -> AsyncIterator[BotApp]:
    before = clock.zone().key
    try:
        yield await bot_app_with({**FAST, "ROUND_TIMEZONE": "America/New_York"})
    finally:
        clock.use_zone(before)  # the zone is the process's: leave it as other tests expect


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


async def test_a_new_york_deadline_reads_as_its_own_day_in_new_york_time(
    new_york_bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    clerk = await set_up_board(new_york_bot, connector)
    await name_roles(clerk)
    today = datetime.now(NEW_YORK).date()
    deadline = today + timedelta(days=7)
    await clerk.click("board.show")
    await clerk.click("round.new")
    [choose] = [
        n
        for n in walk(clerk.card)
        if n.get("type") == "Action.Execute" and n["data"].get("fw") == "cst-trust-governance"
    ]
    await clerk.post(clerk.chat.execute("round.form", choose["data"], str(clerk.card_id), {}))
    form = words(clerk.card)
    assert "(New York time)" in form and "UK time" not in form
    fields = {
        "elements": "1,2",
        "deadline": deadline.isoformat(),
        "visibility": "anonymous",
        "min": "1",
        "message": "",
    }
    assert await clerk.click("round.open", **fields) == 200

    card = personal_client(new_york_bot, connector, CLERK)
    round_id = str(card.button("round.close")["data"]["r"])
    stored = clock.parse_iso((await round_hash(redis_client, round_id))["deadline"])
    assert stored.astimezone(NEW_YORK).date() == deadline  # the end of that day in New York
    assert stored.date() == deadline + timedelta(days=1)  # which in UTC is already the next
    shown = card.words()
    assert f"answers due by the end of {day(deadline)} (New York time)" in shown, shown
    assert "UK time" not in shown
    extend = [n for n in walk(card.card) if n.get("type") == "Input.Date"]
    assert extend and extend[0]["min"] == deadline.isoformat()

    box = await eventually(lambda: (b := inbox(connector, CHAIR)) and b.cards and b)
    invitation = words(box.cards[-1][1])
    assert f"Please answer by the end of {day(deadline)} (New York time)." in invitation
