"""Delivery against Teams' limits: a round's invitations through the real outbox and workers.

Rounds open on `--boards` boards at once (`--trustees` in all, spread evenly over `--tenants`
tenants), each inviting its trustees the way `RoundService._invite` does: the real invitation
card, queued per trustee by `OutboxMailer` into the Redis Streams outbox. One or two bot
processes (`python -m bot`, their default pacing, their own delivery workers: Outbox, Worker,
Pace and TeamsSender, which posts with aiohttp) send them to a fake Bot Connector that:

- allows 50 messages a second per tenant over a sliding one-second window, measured on arrival,
  and answers 429 with Retry-After (whole seconds) beyond it (`--count requests` counts every
  request, create-conversation too, as Teams' "50 requests per second per app per tenant" does);
- fails 2 % of all calls at random with 503.

A throwaway redis-server (deploy/redis.conf) is shared by the bench and the bot processes and
emptied between runs.

What is reported, per run:

- request rate ÷ allowed (with `--count requests`): the requests the limit counted (all but the
  429s) over the same whole windows as the send rate, ÷ 50 a second per tenant sending;
- send rate ÷ allowed rate. Allowed: 50 messages a second per tenant × the tenants sending (all of
  them, at once). Send rate: messages accepted, over whole windows: from the first request to the
  last acceptance of a message delivered at its first attempt, plus one window. A sender that
  uses every slot the sliding window offers scores 1.0 (50 at once, 50 a second later, ...);
  messages that needed a retry wait out their back-off, which is the retry policy, not pacing,
  so the tail they make is reported as time to the last delivery instead.
- lost (no message accepted for a trustee), duplicated (more than one accepted), 429s seen, 503s
  injected, jobs that needed a retry, and their states in Redis;
- time to the last delivery, from the moment the rounds open (queueing included);
- CPU seconds of each process over the run (and the bots' CPU milliseconds per message), Redis
  commands per message, messages accepted in each second, and the spread between a trustee's
  create-conversation request and their message arriving: what limits the rate.

By default it runs 10 tenants (10 boards and 100 trustees each: the limit binds, and the allowed
rate is 500 messages a second in all) and then 1 tenant (all 100 boards in one trust: 50 a
second, a 20-second run that shows how closely pacing follows the limit), each with one bot
process and then two. `--pace` sets the bots' DELIVERY_PER_TENANT apart from the connector's
limit, `--window-ms` their DELIVERY_WINDOW_MS, `--workers` their DELIVERY_WORKERS (each worker
keeps 512 sends in flight).

    .venv/bin/python -m bench.delivery                  (scripts/bench delivery)
    .venv/bin/python -m bench.delivery --trustees 100 --boards 10 --tenants 2 --processes 1
    .venv/bin/python -m bench.delivery --tenants 10 --processes 1 --profile /tmp/delivery.txt --gil

`--profile PATH` attaches `py-spy record` (pip install py-spy into .venv) to the first bot process
of the first run while it delivers, and prints where it spent its time (`--gil`: only the thread
holding the GIL, i.e. where its CPU went).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from bench.common import RESULTS, table, write
from bot.delivery import Outbox, Pace
from bot.delivery.worker import CONCURRENCY as WORKER_CONCURRENCY
from bot.mailer import OutboxMailer
from dialogs.boards import cards as board_cards
from dialogs.boards.model import CHAIR, CLERK, OPEN, TRUSTEE, Board, Member, Round
from dialogs.boards.ports import TRUSTEES
from dialogs.boards.store import BoardStore
from dialogs.store import connect
from frameworks import Framework, load_all
from tests.support.activities import channel, user
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector, error_body, route
from tests.support.redis_server import RedisServer

FRAMEWORK = "cst-trust-governance"
MODE = "execute"
PER_TENANT = 50  # Teams: 50 requests a second per app per tenant
WINDOW = 1.0
FAIL_RATE = 0.02
CLERK_MESSAGE = (
    "Please complete this before our December meeting. Rate each element as you see the board "
    "today and add a line of evidence where you can: minutes, reports, what you have seen at "
    "committee. Your answers are saved as you go."
)
SETTLE = 1.0  # seconds to keep listening after the last delivery, for late duplicates
CONCURRENCY = WORKER_CONCURRENCY  # sends in flight per worker (not configurable by env)


# ---- boards and rounds, shared by the summary and footprint benches -------------------------


def tenant_id(number: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"trustboard-bench-tenant:{number}"))


def member(name: str, role: str = TRUSTEE) -> Member:
    person = user(name)
    return Member(key=person.aad_object_id, teams_id=person.id, name=name, role=role)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class BenchBoard:
    board: Board
    round: Round

    @property
    def clerk(self) -> Member:
        return self.board.clerks[0]

    @property
    def trustees(self) -> tuple[Member, ...]:
        return self.round.invited


def bench_board(
    number: int,
    tenant: str,
    trustees: int,
    service_url: str,
    framework: Framework,
    *,
    chair: bool = False,
    label: str = "board",
) -> BenchBoard:
    """Board `number` of a tenant: a clerk and `trustees` trustees (the first one the chair if
    `chair`), and an open round on every element of `framework`, inviting all the trustees."""
    team = channel(f"Bench {label} {number}")
    clerk = member(f"Clerk of {label} {number}", CLERK)
    people = [
        member(f"Trustee {n} of {label} {number}", CHAIR if chair and n == 1 else TRUSTEE)
        for n in range(1, trustees + 1)
    ]
    now = datetime.now(UTC)
    assert team.team_id is not None
    board = Board(
        tenant=tenant,
        id=team.team_id,
        name=f"Bench Academy Trust {number} board",
        service_url=service_url,
        channel=team.id,
        created=iso(now),
        members=(clerk, *people),
    )
    rnd = Round(
        id=secrets.token_hex(6),
        framework=framework.id,
        version=framework.version,
        elements=tuple(e.number for e in framework.elements),
        deadline=iso(now + timedelta(days=14)),
        attributed=False,
        min_responses=3,
        message=CLERK_MESSAGE,
        status=OPEN,
        opened=iso(now),
        opened_by=clerk.key,
        invited=tuple(people),
        remind_at=iso(now + timedelta(days=12)),
    )
    return BenchBoard(board, rnd)


async def store_board(boards: BoardStore, item: BenchBoard) -> None:
    """The board, its members and its open round, through the board store."""
    board = item.board
    fields = {"name": board.name, "service_url": board.service_url, "channel": board.channel}
    await boards.ensure(board.tenant, board.id, board.created, fields)
    await boards.claim_clerk(board.tenant, board.id, item.clerk, board.members)
    chair = board.chair
    if chair is not None:
        await boards.set_roles(board.tenant, board.id, item.clerk.key, {chair.key: CHAIR})
    if await boards.open_round(board.tenant, board.id, item.round):
        raise RuntimeError("a round was open already")


def spread(total: int, parts: int) -> list[int]:
    """`total` split into `parts` whole numbers that differ by at most one."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


