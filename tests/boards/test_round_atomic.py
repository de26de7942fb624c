"""Every board action is atomic: a Redis that refuses the Nth write of an operation, for every N.

Each multi-write operation (opening, closing, extending, reminding, changing roles, publishing
the priorities) is run over HTTP against the real redis-server, first to count its writes, then
once for each N with the Nth write refused (as a full Redis refuses it). Every time:
- the bot answers 200, never a 500, and says "not saved, try again" when its turn hit the
  refusal;
- afterwards Redis is either as it was (but for the agenda's look at the round, which finds
  nothing to do) or the operation completes: when the clerk tries again, and, on its own, when
  the agenda takes the round's steps up;
- nothing half-done remains: no step left to do, every trustee invited once, the summary posted.

The bot runs with no delivery workers (invitations stay queued, where the test counts them) so
the only writes are the operation's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.app import DESK, STORE
from dialogs import clock
from dialogs.refusals import NOT_SAVED
from tests.boards.conftest import FAST
from tests.boards.scripted import (
    BOARD_TEAM,
    CHAIR,
    CLERK,
    HEAT_MAP,
    clerk_desk,
    delivery_jobs,
    form_fields,
    round_hash,
    set_up,
    team_id,
    to_round_form,
)
from tests.boards.test_board_permissions import Said, click, data_of
from tests.dialogs.cardkit import walk
from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat, channel, user
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector, adaptive_cards
from tests.support.quiet import PACING
from tests.support.redis_state import agenda_entries, agenda_keys, everything
from tests.support.refusing_redis import RefusingRedis

ADA, BEN = user("Ada Brook"), user("Ben Carr")
TRUSTEES = (CHAIR, ADA, BEN)


async def state(redis: Redis) -> dict[str, Any]:
    """Everything in Redis but the delivery pacing logs, which expire by themselves (taken at
    moments the test has already waited for: the refused write's reply, or the agenda's
    resumption)."""
    return {k: v for k, v in (await everything(redis)).items() if PACING not in k}


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with({**FAST, "DELIVERY_WORKERS": "0"})


@dataclass
class Board:
    bot: BotApp
    connector: FakeConnector
    redis: Redis
    refusing: RefusingRedis
    round_id: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # the clicked button's data
    inputs: dict[str, Any] = field(default_factory=dict)  # and what was typed with it
    verb: str = ""
    who: Any = CLERK
    posted_from: int = 0  # connector calls before this try
    not_counted: range = range(0)  # calls made on a path the test then undid (Redis restored)

    def mark(self) -> None:
        self.posted_from, self.not_counted = len(self.connector.calls), range(0)

    async def act(self) -> Said:
        said = await click(self.bot, self.connector, self.who, self.verb, self.data, self.inputs)
        await self.bot.app[DESK].settle()
        return said

    def since(self) -> list[Any]:
        """What the bot sent Teams in this try."""
        return [
            c
            for i, c in enumerate(self.connector.calls)
            if i >= self.posted_from and i not in self.not_counted
        ]


async def board_with(bot: BotApp, connector: FakeConnector, redis: Redis) -> Board:
    await set_up(bot, connector, CLERK, [CHAIR, ADA, BEN], chair=CHAIR)
    return Board(bot, connector, redis, RefusingRedis(bot.app[STORE].redis))


async def open_a_round(board: Board) -> TeamsClient:
    desk = await clerk_desk(board.bot, board.connector, CLERK)
    await to_round_form(desk)
    assert await desk.click("round.open", **form_fields(elements="1,2")) == 200
    assert "Round opened" in desk.words(), desk.words()
    board.round_id = str(desk.button("round.close")["data"]["r"])
    return desk


async def answer(board: Board, who: Any, ratings: tuple[str, ...], finish: bool) -> None:
    """A trustee answers from their invitation's Start (the invitation itself stays queued)."""
    chat = Chat(service_url=board.connector.url, user=who)
    client = TeamsClient(board.bot, board.connector, chat)
    start = {"b": team_id(), "r": board.round_id}
    assert await client.post(chat.execute("start", start, "1")) == 200
    client.card_id = "1"  # the invitation clicked, whose card each answer replaces
    for rating in ratings:
        [rate] = [
            n
            for n in walk(client.card)
            if n.get("type") == "Action.Execute" and n["data"].get("rating") == rating
        ]
        assert await client.post(chat.execute("rate", rate["data"], str(client.card_id))) == 200
    if finish:
        assert await client.click("finish") == 200


