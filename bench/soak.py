"""A bounded soak on loopback: board rounds answered at once through two bot processes sharing one
Redis, and that Redis restarted while the answers flow.

The scenario (tests/soak runs it at its default size and asserts the correctness figures):

- `--boards` boards (default 20) on `--tenants` tenants (default 2), each a Teams team with a
  clerk, a chair and `--trustees` trustees (default 10). Each clerk sets the board up from its
  channel, names the chair, and opens a round on the first `--elements` elements of the
  governance framework (default 4) from their 1:1 chat. The chair is invited with the trustees
  but does not answer, so each summary says "10 of 11".
- `--processes` bot processes (`python -m bot`, default 2) share one redis-server of the bench's
  own, started from deploy/redis.conf with the append-only file on, as deployed. Every process runs
  a delivery worker (DELIVERY_CLAIM_IDLE=2, DELIVERY_ATTEMPT_TIMEOUT=3, DELIVERY_PER_TENANT=200).
  Every client's turns alternate between the processes' /api/messages.
- Once every invitation has arrived, every trustee answers at once, as their Teams client would:
  Start on the invitation card, rate each element with a line of evidence, Finish.
- When `--restart-at` of those turns (default 0.4) have been posted, the redis-server is stopped
  (SIGTERM) and, `--down` seconds later (default 0.5; longer if no turn has met the outage yet),
  started again on the same port from its append-only file. A trustee told "not saved, please try
  again" tries the same click again after a short pause, as a person would, so every rating is in
  the end submitted.
- Each clerk then closes their round; the summary goes to the board's channel and to the chair.

Then it checks what was stored and what was sent:

- Redis holds every rating each trustee was told was saved, exactly once: one round assessment
  per trustee, one r:<n> per element, the value (and evidence) they chose; nothing else.
- every invited member (trustees and chair) got exactly one invitation;
- every board's channel got exactly one summary card (and the chair one copy), and its numbers
  add up: the response rate "n of m", each element's distribution (R, AR, AG, G) matching the
  ratings given, and the board rating the median the card states.

Figures: turns posted; turns answered "not saved" and retried (split into those that overlapped
the restart and the others, which the bots' log explains); 5xx answers; lost and duplicated
ratings; duplicate and missed invitations; time taken, turns per second and answering turns'
latency; the most clients Redis had and the commands it ran per answering turn; the bots'
warnings and errors, counted; and the clerks' round cards that did not catch up with the answers
by themselves (see CLERK_CARDS). Correctness figures must be zero; timings depend on the machine
and are only reported. Everything is written to bench/results/soak.json.

    .venv/bin/python -m bench.soak       (scripts/bench soak: 40 boards, 480 trustees, 6 elements)
    .venv/bin/python -m bench.soak --boards 20 --trustees 10 --elements 4   (the test's size)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bench.common import RESULTS, table, write
from dialogs.engine import NOT_SAVED
from dialogs.state import Who
from dialogs.store.keys import Keys
from tests.boards.scripted import HEAT_MAP, INVITED, ChatClient, open_round_here, roster, words
from tests.dialogs.cardkit import walk
from tests.support.activities import (
    OTHER_TENANT,
    TENANT,
    Chat,
    Conversation,
    User,
    channel,
    user,
)
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import ADAPTIVE_CARD, FakeConnector, adaptive_cards
from tests.support.redis_server import RedisServer

PREFIX = "tb"  # REDIS_KEY_PREFIX, set for the bots so the checks read the same keys
RATINGS = ("R", "AR", "AG", "G")  # weakest first, as the board rating's median counts them
MAX_TRIES = 40  # a click told "not saved" this many times in a row fails the trustee
SETTLE = 1.5  # seconds to keep listening after the last summary, for a second one
# Seconds to wait for every clerk's round card to show all answers before the rounds close. A
# card left behind is reported (clerk_cards_behind) but not counted as a problem: two refreshes
# of the same card can reach Teams out of order, the older last (a known fault, reproduced in
# tests/soak/test_soak.py), and that shows here in about half the runs.
CLERK_CARDS = 5.0
DELIVERY_ENV = {
    "DELIVERY_CLAIM_IDLE": "2",
    "DELIVERY_ATTEMPT_TIMEOUT": "3",
    "DELIVERY_PER_TENANT": "200",
    "DELIVERY_WORKERS": "1",
}
FINAL_STATES = ("delivered", "unreachable", "failed")


@dataclass(frozen=True)
class Setup:
    boards: int = 20
    trustees: int = 10  # answering trustees a board; its chair is invited too
    tenants: int = 2
    elements: int = 4  # the round covers elements 1..elements of the governance framework
    processes: int = 2
    restart_at: float = 0.4  # share of the answering turns posted when Redis restarts
    down: float = 0.5  # seconds Redis stays down, at least
    pause: float = 0.4  # a trustee told "not saved" tries again after this (with jitter)
    timeout: float = 180.0  # a safety net for the whole scenario, which takes 40-65 s here
    seed: int = 2026


class SoakError(AssertionError):
    """A client did not see what a person would have seen (the message says what and who)."""


# ---- the people ------------------------------------------------------------------------------


def tenant_of(number: int) -> str:
    if number < 2:
        return (TENANT, OTHER_TENANT)[number]
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"trustboard-soak-tenant:{number}"))


@dataclass
class Board:
    number: int
    tenant: str
    team: Conversation  # the team's General channel
    clerk: User
    chair: User
    trustees: list[User]
    round_id: str = ""
    desk: ChatClient | None = None  # the clerk's 1:1 chat, showing the round card

    @property
    def invited(self) -> list[User]:
        return [self.chair, *self.trustees]


@dataclass
class Trustee:
    board: Board
    user: User
    index: int  # which process takes their first turn
    chosen: dict[int, str]  # the rating they mean to give each element
    chat: Chat | None = None
    card_id: str = ""
    card: dict[str, Any] = field(default_factory=dict)
    saved: dict[int, str] = field(default_factory=dict)  # told "Saved n."
    evidence: dict[int, str] = field(default_factory=dict)
    finished: bool = False
    turns: int = 0

    @property
    def name(self) -> str:
        return self.user.name


def people(setup: Setup) -> tuple[list[Board], list[Trustee]]:
    rng = random.Random(setup.seed)
    boards, trustees = [], []
    for b in range(1, setup.boards + 1):
        label = f"soak board {b:03d}"
        board = Board(
            number=b,
            tenant=tenant_of((b - 1) % max(1, setup.tenants)),
            team=channel(f"Soak trust {b:03d} board"),
            clerk=user(f"Clerk of {label}"),
            chair=user(f"Chair of {label}"),
            trustees=[user(f"Trustee {t:02d} of {label}") for t in range(1, setup.trustees + 1)],
        )
        boards.append(board)
        for member in board.trustees:
            chosen = {n: rng.choice(RATINGS) for n in range(1, setup.elements + 1)}
            trustees.append(Trustee(board, member, len(trustees), chosen))
    return boards, trustees


# ---- posting turns ---------------------------------------------------------------------------


@dataclass
class Figures:
    turns: int = 0  # every activity posted to a bot
    answer_turns: int = 0  # those of trustees answering (retries included)
    not_saved: int = 0  # answered "not saved", and tried again
    errors_5xx: int = 0
    other_http_errors: int = 0  # 4xx, or an answer a client could not read
    error_samples: list[str] = field(default_factory=list)
    # Each answering turn: posted, answered (time.monotonic()), and whether it was "not saved".
    answer_turn_times: list[tuple[float, float, bool]] = field(default_factory=list)
    outage: tuple[float, float] | None = None  # Redis stopped, and answering PING again

    def not_saved_split(self) -> tuple[int, int]:
        """Turns answered "not saved" that overlapped the restart, and the others."""
        during = sum(
            1
            for began, ended, refused in self.answer_turn_times
            if refused and self.outage and began <= self.outage[1] and ended >= self.outage[0]
        )
        return during, self.not_saved - during

    def latency_ms(self) -> dict[str, float]:
        took = sorted(ended - began for began, ended, _ in self.answer_turn_times)
        if not took:
            return {}

        def at(share: float) -> int:
            return round(1000 * took[min(len(took) - 1, int(share * len(took)))])

        return {"p50": at(0.5), "p99": at(0.99), "max": at(1.0)}


class Poster:
    """Posts activities over one connection pool and counts what the bots answered."""

    def __init__(self, session: aiohttp.ClientSession, figures: Figures) -> None:
        self.session = session
        self.figures = figures

    async def post(self, bot: BotProcess, activity: dict[str, Any]) -> tuple[int, Any]:
        self.figures.turns += 1
        async with self.session.post(bot.messages_url, json=activity) as response:
            status, raw = response.status, await response.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        if status >= 500:
            self.figures.errors_5xx += 1
        elif status >= 400:
            self.figures.other_http_errors += 1
        if status >= 400 and len(self.figures.error_samples) < 10:
            verb = activity.get("value", {}).get("action", {}).get("verb") or activity.get("type")
            self.figures.error_samples.append(f"{status} on {verb}: {str(body)[:200]}")
        return status, body


class Via:
    """A bot process as a TeamsClient sees it (`post` → status, body), through the Poster."""

    def __init__(self, bot: BotProcess, poster: Poster) -> None:
        self.bot = bot
        self.poster = poster

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        return await self.poster.post(self.bot, activity)


def rotation(vias: Sequence[Via], start: int) -> tuple[Via, ...]:
    """The processes in turn, starting at a different one for each client."""
    count = len(vias)
    return tuple(vias[(start + i) % count] for i in range(count))


# ---- the clerks ------------------------------------------------------------------------------


def client(vias: Sequence[Via], connector: FakeConnector, chat: Chat, start: int) -> ChatClient:
    found = ChatClient(vias[0], connector, chat)  # type: ignore[arg-type]
    found.rotation = rotation(vias, start)  # type: ignore[assignment]
    return found


async def open_board(
    board: Board, vias: Sequence[Via], connector: FakeConnector, setup: Setup
) -> None:
    """The clerk adds the bot to the team, sets the board up, names the chair, and opens the
    round from their 1:1 chat (where the round card stays, up to date)."""
    assert board.team.team_id is not None
    members = [board.clerk, board.chair, *board.trustees]
    connector.set_roster(roster(*members), conversation_id=board.team.team_id)
    here = Chat(service_url=connector.url, tenant=board.tenant, user=board.clerk)
    room = client(vias, connector, replace(here, conversation=board.team), board.number)
    status = await room.post(room.chat.bot_added())
    _expect(status in (200, 201) and "board.setup" in str(room.card), board, "set-up card")
    _expect(await room.click("board.setup") == 200, board, "board.setup")
    _expect("you are its clerk" in words(room.card), board, f"set up: {words(room.card)[:200]}")
    await room.click("roles.show")
    keys = room.button("roles.save")["data"]["keys"]
    role = {board.clerk.aad_object_id: "clerk", board.chair.aad_object_id: "chair"}
    chosen = {f"role.{i}": role.get(key, "trustee") for i, key in enumerate(keys)}
    _expect(await room.click("roles.save", **chosen) == 200, board, "roles.save")
    _expect("Roles saved" in words(room.card), board, f"roles: {words(room.card)[:200]}")

    desk = client(vias, connector, here, board.number + 1)
    _expect(await desk.say("board") == 200, board, "board in the clerk's chat")
    elements = ",".join(str(n) for n in range(1, setup.elements + 1))
    board.round_id = await open_round_here(desk, elements=elements, min="1")
    board.desk = desk


async def close_board(board: Board) -> None:
    desk = board.desk
    assert desk is not None
    _expect(await desk.click("round.close") == 200, board, "round.close")
    _expect("Round closed" in words(desk.card), board, f"close: {desk.said()[:200]}")


def _expect(ok: bool, board: Board, what: str) -> None:
    if not ok:
        raise SoakError(f"board {board.number}: {what}")


# ---- the trustees ----------------------------------------------------------------------------


class Answering:
    """Every trustee's Teams client, answering their round from the invitation on."""

    def __init__(self, setup: Setup, bots: Sequence[BotProcess], poster: Poster) -> None:
        self.setup = setup
        self.bots = bots
        self.poster = poster
        self.figures = poster.figures
        self.rng = random.Random(setup.seed + 1)

    async def answer(self, trustee: Trustee) -> None:
        start = _button(trustee.card, "start")
        card = await self.click(trustee, "start", start)
        _check(trustee, "Board round started" in words(card) or "Welcome back" in words(card))
        for _ in range(self.setup.elements):
            number = _element_on(card)
            _check(trustee, number in trustee.chosen and number not in trustee.saved, card)
            rating = trustee.chosen[number]
            evidence = f"Soak b{trustee.board.number} {trustee.name[:10]}: minutes show {rating}"
            data = _button(card, "rate", rating=rating, n=number)
            card = await self.click(trustee, "rate", data, {"evidence": evidence})
            _check(trustee, f"Saved {number}." in words(card), card)
            trustee.saved[number] = rating
            trustee.evidence[number] = evidence
        card = await self.click(trustee, "finish", _button(card, "finish"))
        _check(trustee, "answers are in the board's round" in words(card), card)
        trustee.finished = True

    async def click(
        self,
        trustee: Trustee,
        verb: str,
        data: dict[str, Any],
        inputs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One click, made again after a pause while the bot says it was not saved; returns
        the card Teams then shows in place of the clicked one."""
        assert trustee.chat is not None
        for _ in range(MAX_TRIES):
            bot = self.bots[(trustee.index + trustee.turns) % len(self.bots)]
            trustee.turns += 1
            self.figures.answer_turns += 1
            activity = trustee.chat.execute(verb, data, trustee.card_id, inputs)
            began = time.monotonic()
            status, body = await self.poster.post(bot, activity)
            refused = isinstance(body, dict) and body.get("value") == NOT_SAVED
            self.figures.answer_turn_times.append((began, time.monotonic(), refused))
            if status >= 500:  # counted; a person would try again
                await self.pause()
                continue
            if status != 200 or not isinstance(body, dict):
                raise SoakError(f"{trustee.name}: {verb} answered {status} {str(body)[:200]}")
            if body.get("type") == ADAPTIVE_CARD:
                trustee.card = body["value"]
                return trustee.card
            if body.get("value") == NOT_SAVED:
                self.figures.not_saved += 1
                await self.pause()
                continue
            raise SoakError(f"{trustee.name}: {verb} answered {body.get('value')!r}")
        raise SoakError(f"{trustee.name}: {verb} still not saved after {MAX_TRIES} tries")

    async def pause(self) -> None:
        await asyncio.sleep(self.setup.pause * (0.5 + self.rng.random()))


def _button(card: dict[str, Any], verb: str, **data: Any) -> dict[str, Any]:
    for node in walk(card):
        if node.get("type") != "Action.Execute" or node.get("verb") != verb:
            continue
        if all(node["data"].get(k) == v for k, v in data.items()):
            return dict(node["data"])
    raise SoakError(f"no {verb} {data} button on the card: {words(card)[:200]}")


def _element_on(card: dict[str, Any]) -> int:
    numbers = {
        int(n["data"]["n"])
        for n in walk(card)
        if n.get("type") == "Action.Execute" and n.get("verb") == "rate"
    }
    if len(numbers) != 1:
        raise SoakError(f"not one element's rating buttons on the card: {words(card)[:200]}")
    return numbers.pop()


def _check(trustee: Trustee, ok: bool, card: dict[str, Any] | None = None) -> None:
    if not ok:
        shown = words(card or trustee.card)[:300]
        raise SoakError(f"{trustee.name} (board {trustee.board.number}) saw: {shown}")


# ---- what the fake connector saw ---------------------------------------------------------------


class Sent:
    """The personal chats the bots opened and the cards they posted, read from the connector."""

    def __init__(self, connector: FakeConnector) -> None:
        self.chats: dict[str, list[str]] = defaultdict(list)  # member id -> conversations
        self.cards: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for call in list(connector.calls):
            if not call.ok or not isinstance(call.body, dict):
                continue
            if call.kind == "create":
                for m in call.body.get("members") or []:
                    self.chats[str(m.get("id"))].append(str(call.conversation_id))
            elif call.kind in ("send", "reply"):
                for card in adaptive_cards(call.body):
                    self.cards[str(call.conversation_id)].append((str(call.assigned_id), card))

    def personal(self, member: User, heading: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(conversation, activity id, card) of every card with `heading` sent to the member."""
        return [
            (chat, activity, card)
            for chat in dict.fromkeys(self.chats.get(member.id, []))
            for activity, card in self.cards.get(chat, [])
            if heading in words(card)
        ]

    def channel(self, board: Board, heading: str) -> list[dict[str, Any]]:
        return [card for _, card in self.cards.get(board.team.id, []) if heading in words(card)]


def tally(connector: FakeConnector, board: Board) -> str:
    """The tally on the clerk's round card as it now stands ("Responded 9 · In progress 1 …")."""
    assert board.desk is not None
    shown = words(connector.activity(str(board.desk.card_id)) or {})
    found = re.search(r"Responded \d+ · In progress \d+ · Not started \d+", shown)
    return found.group(0) if found else shown[:80]


def behind(connector: FakeConnector, boards: Sequence[Board]) -> list[Board]:
    """Boards whose clerk's round card does not show every trustee as responded."""
    done = "Responded {} · In progress 0 · Not started 1"
    return [b for b in boards if tally(connector, b) != done.format(len(b.trustees))]


async def delivery_settled(redis: Redis, expected: int) -> bool:
    states = []
    async for key in redis.scan_iter(match=Keys(PREFIX).jobs_pattern(), count=1000):
        states.append(await redis.hget(key, "state"))
    return len(states) >= expected and all(s in FINAL_STATES for s in states)


async def eventually(check: Any, timeout: float, what: str) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise SoakError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.1)


