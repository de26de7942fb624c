"""Closing a round reads its trustees' answers once (and the previous round's once, for the
comparison), however many cards and copies are made from them: a counting wrapper on the store
sees every read of a round's answers."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from redis.asyncio import Redis

from bot.app import DESK
from tests.boards.scripted import (
    CHAIR,
    CLERK,
    TRUSTEES,
    deliveries_done,
    no_steps_left,
    personal_client,
)
from tests.boards.scripted import eventually as settles
from tests.boards.test_board_data_http import summaries
from tests.boards.test_board_round_http import (
    ELEMENTS,
    answer,
    eventually,
    inbox,
    name_roles,
    open_round,
    set_up_board,
)
from tests.support.bot_app import BotApp
from tests.support.fake_connector import FakeConnector

ANSWERING = (CHAIR, *TRUSTEES[:2])


def closing_round(client: Any) -> str:
    return str(client.button("summary.show")["data"]["r"])


def count_reads(bot: BotApp) -> Counter[str]:
    """Every read of many trustees' answers in one round, counted by the round's scope."""
    store = bot.app[DESK].store
    reads: Counter[str] = Counter()

    def counted(name: str) -> None:
        method = getattr(store, name)

        async def wrapper(whos: list[Any], scope: str, *args: Any) -> Any:
            reads[scope] += 1
            return await method(whos, scope, *args)

        setattr(store, name, wrapper)

    counted("in_scope_many")
    counted("lock_scope")
    return reads


def count_fresh_card_readings(bot: BotApp) -> list[str]:
    """The round ids of clerk's-card updates that read the round afresh (given no reading):
    the updates that follow the outbox's reports, after the close itself is done."""
    service = bot.app[DESK].rounds
    update = service._update_round_card
    fresh: list[str] = []

    async def counted(records: Any, round_id: str, reading: Any) -> None:
        if reading is None:
            fresh.append(round_id)
        await update(records, round_id, reading)

    service._update_round_card = counted  # type: ignore[method-assign]
    return fresh


async def run_round(
    bot: BotApp, connector: FakeConnector, redis: Redis, clerk: Any, rating: str
) -> None:
    """A round opened by the clerk and answered by the chair and two trustees."""
    await open_round(clerk)
    # Every invitation of this round is in: all queued, and each delivered or given up on.
    await settles(lambda: no_steps_left(redis), what="the opening's steps")
    await settles(lambda: deliveries_done(redis), what="the invitations")
    for member in ANSWERING:
        await eventually(lambda m=member: (b := inbox(connector, m)) and len(b.cards) >= 1)
    clients = [personal_client(bot, connector, m) for m in ANSWERING]
    await asyncio.gather(*(answer(c, (rating,) * len(ELEMENTS), finish=True) for c in clients))


async def test_closing_a_round_reads_its_answers_once_and_the_previous_rounds_once(
    board_bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    clerk = await set_up_board(board_bot, connector)
    await name_roles(clerk)
    await run_round(board_bot, connector, redis_client, clerk, "R")
    await personal_client(board_bot, connector, CLERK).click("round.close")
    await eventually(lambda: summaries(connector))
    await board_bot.app[DESK].settle()

    if "board.show" not in str(clerk.card):
        await clerk.click("roles.show")
    await run_round(board_bot, connector, redis_client, clerk, "G")
    await board_bot.app[DESK].settle()
    reads = count_reads(board_bot)
    fresh = count_fresh_card_readings(board_bot)
    chair_cards = len(inbox(connector, CHAIR).cards)
    closing = personal_client(board_bot, connector, CLERK)
    assert await closing.click("round.close") == 200
    assert "Round closed" in closing.words()
    await board_bot.app[DESK].settle()

    # What the close made from its one reading: the channel's summary (compared with the first
    # round), the chair's attributed copy and plan card, the clerk's round card.
    text = (await eventually(lambda: summaries(connector)[1:]))[-1]
    assert text.count("Change: R → G") == len(ELEMENTS), text
    await eventually(lambda: len(inbox(connector, CHAIR).cards) >= chair_cards + 2)
    assert "Closed on" in closing.words()
    # This round once by the close, the one before once; and, as the outbox reports the
    # summary posted and the chair's copy delivered, the clerk's card is made again, each time
    # from one more reading of this round (reports arriving together make one), never the one
    # before.
    await eventually(
        lambda: len([u for u in connector.updates() if "Summary posted" in str(u)]) > 1
    )
    await board_bot.app[DESK].settle()
    this_round = next(scope for scope in reads if scope.endswith(closing_round(closing)))
    before = [count for scope, count in reads.items() if scope != this_round]
    assert before == [1], reads
    later = fresh.count(closing_round(closing))
    assert 1 <= later <= 2, fresh  # the summary posted; the chair's copy delivered
    assert reads[this_round] == 1 + later, (reads, fresh)