# ---- what each operation leaves when it is done -------------------------------------------------


async def round_of(board: Board) -> dict[str, str]:
    return await round_hash(board.redis, board.round_id)


def no_steps_left(found: Mapping[str, str]) -> None:
    assert not [k for k in found if k.startswith("todo:")], found


async def agenda(board: Board) -> dict[str, float]:
    found = await agenda_entries(board.redis)
    return {m.split("|")[0]: s for m, s in found if m.endswith(f"|{board.round_id}")}


async def jobs(board: Board, batch: str, *, everything: bool = False) -> list[dict[str, str]]:
    found = await delivery_jobs(board.redis, everything=everything)
    return [j for j in found if j.get("round") == batch]


async def channel_jobs(board: Board, batch: str) -> int:
    """Posts queued for the board's channel in one batch (there are no workers to send them)."""
    where = channel(BOARD_TEAM).id
    return len(
        [j for j in await jobs(board, batch, everything=True) if j.get("conversation") == where]
    )


def channel_texts(board: Board, words: str) -> int:
    where = channel(BOARD_TEAM).id
    return sum(
        1
        for c in board.since()
        if c.ok and c.conversation_id == where and isinstance(c.body, dict)
        if words in str(c.body.get("text", ""))
    )


async def opened(board: Board) -> None:
    [key] = [k async for k in board.redis.scan_iter(match="*}:rounds")]
    ids = await board.redis.zrange(key, 0, -1)
    assert len(ids) == 1, ids  # one round, however many tries
    board.round_id = ids[0]
    found = await round_of(board)
    no_steps_left(found)
    assert found["status"] == "open"
    assert set(await agenda(board)) >= {"close"}
    assert len(await jobs(board, board.round_id)) == len(TRUSTEES)  # each invited, once
    assert channel_texts(board, "is open until") <= 1


async def closed(board: Board) -> None:
    found = await round_of(board)
    no_steps_left(found)
    assert found["status"] == "closed"
    for who in (ADA, BEN):
        [key] = [k async for k in board.redis.scan_iter(match=f"*u:*{who.aad_object_id}*:sa:*")]
        assert (await board.redis.hget(key, "status")) == "closed", who.name  # locked
    where = channel(BOARD_TEAM).id
    # Nothing posted from the turn: the channel's summary and the chair's copy are queued in the
    # outbox, each once, whatever write was refused and however often the steps were done.
    assert not [c for c in board.since() if c.conversation_id == where and HEAT_MAP in str(c.body)]
    assert await channel_jobs(board, f"{board.round_id}.summary") == 1
    chair_copy = await jobs(board, f"{board.round_id}.chair", everything=True)
    assert [j.get("audience") for j in chair_copy] == ["chair"], chair_copy
    kinds = set(await agenda(board))
    assert not kinds & {"close", "remind"} and "purge" in kinds, kinds
    assert "summary" in kinds  # followed up until the outbox has sent it


async def extended(board: Board) -> None:
    found = await round_of(board)
    no_steps_left(found)
    new_day = date.fromisoformat(board.inputs["deadline"])
    assert clock.local_date(found["deadline"]) == new_day
    end = clock.end_of_day(new_day)
    assert (await agenda(board))["close"] == end.timestamp() * 1000
    [key] = [k async for k in board.redis.scan_iter(match=f"*{ADA.aad_object_id}*:sa:*")]
    assert (await board.redis.hget(key, "deadline")) == found["deadline"]


async def reminded(board: Board) -> None:
    found = await round_of(board)
    no_steps_left(found)
    assert found["reminders"] == "1"
    assert len(await jobs(board, f"{board.round_id}.r1")) == len(TRUSTEES)