# ---- the checks ------------------------------------------------------------------------------


@dataclass
class Checked:
    ratings_submitted: int = 0
    ratings_in_redis: int = 0
    lost_ratings: int = 0
    duplicated_ratings: int = 0
    duplicate_invitations: int = 0
    missed_invitations: int = 0
    summaries: int = 0
    summary_problems: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)


async def check_redis(redis: Redis, trustees: Sequence[Trustee], checked: Checked) -> None:
    """Each trustee's round answers as stored: one assessment, the ratings they were told were
    saved (value and evidence), each once, and nothing else."""
    keys = Keys(PREFIX)
    for t in trustees:
        who = Who(t.board.tenant, t.user.aad_object_id)
        checked.ratings_submitted += len(t.saved)
        found = []
        for assessment_id in await redis.zrange(keys.assessments(who), 0, -1):
            stored = await redis.hgetall(keys.assessment(who, assessment_id))
            if stored.get("round") == t.board.round_id:
                found.append(stored)
        ratings = [
            {int(k[2:]): v for k, v in stored.items() if k.startswith("r:")} for stored in found
        ]
        checked.ratings_in_redis += sum(len(r) for r in ratings)
        if len(found) != 1:
            checked.problem(f"{t.name}: {len(found)} assessments in round {t.board.round_id}")
        if len(found) > 1:
            checked.duplicated_ratings += sum(len(r) for r in ratings[1:])
        first, rated = (found[0], ratings[0]) if found else ({}, {})
        for number, rating in t.saved.items():
            if rated.get(number) != rating:
                checked.lost_ratings += 1
                checked.problem(f"{t.name}: r:{number} is {rated.get(number)!r}, not {rating}")
            elif first.get(f"e:{number}") != t.evidence[number]:
                checked.problem(f"{t.name}: e:{number} is not the evidence they gave")
        for number in set(rated) - set(t.saved):
            checked.duplicated_ratings += 1
            checked.problem(f"{t.name}: r:{number} stored but never confirmed saved")
        if found and first.get("status") != "closed":
            checked.problem(f"{t.name}: answers {first.get('status')!r} after the round closed")
        if not t.finished:
            checked.problem(f"{t.name}: did not finish")