# ---- the fake connector with Teams' limits ---------------------------------------------------


@dataclass(frozen=True)
class Event:
    at: float  # time.perf_counter() when the request arrived
    kind: str  # create, send
    tenant: str
    member: str  # the trustee's Teams id
    status: int
    retry_after: float = 0.0  # seconds, on a 429


class LimitedConnector(FakeConnector):
    """The fake connector, with a per-tenant sliding-window limit (429) and random 503s."""

    def __init__(
        self,
        per_tenant: int = PER_TENANT,
        window: float = WINDOW,
        fail_rate: float = FAIL_RATE,
        count: str = "messages",
        seed: int = 7,
    ) -> None:
        super().__init__()
        self.per_tenant = per_tenant
        self.window = window
        self.fail_rate = fail_rate
        self.counted = frozenset({"send"} if count == "messages" else {"send", "create"})
        self.events: list[Event] = []
        self.chats: dict[str, tuple[str, str]] = {}  # conversation id -> (tenant, member)
        self._random = random.Random(seed)
        self._logs: dict[str, deque[float]] = defaultdict(deque)

    async def _handle(self, request: web.Request) -> web.Response:
        target = route(request.method, request.rel_url.raw_path)
        if target.kind not in ("create", "send"):
            return await super()._handle(request)
        now = time.perf_counter()
        raw = await request.read()  # aiohttp keeps it, so the base class reads it again
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        tenant, person = self._who(target.kind, target.conversation_id, body)
        if target.kind in self.counted:
            log = self._logs[tenant]
            while log and log[0] <= now - self.window:
                log.popleft()
            if len(log) >= self.per_tenant:
                wait = max(1, math.ceil(log[0] + self.window - now))
                self.events.append(Event(now, target.kind, tenant, person, 429, wait))
                answer = error_body("Throttled", "Too many requests. Retry after the given delay.")
                return self._record(
                    request, target, body, 429, answer, headers={"Retry-After": str(wait)}
                )
            log.append(now)
        if self._random.random() < self.fail_rate:
            self.events.append(Event(now, target.kind, tenant, person, 503))
            answer = error_body("ServiceUnavailable", "Injected failure 503.")
            return self._record(request, target, body, 503, answer)
        response = await super()._handle(request)
        call = self.calls[-1]  # recorded by the base class just now, with no await in between
        if target.kind == "create" and call.ok and call.conversation_id:
            self.chats[call.conversation_id] = (tenant, person)
        self.events.append(Event(now, target.kind, tenant, person, call.status))
        return response

    def _who(self, kind: str, conversation: str | None, body: Any) -> tuple[str, str]:
        if kind == "create" and isinstance(body, dict):
            data = body.get("channelData") or {}
            tenant = body.get("tenantId") or (data.get("tenant") or {}).get("id") or "?"
            members = body.get("members") or [{}]
            return str(tenant), str(members[0].get("id", "?"))
        return self.chats.get(conversation or "", ("?", "?"))


