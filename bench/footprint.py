"""Footprint: one bot process's memory with 1,000 open rounds in Redis, and its start-up time.

Memory. A throwaway redis-server (deploy/redis.conf) holds 1,000 boards (10 in each of 100
tenants), each with a clerk and 10 trustees (the first the chair) and an open round on the
16-element governance framework, stored through the real stores: BoardStore for boards, members
and rounds, Store for trustees' answers (60 % of trustees have started, each with some elements
rated and 300 characters of evidence per answer; those who rated all 16 have finished), and the
agenda for each round's closing and reminder. One bot process (`python -m bot`, REDIS_URL set,
replies at a local fake connector) then serves turns on `--turn-rounds` of those rounds: a
trustee starts the round from their invitation and rates two elements, a trustee who had started
comes back and rates one, the clerk opens the round card from their chat, and someone asks for
the board card in the team's channel. Its resident memory (VmRSS and the peak VmHWM, from
/proc/<pid>/status) is read before and after. For scale, the same is read of the stock
botbuilder echo bot (bench/echo_bot.py) after as many echo turns, and of a bare aiohttp process.

Start-up. Seconds from starting the process to GET /healthz answering 200 (polled every 5 ms),
the median of `--starts` starts, for the bot (with REDIS_URL on the same server) and for a
baseline process: `python -c` with aiohttp importing and serving /healthz, nothing else. Starts
alternate between the two so that the machine's noise falls on both. The echo bot is timed the
same way, for scale.

    .venv/bin/python -m bench.footprint            (scripts/bench footprint)
    .venv/bin/python -m bench.footprint --rounds 50 --turn-rounds 3 --starts 3
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.common import ECHO_COMMAND, EVIDENCE, RESULTS, table, write
from bench.delivery import BenchBoard, bench_board, iso, spread, store_board, tenant_id
from dialogs.boards.agenda import Agenda
from dialogs.boards.agenda_items import item as agenda_item
from dialogs.boards.store import BoardStore
from dialogs.state import Who, round_scope
from dialogs.store import Store, connect
from frameworks import RATING_CODES, Framework, load_all
from tests.dialogs.cardkit import walk
from tests.support.activities import Chat, Conversation, user
from tests.support.bot_process import REPO_ROOT, BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.redis_server import RedisServer

FRAMEWORK = "cst-trust-governance"
TENANTS = 100
TRUSTEES = 10
STARTED = 0.6  # share of trustees who have started answering
POLL = 0.005  # seconds between looks at /healthz while a process starts
BARE_AIOHTTP = (
    "import os\n"
    "from aiohttp import web\n"
    "async def healthz(_):\n"
    "    return web.json_response({'status': 'ok'})\n"
    "app = web.Application()\n"
    "app.router.add_get('/healthz', healthz)\n"
    "web.run_app(app, host='127.0.0.1', port=int(os.environ['PORT']), print=None)\n"
)
BARE_COMMAND = [sys.executable, "-c", BARE_AIOHTTP]
BOT = "python -m bot"
BARE = "bare aiohttp"
ECHO = "echo bot"


# ---- 1,000 open rounds -------------------------------------------------------------------------


def plan(rounds: int, service_url: str, framework: Framework) -> list[BenchBoard]:
    tenants = min(TENANTS, rounds)
    boards = []
    for t, count in enumerate(spread(rounds, tenants), start=1):
        for _ in range(count):
            number = len(boards) + 1
            boards.append(
                bench_board(number, tenant_id(t), TRUSTEES, service_url, framework, chair=True)
            )
    return boards


async def populate(redis: Redis, boards: Sequence[BenchBoard], framework: Framework) -> None:
    """Every board, its open round and its trustees' answers so far, through the real stores."""
    gate = asyncio.Semaphore(32)
    pick = random.Random(5)
    plans = [
        [
            pick.randint(1, len(framework.elements)) if pick.random() < STARTED else 0
            for _ in item.trustees
        ]
        for item in boards
    ]

    async def one(item: BenchBoard, rated: list[int]) -> None:
        async with gate:
            await store_round(redis, item, framework, rated)

    await asyncio.gather(*(one(item, rated) for item, rated in zip(boards, plans, strict=True)))