def check_invitations(sent: Sent, boards: Sequence[Board], checked: Checked) -> None:
    for board in boards:
        for member in board.invited:
            count = len(sent.personal(member, INVITED))
            if count == 0:
                checked.missed_invitations += 1
                checked.problem(f"{member.name}: no invitation")
            elif count > 1:
                checked.duplicate_invitations += count - 1
                checked.problem(f"{member.name}: {count} invitations")


SUMMARY_CELL = re.compile(r"^Board: (\S+) · R (\d+) · AR (\d+) · AG (\d+) · G (\d+)")
RESPONSE_RATE = re.compile(r"Response rate: (\d+) of (\d+) trustees? \((\d+)%\)")


def check_summaries(
    sent: Sent, boards: Sequence[Board], trustees: Sequence[Trustee], checked: Checked
) -> None:
    by_board: dict[int, list[Trustee]] = defaultdict(list)
    for t in trustees:
        by_board[t.board.number].append(t)
    for board in boards:
        posted = sent.channel(board, HEAT_MAP)
        checked.summaries += len(posted)
        chair_copies = len(sent.personal(board.chair, HEAT_MAP))
        if len(posted) != 1 or chair_copies != 1:
            checked.summary_problems += 1
            checked.problem(
                f"board {board.number}: {len(posted)} summaries in the channel, "
                f"{chair_copies} to the chair"
            )
        if posted:
            for problem in summary_mismatches(posted[0], board, by_board[board.number]):
                checked.summary_problems += 1
                checked.problem(f"board {board.number}: {problem}")