# ---- one run ---------------------------------------------------------------------------------


@dataclass
class Setup:
    trustees: int = 1000
    boards: int = 100
    tenants: int = 10
    processes: int = 1
    workers: int = 1  # DELIVERY_WORKERS per process
    pace: int | None = None  # DELIVERY_PER_TENANT of the bot processes (None: their default)
    window_ms: int | None = None  # DELIVERY_WINDOW_MS of the bot processes (None: their default)
    count: str = "messages"
    timeout: float = 150.0
    profile: Path | None = None
    profile_gil: bool = False  # sample only the thread holding the GIL


@dataclass
class Sample:
    """CPU seconds of the processes involved, read at one moment."""

    wall: float
    bench: float
    redis: float
    bots: list[float] = field(default_factory=list)


def cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bots:
    """The bot processes of one run. With a profile, py-spy attaches to the first one once it
    is up (so start-up is not in the profile) and is stopped with SIGINT when delivery is done."""

    def __init__(self, redis_url: str, setup: Setup, profile: Path | None) -> None:
        env = {"REDIS_URL": redis_url, "DELIVERY_WORKERS": str(setup.workers)}
        if setup.pace is not None:
            env["DELIVERY_PER_TENANT"] = str(setup.pace)
        if setup.window_ms is not None:
            env["DELIVERY_WINDOW_MS"] = str(setup.window_ms)
        self.processes = [BotProcess(env, startup_timeout=60) for _ in range(setup.processes)]
        self.profile = profile
        self.gil = setup.profile_gil
        self.spy: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(p.start) for p in self.processes))
        if self.profile is not None:
            spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
            if spy is None:
                raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
            command = [spy, "record", "--pid", str(self.processes[0].pid), "--nonblocking"]
            command += ["--format", "raw", "--rate", "200", "-o", str(self.profile)]
            command += ["--gil"] if self.gil else []
            self.spy = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            await asyncio.sleep(1.0)  # attached before the rounds open

    def pids(self) -> list[int | None]:
        return [p.pid for p in self.processes]

    async def stop_profile(self) -> None:
        spy, self.spy = self.spy, None
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
            try:
                await asyncio.to_thread(spy.wait, 60)
            except subprocess.TimeoutExpired:
                spy.kill()

    async def stop(self) -> None:
        await self.stop_profile()
        await asyncio.gather(*(asyncio.to_thread(p.cleanup) for p in self.processes))


def sample(redis: RedisServer, bots: Bots) -> Sample:
    return Sample(
        wall=time.perf_counter(),
        bench=time.process_time(),
        redis=cpu_seconds(redis.process.pid if redis.process else None),
        bots=[cpu_seconds(pid) for pid in bots.pids()],
    )