async def roles_changed(board: Board) -> None:
    [key] = [k async for k in board.redis.scan_iter(match="*}:members")]
    members = await board.redis.hgetall(key)
    roles = {k: v.split("\t")[0] for k, v in members.items()}
    assert roles[BEN.aad_object_id] == "chair" and roles[CHAIR.aad_object_id] == "trustee"


async def published(board: Board) -> None:
    found = await round_of(board)
    no_steps_left(found)
    assert found.get("published") and "Governance review" in found["plan"]
    cards = [c for c in board.since() if c.ok and c.conversation_id == channel(BOARD_TEAM).id]
    assert not [c for c in cards if c.kind == "send"]  # queued in the outbox, not posted here
    assert await channel_jobs(board, f"{board.round_id}.p{found['plan_version']}") == 1


# ---- each operation, ready to run ---------------------------------------------------------------


async def ready_to_open(board: Board) -> None:
    desk = await clerk_desk(board.bot, board.connector, CLERK)
    await to_round_form(desk)
    board.verb, board.data = "round.open", data_of(desk.card, "round.open")
    board.inputs = form_fields(elements="1,2")


async def ready_to_close(board: Board) -> None:
    desk = await open_a_round(board)
    await answer(board, ADA, ("R", "G"), finish=True)
    await answer(board, BEN, ("R",), finish=False)
    board.verb, board.data = "round.close", data_of(desk.card, "round.close")


async def ready_to_extend(board: Board) -> None:
    desk = await open_a_round(board)
    await answer(board, ADA, ("G",), finish=False)
    later = date.fromisoformat(form_fields()["deadline"]) + timedelta(days=5)
    board.verb, board.data = "round.extend", data_of(desk.card, "round.extend")
    board.inputs = {"deadline": later.isoformat()}


async def ready_to_remind(board: Board) -> None:
    desk = await open_a_round(board)
    board.verb, board.data = "round.remind", data_of(desk.card, "round.remind")


async def ready_to_change_roles(board: Board) -> None:
    client = await clerk_desk(board.bot, board.connector, CLERK)
    await client.click("roles.show")
    keys = client.button("roles.save")["data"]["keys"]
    roles = {CLERK.aad_object_id: "clerk", BEN.aad_object_id: "chair"}
    board.verb, board.data = "roles.save", data_of(client.card, "roles.save")
    board.inputs = {f"role.{i}": roles.get(k, "trustee") for i, k in enumerate(keys)}


async def ready_to_publish(board: Board) -> None:
    desk = await open_a_round(board)
    await answer(board, ADA, ("R", "R"), finish=True)
    assert await desk.click("round.close") == 200
    chair = await click(
        board.bot,
        board.connector,
        CHAIR,
        "summary.show",
        {"b": team_id(), "r": board.round_id},
    )
    # No workers: the chair's copy stays queued, and Show the summary gives her the plan card.
    here = Chat(service_url=board.connector.url, user=CHAIR).where.id
    plans = [
        card
        for c in board.connector.calls_of("send", "reply", conversation_id=here)
        if c.ok
        for card in adaptive_cards(c.body)
        if "plan.publish" in str(card)
    ]
    assert plans, "no plan card for the chair"
    board.who, board.verb = CHAIR, "plan.publish"
    board.data = data_of(plans[-1], "plan.publish")
    # Every priority planned, so Publish goes ahead without asking to confirm.
    board.inputs = {
        "actions.1": "Governance review by March",
        "progress.1": "A new scheme",
        "actions.2": "Values set out with staff",
        "progress.2": "Staff survey improves",
    }
    assert chair.status == 200


@dataclass(frozen=True)
class Operation:
    name: str
    ready: Callable[[Board], Awaitable[None]]
    done: Callable[[Board], Awaitable[None]]
    answer: str  # what the clerk (or chair) is told when it went through
    # What they are told on trying again after the refused write came after the operation's
    # own script had gone through (publishing: the priorities are already published, so the
    # second press brings the channel's post up to date).
    again: str | None = None