def summary_mismatches(
    card: dict[str, Any], board: Board, trustees: Sequence[Trustee]
) -> list[str]:
    """Where the card's numbers and the ratings given disagree."""
    text = words(card)
    problems = []
    finished = sum(1 for t in trustees if t.finished)
    invited = len(board.invited)
    rate = RESPONSE_RATE.search(text)
    expected_rate = (finished, invited, _percent(finished, invited))
    if rate is None or tuple(int(x) for x in rate.groups()) != expected_rate:
        problems.append(f"response rate {rate.group(0) if rate else None}, not {expected_rate}")
    if finished < len(trustees) or "in progress when the round closed" in text:
        in_progress = len(trustees) - finished
        if f"{in_progress} more" not in text:
            problems.append("in-progress count")
    cells: dict[int, tuple[str, Counter[str]]] = {}
    label = None
    for line in text.splitlines():
        found = re.match(r"^(\d+)\. ", line)
        if found:
            label = int(found.group(1))
            continue
        cell = SUMMARY_CELL.match(line)
        if cell and label is not None and label not in cells:
            counts = Counter(dict(zip(RATINGS, (int(c) for c in cell.groups()[1:]), strict=True)))
            cells[label] = (cell.group(1), counts)
    numbers = sorted({n for t in trustees for n in t.saved})
    if sorted(cells) != numbers:
        problems.append(f"cells for elements {sorted(cells)}, not {numbers}")
    for number in numbers:
        given = [t.saved[number] for t in trustees if number in t.saved]
        expected = Counter({r: 0 for r in RATINGS}) + Counter(given)
        board_rating, counts = cells.get(number, ("", Counter()))
        if sum(counts.values()) != len(given) or any(counts[r] != expected[r] for r in RATINGS):
            problems.append(f"element {number}: {dict(counts)}, ratings given {dict(expected)}")
        ordered = sorted(given, key=RATINGS.index)
        median = ordered[(len(ordered) - 1) // 2] if ordered else ""
        if board_rating != median:
            problems.append(f"element {number}: board rating {board_rating}, median {median}")
    return problems


def _percent(part: int, whole: int) -> int:
    """Half up, but never 100 until everyone is in, nor 0 once someone is (the card's rule)."""
    value = (200 * part + whole) // (2 * whole)
    value = min(value, 99) if part < whole else value
    return max(value, 1) if part > 0 else value


# ---- the run ---------------------------------------------------------------------------------


@dataclass
class Soak:
    setup: Setup
    figures: Figures = field(default_factory=Figures)
    checked: Checked = field(default_factory=Checked)
    phases: dict[str, float] = field(default_factory=dict)
    restart: dict[str, Any] = field(default_factory=dict)
    bot_log: Counter[str] = field(default_factory=Counter)
    clerk_cards_behind: dict[str, str] = field(default_factory=dict)
    redis_clients_peak: int = 0
    redis_commands: int = 0  # while the trustees answered (the watcher's own included)
    trustees: int = 0
    invited: int = 0
    elapsed: float = 0.0
    failure: str | None = None  # the scenario stopped early: why

    def result(self) -> dict[str, Any]:
        answering = self.phases.get("answering", 0.0)
        f, c = self.figures, self.checked
        return {
            "setup": self.setup.__dict__,
            "trustees_answering": self.trustees,
            "invited": self.invited,
            "turns_posted": f.turns,
            "answer_turns_posted": f.answer_turns,
            "not_saved_retried": f.not_saved,
            "not_saved_overlapping_restart": f.not_saved_split()[0],
            "not_saved_otherwise": f.not_saved_split()[1],
            "errors_5xx": f.errors_5xx,
            "other_http_errors": f.other_http_errors,
            "ratings_submitted": c.ratings_submitted,
            "ratings_in_redis": c.ratings_in_redis,
            "lost_ratings": c.lost_ratings,
            "duplicated_ratings": c.duplicated_ratings,
            "duplicate_invitations": c.duplicate_invitations,
            "missed_invitations": c.missed_invitations,
            "summaries_in_channels": c.summaries,
            "summary_problems": c.summary_problems,
            "redis_restart": self.restart,
            "time_s": round(self.elapsed, 1),
            "phases_s": {k: round(v, 2) for k, v in self.phases.items()},
            "answer_turns_per_s": round(f.answer_turns / answering, 1) if answering else 0.0,
            "answer_turn_ms": f.latency_ms(),
            "clerk_cards_behind": self.clerk_cards_behind,
            "redis_clients_peak": self.redis_clients_peak,
            "redis_commands_per_answer_turn": (
                round(self.redis_commands / f.answer_turns, 1) if f.answer_turns else 0.0
            ),
            "turns_per_s": round(f.turns / self.elapsed, 1) if self.elapsed else 0.0,
            "error_samples": f.error_samples,
            "bot_log": dict(self.bot_log.most_common(20)),
            "problems": ([self.failure] if self.failure else []) + c.problems,
        }


async def run(setup: Setup, scratch: Path) -> dict[str, Any]:
    """The whole scenario on a redis-server in `scratch`; returns the figures (see `Soak`)."""
    soak = Soak(setup)
    started = time.monotonic()
    with RedisServer(scratch / "redis", appendonly=True) as server:
        env = {"REDIS_URL": server.url, "REDIS_KEY_PREFIX": PREFIX, **DELIVERY_ENV}
        bots = [BotProcess(env) for _ in range(setup.processes)]
        try:
            async with FakeConnector() as connector:
                try:
                    await asyncio.wait_for(_scenario(soak, server, bots, connector), setup.timeout)
                except (TimeoutError, SoakError) as exc:
                    soak.failure = f"{type(exc).__name__}: {exc}" if str(exc) else repr(exc)
                if connector.unknown:
                    soak.checked.problem(f"calls to unknown connector routes: {connector.unknown}")
        finally:
            for bot in bots:
                if bot.process is not None and bot.returncode() is not None:
                    soak.checked.problem(f"bot process {bot.pid} died ({bot.returncode()})")
                await asyncio.to_thread(bot.stop)
                log_lines(bot.stderr() + bot.stdout(), soak.bot_log)
                bot.cleanup()
    soak.elapsed = time.monotonic() - started
    return soak.result()


async def _scenario(
    soak: Soak, server: RedisServer, bots: list[BotProcess], connector: FakeConnector
) -> None:
    setup, figures = soak.setup, soak.figures
    clock = time.monotonic()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        soak.phases[name] = now - clock
        clock = now

    await asyncio.gather(*(asyncio.to_thread(bot.start) for bot in bots))
    phase("bots_start")
    boards, trustees = people(setup)
    soak.trustees = len(trustees)
    soak.invited = sum(len(b.invited) for b in boards)
    limit = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(
        connector=limit, timeout=aiohttp.ClientTimeout(total=60)
    ) as session:
        poster = Poster(session, figures)
        vias = [Via(bot, poster) for bot in bots]

        await asyncio.gather(*(open_board(b, vias, connector, setup) for b in boards))
        phase("boards_set_up")

        # Every invitation arrives, and the outbox has settled every job, before anyone answers.
        def all_invited() -> bool:
            sent = Sent(connector)
            return all(sent.personal(m, INVITED) for b in boards for m in b.invited)

        await eventually(all_invited, 30, "every invitation")
        async with Redis.from_url(server.url, decode_responses=True) as redis:
            await eventually(lambda: delivery_settled(redis, soak.invited), 30, "delivery")
        phase("delivery")

        sent = Sent(connector)
        for t in trustees:
            chat_id, activity, card = sent.personal(t.user, INVITED)[0]
            where = Conversation(chat_id)
            t.chat = Chat(
                service_url=connector.url, tenant=t.board.tenant, user=t.user, conversation=where
            )
            t.card_id, t.card = activity, card

        answering = Answering(setup, bots, poster)
        expected = len(trustees) * (setup.elements + 2)
        answers = asyncio.gather(*(answering.answer(t) for t in trustees), return_exceptions=True)
        restart = asyncio.create_task(_restart_midway(soak, server, expected, answers))
        watch = asyncio.create_task(_watch_redis(soak, server, answers))
        outcomes = await answers
        await restart
        await watch
        phase("answering")
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                soak.checked.problem(f"{type(outcome).__name__}: {outcome}")

        # Each clerk's round card, in their 1:1 chat, should catch up with the answers by itself.
        # Reported, not counted as a problem: see CLERK_CARDS.
        with contextlib.suppress(SoakError):
            await eventually(lambda: not behind(connector, boards), CLERK_CARDS, "clerks' cards")
        soak.clerk_cards_behind = {
            f"board {b.number}": tally(connector, b) for b in behind(connector, boards)
        }
        phase("clerk_cards")

        await asyncio.gather(*(close_board(b) for b in boards))
        phase("closing")
        await eventually(
            lambda: all(Sent(connector).channel(b, HEAT_MAP) for b in boards), 30, "every summary"
        )
        await asyncio.sleep(SETTLE)  # a second summary, were one coming, would be posted by now
        phase("summaries")

        sent = Sent(connector)
        check_invitations(sent, boards, soak.checked)
        check_summaries(sent, boards, trustees, soak.checked)
        async with Redis.from_url(server.url, decode_responses=True) as redis:  # since restarted
            await check_redis(redis, trustees, soak.checked)
        phase("checks")


async def _restart_midway(
    soak: Soak, server: RedisServer, expected: int, answers: asyncio.Future[Any]
) -> None:
    """Stop Redis once `restart_at` of the answering turns are posted; start it again from its
    append-only file after `down` seconds, or later if no turn has met the outage yet."""
    setup, figures = soak.setup, soak.figures
    loop = asyncio.get_running_loop()
    while figures.answer_turns < setup.restart_at * expected:
        if answers.done():
            soak.restart = {"happened": False}
            return
        await asyncio.sleep(0.01)
    soak.restart = {"after_answer_turns": figures.answer_turns, "of_about": expected}
    began, not_saved, stopped = loop.time(), figures.not_saved, time.monotonic()
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(setup.down)
    while figures.not_saved == not_saved and loop.time() - began < 5 and not answers.done():
        await asyncio.sleep(0.05)
    await asyncio.to_thread(server.restart)
    figures.outage = (stopped, time.monotonic())
    soak.restart.update(
        happened=True,
        down_s=round(loop.time() - began, 2),
        not_saved_while_down=figures.not_saved - not_saved,
    )


async def _watch_redis(soak: Soak, server: RedisServer, answers: asyncio.Future[Any]) -> None:
    """While the trustees answer, sample Redis every 0.1 s: the most clients it had connected
    (each bot process's pool holds up to dialogs.store.connect.MAX_CONNECTIONS), and the commands
    it ran (the restart zeroes the count, so each server's count is added up; the last tenth of a
    second before the restart is missed)."""
    counted, last = 0, 0
    while not answers.done():
        try:
            async with Redis.from_url(server.url, decode_responses=True) as redis:
                while True:
                    info = await redis.info()
                    connected = int(info["connected_clients"]) - 1  # not this one
                    soak.redis_clients_peak = max(soak.redis_clients_peak, connected)
                    total = int(info["total_commands_processed"])
                    counted, last = (counted + last, total) if total < last else (counted, total)
                    soak.redis_commands = counted + last
                    if answers.done():
                        return
                    await asyncio.sleep(0.1)
        except (RedisError, OSError):
            await asyncio.sleep(0.1)  # Redis is restarting


LOG_LINE = re.compile(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) (\S+): (.*)$")


def log_lines(logs: str, into: Counter[str]) -> None:
    """Count the bots' WARNING and ERROR lines by logger and message (numbers, ports and ids
    blanked so alike lines count together), each ERROR with the exception that ended its
    traceback."""
    lines = logs.splitlines()
    for i, line in enumerate(lines):
        found = LOG_LINE.match(line)
        if not found:
            continue
        level, logger, message = found.groups()
        if level != "WARNING":
            tail = next(
                (x for x in lines[i + 1 : i + 80] if x and not x[0].isspace() and ":" in x), ""
            )
            if tail and not LOG_LINE.match(tail) and not tail.startswith("Traceback"):
                message += f" [{tail.split(':', 1)[0]}]"
        blanked = re.sub(r"[0-9a-f]{6,}|\d+", "#", message)[:160]
        into[f"{level} {logger}: {blanked}"] += 1


# ---- the report --------------------------------------------------------------------------------


def report(result: dict[str, Any]) -> None:
    s = result["setup"]
    restart = result["redis_restart"]
    print(
        f"{s['boards']} boards on {s['tenants']} tenant(s), {result['trustees_answering']} "
        f"trustees answering {s['elements']} elements, {s['processes']} bot processes, one "
        f"Redis restarted after {restart.get('after_answer_turns', '-')} answering turns "
        f"(down {restart.get('down_s', '-')} s)"
    )
    rows = [
        ["turns posted", result["turns_posted"]],
        ["  answering (retries included)", result["answer_turns_posted"]],
        ['answered "not saved", retried', result["not_saved_retried"]],
        ["  overlapping the restart", result["not_saved_overlapping_restart"]],
        ["  otherwise (see the bots' log)", result["not_saved_otherwise"]],
        ["5xx answers", result["errors_5xx"]],
        ["other HTTP errors", result["other_http_errors"]],
        ["ratings submitted", result["ratings_submitted"]],
        ["ratings in Redis", result["ratings_in_redis"]],
        ["lost ratings", result["lost_ratings"]],
        ["duplicated ratings", result["duplicated_ratings"]],
        ["invitations expected", result["invited"]],
        ["duplicate invitations", result["duplicate_invitations"]],
        ["missed invitations", result["missed_invitations"]],
        ["summaries in channels", result["summaries_in_channels"]],
        ["summary problems", result["summary_problems"]],
        ["time taken, s", result["time_s"]],
        ["  of which answering, s", result["phases_s"].get("answering", "-")],
        ["turns/s overall", result["turns_per_s"]],
        ["answering turns/s", result["answer_turns_per_s"]],
        ["answering turn p50 / p99 / max, ms", _ms(result["answer_turn_ms"])],
        ["Redis clients at most, answering", result["redis_clients_peak"]],
        ["Redis commands per answering turn", result["redis_commands_per_answer_turn"]],
        ["clerk cards left behind", len(result["clerk_cards_behind"])],
    ]
    print(table(rows, ["figure", "value"]))
    print(f"phases (s): {json.dumps(result['phases_s'])}")
    if result["bot_log"]:
        print("the bots' warnings and errors (times logged):")
        for line, count in result["bot_log"].items():
            print(f"  {count:5d}  {line}")
    for board, shown in result["clerk_cards_behind"].items():
        print(f"clerk's card left behind: {board} shows {shown}")
    for problem in result["problems"]:
        print(f"PROBLEM: {problem}")
    verdict = (
        "no rating lost or duplicated, no 5xx"
        if not (result["lost_ratings"] or result["duplicated_ratings"] or result["errors_5xx"])
        else "RATINGS LOST OR DUPLICATED, OR 5xx"
    )
    print(f"{verdict}; {result['answer_turns_per_s']} answering turns/s")


def _ms(figures: dict[str, float]) -> str:
    return " / ".join(str(figures.get(k, "-")) for k in ("p50", "p99", "max"))


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--boards", type=int, default=40)
    parser.add_argument("--trustees", type=int, default=12, help="answering trustees a board")
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--elements", type=int, default=6, help="elements in each round (1-16)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--restart-at", type=float, default=Setup.restart_at)
    parser.add_argument("--down", type=float, default=Setup.down)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=Setup.seed)
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    return parser.parse_args(argv)


def cli(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = arguments(argv)
    if args.boards < 1 or args.trustees < 1 or not 1 <= args.elements <= 16:
        raise SystemExit("need a board, a trustee a board, and 1 to 16 elements")
    setup = Setup(
        boards=args.boards,
        trustees=args.trustees,
        tenants=max(1, args.tenants),
        elements=args.elements,
        processes=max(1, args.processes),
        restart_at=args.restart_at,
        down=args.down,
        timeout=args.timeout,
        seed=args.seed,
    )
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        result = asyncio.run(run(setup, Path(scratch)))
    path = write(args.out, result)
    report(result)
    print(f"(written to {path})")
    return result


if __name__ == "__main__":
    cli()