async def run(server: RedisServer, setup: Setup, profile: Path | None) -> dict[str, Any]:
    framework = load_all()[FRAMEWORK]
    redis = connect(server.url)
    await redis.flushall()
    bots = Bots(server.url, setup, profile)
    try:
        async with LimitedConnector(count=setup.count) as connector:
            boards = plan(setup, connector.url, framework)
            await bots.start()
            before, commands = sample(server, bots), await command_counts(redis)
            opened = time.perf_counter()
            await asyncio.gather(*(open_round(redis, item, framework) for item in boards))
            queued = time.perf_counter()
            expected = {m.teams_id: b.board.tenant for b in boards for m in b.trustees}
            deadline = opened + setup.timeout
            await all_accepted(connector, expected, deadline)
            after, commands = sample(server, bots), await command_counts(redis) - commands
            await bots.stop_profile()
            await all_settled(redis, boards, deadline)
            await asyncio.sleep(SETTLE)
            states, attempts = await outcomes(redis, boards)
    finally:
        await bots.stop()
        await redis.aclose()
    result = analyse(connector.events, expected, opened, setup)
    result.update(
        queueing_s=round(queued - opened, 2),
        states=dict(states),
        attempts={str(k): v for k, v in sorted(attempts.items())},
        cpu=cpu_use(before, after, result["delivered"]),
        redis_commands_per_message=per_message(commands, result["delivered"]),
    )
    return result


async def command_counts(redis: Redis) -> Counter[str]:
    stats = await redis.info("commandstats")
    return Counter({k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()})


def per_message(commands: Counter[str], delivered: int) -> dict[str, float]:
    """Redis commands per message delivered, by name, from INFO commandstats: commands run inside
    scripts are counted too (so `evalsha` is the script calls, `time` and `hset` mostly inside
    them), and the bench's queueing of the jobs is included."""
    if not delivered:
        return {}
    found = {name: round(n / delivered, 2) for name, n in commands.most_common() if n}
    return {"all": round(sum(commands.values()) / delivered, 2), **found}


def plan(setup: Setup, service_url: str, framework: Framework) -> list[BenchBoard]:
    """The boards, spread over the tenants, and their trustees, spread over the boards."""
    sizes = spread(setup.trustees, setup.boards)
    tenants = [tenant_id(n) for n in range(1, setup.tenants + 1)]
    return [
        bench_board(n + 1, tenants[n % setup.tenants], size, service_url, framework)
        for n, size in enumerate(sizes)
    ]


async def open_round(redis: Redis, item: BenchBoard, framework: Framework) -> None:
    """What opening a round does for delivery: store it, then queue the invitations as
    `RoundService._invite` does (the real card, one job per trustee, through OutboxMailer)."""
    await store_board(BoardStore(redis), item)
    board, rnd = item.board, item.round
    card = board_cards.invitation_card(board, rnd, framework, MODE, reminder=False)
    recipients = [(m.teams_id, m.name) for m in rnd.invited]
    mailer = OutboxMailer(Outbox(redis))
    await mailer.queue(
        board.tenant, board.id, rnd.id, board.service_url, recipients, card, audience=TRUSTEES
    )


async def all_accepted(
    connector: LimitedConnector, expected: dict[str, str], deadline: float
) -> None:
    """Until every trustee has had a message accepted (or the time is up)."""
    while time.perf_counter() < deadline:
        delivered = {e.member for e in connector.events if e.kind == "send" and e.status == 201}
        if delivered >= expected.keys():
            return
        await asyncio.sleep(0.05)


async def all_settled(redis: Redis, boards: Sequence[BenchBoard], deadline: float) -> None:
    """Until every job has its outcome in Redis (or the time is up)."""
    outbox = Outbox(redis)
    while time.perf_counter() < deadline:
        statuses = await asyncio.gather(
            *(outbox.round_status(b.board.tenant, b.board.id, b.round.id) for b in boards)
        )
        if all(s.final for found in statuses for s in found):
            return
        await asyncio.sleep(0.2)


async def outcomes(redis: Redis, boards: Sequence[BenchBoard]) -> tuple[Counter, Counter]:
    outbox = Outbox(redis)
    states: Counter[str] = Counter()
    attempts: Counter[int] = Counter()
    for item in boards:
        for status in await outbox.round_status(item.board.tenant, item.board.id, item.round.id):
            states[status.state] += 1
            attempts[status.attempts] += 1
    return states, attempts