async def store_round(
    redis: Redis, item: BenchBoard, framework: Framework, rated: Sequence[int]
) -> None:
    store, agenda = Store(redis), Agenda(redis)
    await store_board(BoardStore(redis), item)
    board, rnd = item.board, item.round
    deadline = datetime.fromisoformat(rnd.deadline.replace("Z", "+00:00"))
    await agenda.schedule(agenda_item("close", board.tenant, board.id, rnd.id), deadline)
    await agenda.schedule(
        agenda_item("remind", board.tenant, board.id, rnd.id), deadline - timedelta(hours=48)
    )
    now = iso(datetime.now(UTC))
    extra = {
        "elements": ",".join(str(n) for n in rnd.elements),
        "round": rnd.id,
        "board": board.id,
        "board_name": board.name,
        "deadline": rnd.deadline,
    }
    for trustee, count in zip(item.trustees, rated, strict=True):
        if not count:
            continue
        who = Who(board.tenant, trustee.key, trustee.name)
        assessment_id = await store.open_assessment(
            who, framework.id, framework.version, now, scope=round_scope(rnd.id), extra=extra
        )
        numbers = rnd.elements[:count]
        fields = {"updated": now, "cursor": str(rnd.elements[count % len(rnd.elements)])}
        for n in numbers:
            rating = RATING_CODES[(n + count) % len(RATING_CODES)]
            fields.update({f"r:{n}": rating, f"e:{n}": EVIDENCE, f"t:{n}": now})
        await store.update(who, assessment_id, fields)
        if count == len(rnd.elements) and count % 2 == 0:
            assessment = await store.assessment(who, assessment_id)
            if assessment is not None:
                await store.finish(who, assessment, now)


# ---- turns on them -----------------------------------------------------------------------------


class Turns:
    """Activities posted to one bot, checking that each was answered."""

    def __init__(self, bot: BotProcess, connector: FakeConnector) -> None:
        self.bot = bot
        self.connector = connector
        self.count = 0

    async def post(self, activity: dict[str, Any]) -> Any:
        status, body = await self.bot.post(activity)
        self.count += 1
        if status >= 400:
            raise RuntimeError(f"turn answered {status}: {body}")
        return body

    async def card(self, chat: Chat, verb: str, data: dict[str, Any], **inputs: Any) -> Any:
        """Press a button; the invoke answer carries the next card."""
        body = await self.post(chat.execute(verb, {"verb": verb, **data}, "1", inputs))
        return body.get("value") if isinstance(body, dict) else None


def rate_data(card: Any) -> dict[str, Any] | None:
    """The data of the card's Amber Green button; None if it has none (a trustee who has rated
    every element sees their review instead)."""
    for node in walk(card or {}):
        if node.get("type") == "Action.Execute" and node.get("verb") == "rate":
            return {**node["data"], "rating": "AG"}
    return None


async def serve_turns(
    turns: Turns, item: BenchBoard, connector: FakeConnector, started: set[str]
) -> None:
    board, rnd = item.board, item.round
    ids = {"b": board.id, "r": rnd.id}
    fresh = [t for t in rnd.invited if t.key not in started]
    back = [t for t in rnd.invited if t.key in started]
    for trustee, ratings in ((fresh[:1], 2), (back[:1], 1)):
        for person in trustee:
            chat = Chat(service_url=connector.url, tenant=board.tenant, user=user(person.name))
            card = await turns.card(chat, "start", ids)
            for _ in range(ratings):
                data = rate_data(card)
                if data is None:
                    break
                card = await turns.card(chat, "rate", data, evidence=EVIDENCE)
    clerk = Chat(service_url=connector.url, tenant=board.tenant, user=user(item.clerk.name))
    await turns.card(clerk, "round.status", ids)
    team = Conversation(
        board.channel, "channel", team_id=board.id, channel_id=board.channel, team_name=board.name
    )
    clerk_there = user(item.clerk.name)
    in_channel = Chat(connector.url, board.tenant, clerk_there, conversation=team)
    await turns.post(in_channel.message("board"))