OPERATIONS = [
    Operation("open", ready_to_open, opened, "Round opened"),
    Operation("close", ready_to_close, closed, "Round closed"),
    Operation("extend", ready_to_extend, extended, "Deadline moved"),
    Operation("remind", ready_to_remind, reminded, "Reminder on its way"),
    Operation("roles", ready_to_change_roles, roles_changed, "Roles saved"),
    Operation(
        "publish",
        ready_to_publish,
        published,
        "Published to the board's channel",
        again="Published again: the priorities already in the board's channel are brought up",
    ),
]


# ---- the state before, restored for each N ------------------------------------------------------


async def snapshot(redis: Redis) -> list[tuple[str, int, bytes]]:
    found = []
    for key in await redis.keys("*"):
        ttl = await redis.pttl(key)
        found.append((key, max(ttl, 0), await redis.dump(key)))
    return found


async def restore(redis: Redis, saved: list[tuple[str, int, bytes]]) -> None:
    await redis.flushall()
    for key, ttl, dumped in saved:
        await redis.restore(key, ttl, dumped)


async def unchanged(redis: Redis, before: Mapping[str, Any]) -> bool:
    """Redis as it was, but for the agenda's look at a round (it finds nothing to do)."""
    return _without_resume(await state(redis)) == _without_resume(before)


def _without_resume(found: Mapping[str, Any]) -> dict[str, Any]:
    kept = dict(found)
    for key in [k for k in kept if k in AGENDA_KEYS]:  # every shard's due set
        kept[key] = [(m, s) for m, s in kept[key] if not m.startswith("resume|")]
        if not kept[key]:
            del kept[key]
    return kept


AGENDA_KEYS = frozenset(agenda_keys())


async def resume_by_agenda(board: Board) -> None:
    """What any process's agenda loop does when the round's look comes due."""
    found = await agenda_entries(board.redis)
    desk = board.bot.app[DESK]
    for item in [m for m, _ in found if m.startswith("resume|")]:
        await desk.due(item)
    await desk.settle()


@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.name for o in OPERATIONS])
async def test_a_refused_write_at_any_point_leaves_nothing_half_done(
    operation: Operation, bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    board = await board_with(bot, connector, redis_client)
    await operation.ready(board)
    await bot.app[DESK].settle()
    await asyncio.sleep(0)
    saved, before = await snapshot(redis_client), await state(redis_client)

    board.mark()
    board.refusing.arm(None)
    said = await board.act()
    writes = board.refusing.disarm()
    assert operation.answer in said.text, said.text
    await operation.done(board)
    assert writes >= 1

    for n in range(1, writes + 1):
        await restore(redis_client, saved)
        board.mark()
        board.refusing.arm(n)
        said = await board.act()  # 200, or `click` fails the test
        board.refusing.disarm()
        what = f"{operation.name}, write {n} of {writes} refused ({board.refusing.refused})"
        if NOT_SAVED not in said.text:
            # The refused write was not the turn's own (a card refreshed after): it went through.
            assert operation.answer in said.text, (what, said.text)
            await operation.done(board)
            continue
        assert board.refusing.refused is not None, what
        failed, failed_state = await snapshot(redis_client), await state(redis_client)
        if not await unchanged(redis_client, before):
            # Part done: the agenda carries it on, on its own.
            first = len(connector.calls)
            await resume_by_agenda(board)
            try:
                await operation.done(board)
            except AssertionError as exc:
                raise AssertionError(f"{what}: not finished by the agenda") from exc
            await restore(redis_client, failed)
            board.not_counted = range(first, len(connector.calls))
        assert await state(redis_client) == failed_state
        # The person tries again, as they are told: it goes through, once.
        said = await board.act()
        told = [operation.answer, *([operation.again] if operation.again else [])]
        assert any(answer in said.text for answer in told), (what, said.text)
        try:
            await operation.done(board)
        except AssertionError as exc:
            raise AssertionError(f"{what}: not finished when tried again") from exc