def analyse(
    events: Sequence[Event], expected: dict[str, str], opened: float, setup: Setup
) -> dict[str, Any]:
    sends = [e for e in events if e.kind == "send"]
    accepted = [e for e in sends if e.status == 201]
    per_member = Counter(e.member for e in accepted)
    requests = Counter(e.member for e in events)
    first_try = {m for m in per_member if requests[m] == 2}  # one create, one send, both fine
    statuses = Counter(e.status for e in events)
    tenants = sorted(set(expected.values()))
    overall = rate(events, accepted, first_try)
    by_tenant = [
        rate(
            [e for e in events if e.tenant == t],
            [e for e in accepted if e.tenant == t],
            first_try,
        )["per_s"]
        / (PER_TENANT / cost_of(setup))
        for t in tenants
    ]
    cost = cost_of(setup)
    allowed = PER_TENANT / cost * len(tenants) / WINDOW
    per_tenant_jobs = max(Counter(expected.values()).values()) if expected else 0
    last = max((e.at for e in accepted), default=opened)
    first = min((e.at for e in events), default=opened)
    return {
        "processes": setup.processes,
        "tenants": len(tenants),
        "trustees": len(expected),
        "delivered": len(per_member.keys() & expected.keys()),
        "lost": len(expected.keys() - per_member.keys()),
        "duplicated": sum(count - 1 for count in per_member.values() if count > 1),
        "throttled_429": statuses[429],
        "throttled_429_sends": sum(1 for e in sends if e.status == 429),
        "held_by_429_s": held(events),
        "injected_503": statuses[503],
        "retried_jobs": len(expected.keys() - first_try),
        "requests": len(events),
        "first_request_after_s": round(min((e.at for e in events), default=opened) - opened, 2),
        "time_to_last_delivery_s": round(last - opened, 2),
        "ideal_time_to_last_delivery_s": math.ceil(cost * per_tenant_jobs / PER_TENANT) - 1,
        "bulk_s": overall["span_s"],
        "send_rate_per_s": round(overall["per_s"], 1),
        "allowed_rate_per_s": round(allowed, 1),
        "rate_ratio": round(overall["per_s"] / allowed, 2),
        "accepted_each_second": timeline(events, accepted),
        "requests_each_second": timeline(events, [e for e in events if e.status != 429]),
        "throttled_at_s": [round(e.at - first, 3) for e in events if e.status == 429],
        "request_rate_ratio": request_ratio(events, accepted, first_try, setup, len(tenants)),
        "create_to_send_ms": gaps(events),
        "per_tenant_ratio": {
            "min": round(min(by_tenant), 2) if by_tenant else 0,
            "median": round(statistics.median(by_tenant), 2) if by_tenant else 0,
            "max": round(max(by_tenant), 2) if by_tenant else 0,
        },
    }


def request_ratio(
    events: Sequence[Event],
    accepted: Sequence[Event],
    first_try: set[str],
    setup: Setup,
    tenants: int,
) -> float:
    """Requests a second that the limit counted (every one Teams did not answer 429), over the
    same whole windows as the send rate, ÷ the requests a second allowed (50 per tenant)."""
    if not accepted:
        return 0.0
    start = min(e.at for e in events)
    ends = [e.at for e in accepted if e.member in first_try]
    end = max(ends) if ends else max(e.at for e in accepted)
    counted = {"send"} if setup.count == "messages" else {"send", "create"}
    made = sum(1 for e in events if e.at <= end and e.status != 429 and e.kind in counted)
    return round(made / (end - start + WINDOW) / (PER_TENANT * tenants / WINDOW), 2)


def gaps(events: Sequence[Event]) -> dict[str, float]:
    """Milliseconds from a trustee's create-conversation request arriving to their message
    arriving: the pacing slot is taken before the create call, Teams counts the message when it
    arrives, so this spread is how far arrivals can drift from the slots that were paced."""
    created: dict[str, float] = {}
    found = []
    for e in sorted(events, key=lambda e: e.at):
        if e.kind == "create" and e.status == 201:
            created[e.member] = e.at
        elif e.kind == "send" and e.member in created:
            found.append(1000 * (e.at - created.pop(e.member)))
    if len(found) < 2:
        return {}
    cuts = statistics.quantiles(found, n=100, method="inclusive")
    return {"p50": round(cuts[49], 1), "p99": round(cuts[98], 1), "max": round(max(found), 1)}