async def who_started(redis: Redis, item: BenchBoard) -> set[str]:
    store = Store(redis)
    found = set()
    for trustee in item.trustees:
        who = Who(item.board.tenant, trustee.key, trustee.name)
        if await store.in_scope(who, item.round.scope) is not None:
            found.add(trustee.key)
    return found


def memory(pid: int | None) -> dict[str, float]:
    """VmRSS, VmHWM and RssAnon of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "RssAnon"):
            found[name] = round(int(value.split()[0]) / 1024, 1)
    return found


async def echo_memory(connector: FakeConnector, turns: int) -> dict[str, Any]:
    echo = await asyncio.to_thread(BotProcess({}, command=ECHO_COMMAND).start)
    try:
        idle = memory(echo.pid)
        chat = Chat(service_url=connector.url, user=user("Bench echo user"))
        for number in range(turns):
            status, _ = await echo.post(chat.message(f"hello {number}"))
            if status >= 400:
                raise RuntimeError(f"the echo bot answered {status}")
        await asyncio.sleep(1.0)
        return {"idle": idle, "after_turns": memory(echo.pid), "turns": turns}
    finally:
        await asyncio.to_thread(echo.cleanup)


async def bare_memory() -> dict[str, float]:
    bare = await asyncio.to_thread(BotProcess({}, command=BARE_COMMAND).start)
    try:
        return memory(bare.pid)
    finally:
        await asyncio.to_thread(bare.cleanup)


# ---- start-up ----------------------------------------------------------------------------------


def time_to_healthy(process: BotProcess, timeout: float = 60.0) -> float:
    """Seconds from Popen to the first 200 from /healthz."""
    url = process.url + "/healthz"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    started = time.perf_counter()
    child = subprocess.Popen(
        process.command,
        cwd=REPO_ROOT,
        env=process.environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < timeout:
            if child.poll() is not None:
                raise RuntimeError(f"{process.command} exited with {child.returncode}")
            try:
                with opener.open(url, timeout=1.0) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(POLL)
        raise RuntimeError(f"{process.command} did not answer /healthz in {timeout} s")
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def start_up(redis_url: str, starts: int) -> dict[str, Any]:
    kinds = {
        BOT: lambda: BotProcess({"REDIS_URL": redis_url}),
        BARE: lambda: BotProcess({}, command=BARE_COMMAND),
        ECHO: lambda: BotProcess({}, command=ECHO_COMMAND),
    }
    found: dict[str, list[float]] = {name: [] for name in kinds}
    for make in kinds.values():
        time_to_healthy(make())  # once unmeasured: the file cache warm for every kind alike
    for _ in range(starts):
        for name, make in kinds.items():
            found[name].append(time_to_healthy(make()))
    medians = {name: statistics.median(times) for name, times in found.items()}
    return {
        name: {
            "median_s": round(medians[name], 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
            "ratio_to_bare_aiohttp": round(medians[name] / medians[BARE], 2),
        }
        for name, times in found.items()
    }


# ---- the whole benchmark -----------------------------------------------------------------------


async def main(rounds: int, turn_rounds: int, starts: int) -> dict[str, Any]:
    framework = load_all()[FRAMEWORK]
    with tempfile.TemporaryDirectory() as scratch, RedisServer(Path(scratch)) as server:
        redis = connect(server.url)
        try:
            async with FakeConnector() as connector:
                boards = plan(rounds, connector.url, framework)
                began = time.perf_counter()
                await populate(redis, boards, framework)
                populated = time.perf_counter() - began
                info = await redis.info("memory")
                keys = await redis.dbsize()
                chosen = boards[:: max(1, len(boards) // max(1, turn_rounds))][:turn_rounds]
                started = {b.round.id: await who_started(redis, b) for b in chosen}
                bot = await asyncio.to_thread(BotProcess({"REDIS_URL": server.url}).start)
                try:
                    idle = memory(bot.pid)
                    turns = Turns(bot, connector)
                    for item in chosen:
                        await serve_turns(turns, item, connector, started[item.round.id])
                    await asyncio.sleep(1.5)  # the clerk's card refreshes, any delivery
                    served = memory(bot.pid)
                finally:
                    await asyncio.to_thread(bot.cleanup)
                echo = await echo_memory(connector, turns.count)
                bare = await bare_memory()
            times = await asyncio.to_thread(start_up, server.url, starts)
        finally:
            await redis.aclose()
    return {
        "redis": {
            "open_rounds": len(boards),
            "boards_per_tenant": len(boards) // min(TENANTS, len(boards)),
            "trustees_per_round": TRUSTEES,
            "keys": keys,
            "used_memory_mb": round(info["used_memory"] / 2**20, 1),
            "populate_s": round(populated, 1),
        },
        "memory_mb": {
            "bot": {"idle": idle, "after_turns": served, "turns": turns.count},
            "echo_bot": echo,
            "bare_aiohttp": bare,
            "bot_ratio_to_echo_bot": round(served["VmRSS"] / echo["after_turns"]["VmRSS"], 2),
        },
        "start_up": {"starts": starts, **times},
    }


def report(result: dict[str, Any]) -> None:
    redis = result["redis"]
    print(
        f"Redis: {redis['open_rounds']:,} open rounds ({redis['trustees_per_round']} trustees "
        f"each), {redis['keys']:,} keys, {redis['used_memory_mb']} MB used_memory"
    )
    m = result["memory_mb"]
    bot, echo, bare = m["bot"], m["echo_bot"], m["bare_aiohttp"]
    rows = [
        ["trustboard (python -m bot)", bot["idle"]["VmRSS"], bot["after_turns"]["VmRSS"]],
        ["echo bot", echo["idle"]["VmRSS"], echo["after_turns"]["VmRSS"]],
        ["bare aiohttp", bare["VmRSS"], ""],
    ]
    peaks = [bot["after_turns"]["VmHWM"], echo["after_turns"]["VmHWM"], bare["VmHWM"]]
    counts = [bot["turns"], echo["turns"], 0]
    rows = [[*row, peak, n] for row, peak, n in zip(rows, peaks, counts, strict=True)]
    print(table(rows, ["process", "RSS idle MB", "RSS after turns MB", "peak MB", "turns"]))
    print()
    s = result["start_up"]
    rows = [
        [
            name,
            s[name]["median_s"],
            s[name]["min_s"],
            s[name]["max_s"],
            s[name]["ratio_to_bare_aiohttp"],
        ]
        for name in (BOT, ECHO, BARE)
    ]
    print(table(rows, ["process", "median s", "min s", "max s", "x bare aiohttp"]))
    print()
    print(
        f"memory: {m['bot']['after_turns']['VmRSS']} MB resident after {m['bot']['turns']} turns "
        f"({m['bot_ratio_to_echo_bot']}x the echo bot's)"
    )
    print(
        f"start to /healthz 200: {s[BOT]['median_s']} s, {s[BOT]['ratio_to_bare_aiohttp']}x "
        f"a bare aiohttp process (median of {s['starts']})"
    )


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.footprint", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1000, help="open rounds stored in Redis")
    parser.add_argument("--turn-rounds", type=int, default=20, help="rounds the turns are on")
    parser.add_argument("--starts", type=int, default=7, help="timed starts of each process")
    parser.add_argument("--out", type=Path, default=RESULTS / "footprint.json")
    return parser.parse_args(argv)


def cli(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = arguments(argv)
    rounds = max(1, args.rounds)
    result = asyncio.run(main(rounds, min(max(1, args.turn_rounds), rounds), max(1, args.starts)))
    path = write(args.out, result)
    report(result)
    print(f"(written to {path})")
    return result


if __name__ == "__main__":
    cli()