def cost_of(setup: Setup) -> int:
    """Requests the limit counts per message: counting requests, a message costs two (create
    the 1:1 chat, then post into it)."""
    return 2 if setup.count == "requests" else 1


def timeline(events: Sequence[Event], accepted: Sequence[Event]) -> list[int]:
    """Messages accepted in each second from the first request: where the rate dipped."""
    if not accepted:
        return []
    start = min(e.at for e in events)
    counts = Counter(int(e.at - start) for e in accepted)
    return [counts[n] for n in range(max(counts) + 1)]


def held(events: Sequence[Event]) -> float:
    """Seconds that 429s told tenants to wait (their Retry-After), overlaps counted once, summed
    over tenants: time in which the sliding window had room that went unused."""
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for e in events:
        if e.status == 429:
            spans[e.tenant].append((e.at, e.at + e.retry_after))
    total = 0.0
    for found in spans.values():
        end = -math.inf
        for start, stop in sorted(found):
            total += max(0.0, stop - max(start, end))
            end = max(end, stop)
    return round(total, 2)


def rate(events: Sequence[Event], accepted: Sequence[Event], first_try: set[str]) -> dict:
    """Messages accepted per second over whole windows, up to the last first-try delivery."""
    if not accepted:
        return {"per_s": 0.0, "span_s": 0.0}
    start = min(e.at for e in events)
    ends = [e.at for e in accepted if e.member in first_try]
    end = max(ends) if ends else max(e.at for e in accepted)
    sent = sum(1 for e in accepted if e.at <= end)
    return {"per_s": sent / (end - start + WINDOW), "span_s": round(end - start, 2)}


def cpu_use(before: Sample, after: Sample, delivered: int) -> dict[str, Any]:
    wall = after.wall - before.wall
    bots = sum(after.bots) - sum(before.bots)
    return {
        "bot_ms_per_message": round(1000 * bots / delivered, 2) if delivered else None,
        "wall_s": round(wall, 2),
        "bot_processes_s": [round(b - a, 2) for a, b in zip(before.bots, after.bots, strict=True)],
        "bench_and_fake_connector_s": round(after.bench - before.bench, 2),
        "redis_server_s": round(after.redis - before.redis, 2),
        "bot_share_of_one_core": [
            round((b - a) / wall, 2) if wall else 0.0
            for a, b in zip(before.bots, after.bots, strict=True)
        ],
    }


# ---- the whole benchmark ---------------------------------------------------------------------


async def main(setup: Setup, tenant_splits: Sequence[int], processes: Sequence[int]) -> dict:
    runs = []
    profile = setup.profile
    with tempfile.TemporaryDirectory() as scratch, RedisServer(Path(scratch)) as server:
        for tenants in tenant_splits:
            for count in processes:
                one = Setup(**{**setup.__dict__, "tenants": tenants, "processes": count})
                runs.append(await run(server, one, profile))
                profile = None  # only the first run is profiled
    return {
        "setup": {
            "trustees": setup.trustees,
            "boards": setup.boards,
            "limit": f"{PER_TENANT} {setup.count} per tenant per {WINDOW:g} s sliding window",
            "fail_rate": FAIL_RATE,
            "delivery_per_tenant": setup.pace or Pace.per_tenant,
            "delivery_window_ms": setup.window_ms or round(Pace.window * 1000),
            "delivery_workers_per_process": setup.workers,
            "sends_in_flight_per_worker": CONCURRENCY,
        },
        "runs": runs,
    }


def report(result: dict[str, Any]) -> None:
    print(f"setup: {json.dumps(result['setup'])}")
    rows = []
    for r in result["runs"]:
        rows.append(
            [
                r["tenants"],
                r["processes"],
                f"{r['delivered']}/{r['trustees']}",
                r["lost"],
                r["duplicated"],
                r["throttled_429"],
                r["injected_503"],
                r["retried_jobs"],
                r["queueing_s"],
                r["time_to_last_delivery_s"],
                r["ideal_time_to_last_delivery_s"],
                r["send_rate_per_s"],
                r["allowed_rate_per_s"],
                " ".join(f"{s:.0%}" for s in r["cpu"]["bot_share_of_one_core"]),
                r["rate_ratio"],
            ]
        )
    header = [
        "tenants",
        "bots",
        "delivered",
        "lost",
        "dup",
        "429s",
        "503s",
        "retried",
        "queue s",
        "last s",
        "ideal s",
        "sent/s",
        "allowed/s",
        "bot CPU",
        "rate ratio",
    ]
    print(table(rows, header))
    print()
    for r in result["runs"]:
        tenant = r["per_tenant_ratio"]
        print(
            f"{r['tenants']} tenants, {r['processes']} bot process(es): "
            f"{r['delivered']} of {r['trustees']} delivered, {r['lost']} lost, "
            f"{r['duplicated']} duplicated, last after {r['time_to_last_delivery_s']} s; "
            f"per tenant {tenant['min']}-{tenant['max']}x; "
            f"send rate {r['rate_ratio']}x the allowed rate; requests {r['throttled_429']} of "
            f"{r['requests']} answered 429, request rate {r['request_rate_ratio']}x the allowed "
            "(target >= 0.9 with under 2 % answered 429)"
        )


def integers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.delivery", description=__doc__.split("\n")[0])
    parser.add_argument("--trustees", type=int, default=1000)
    parser.add_argument("--boards", type=int, default=100)
    parser.add_argument(
        "--tenants", type=integers, default=[10, 1], help="tenant splits to run, e.g. 10,1"
    )
    parser.add_argument("--processes", type=integers, default=[1, 2], help="e.g. 1,2")
    parser.add_argument("--workers", type=int, default=1, help="DELIVERY_WORKERS per process")
    parser.add_argument(
        "--pace",
        type=int,
        default=None,
        help=f"DELIVERY_PER_TENANT of the bots (default: theirs, {Pace.per_tenant})",
    )
    parser.add_argument(
        "--window-ms",
        type=int,
        default=None,
        help=f"DELIVERY_WINDOW_MS of the bots (default: theirs, {round(Pace.window * 1000)})",
    )
    parser.add_argument("--count", choices=["messages", "requests"], default="messages")
    parser.add_argument("--timeout", type=float, default=150.0)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument(
        "--gil", action="store_true", help="profile only the thread holding the GIL"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "delivery.json")
    return parser.parse_args(argv)


def cli(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = arguments(argv)
    if args.boards < 1 or args.trustees < args.boards:
        raise SystemExit("need at least one board and one trustee a board")
    setup = Setup(
        trustees=args.trustees,
        boards=args.boards,
        workers=args.workers,
        pace=args.pace,
        window_ms=args.window_ms,
        count=args.count,
        timeout=args.timeout,
        profile=args.profile.resolve() if args.profile else None,
        profile_gil=args.gil,
    )
    splits = [min(t, args.boards) for t in args.tenants]
    result = asyncio.run(main(setup, splits, args.processes))
    path = write(args.out, result)
    report(result)
    if setup.profile is not None and setup.profile.exists():
        print()
        print(profile_summary(setup.profile))
    print(f"(written to {path})")
    return result


# ---- reading a py-spy profile ------------------------------------------------------------------


def profile_summary(path: Path, top: int = 20) -> str:
    """The functions the samples were in (self) and under (total), from py-spy's raw format."""
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";")]
        samples = int(count)
        total += samples
        own[frames[-1]] += samples
        for name in set(frames):
            under[name] += samples
    if not total:
        return "py-spy: no samples"
    lines = [f"py-spy: {total} samples of the bot process (non-idle threads)"]
    lines.append(table(_top(own, total, top), ["self %", "function"]))
    lines.append("")
    lines.append(table(_top(under, total, top), ["total %", "function"]))
    return "\n".join(lines)


def _frame(raw: str) -> str:
    # "function (path/to/module.py:123)" -> "function (module.py)"
    name, _, where = raw.partition(" (")
    module = where.rstrip(")").rsplit(":", 1)[0]
    short = "/".join(Path(module).parts[-2:]) if module else ""
    return f"{name} ({short})" if short else name


def _top(counts: Counter[str], total: int, top: int) -> list[list[Any]]:
    return [[f"{100 * n / total:.1f}", name] for name, n in counts.most_common(top)]


if __name__ == "__main__":
    cli()
