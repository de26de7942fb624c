"""Turns and delivery on a Redis Cluster against a single Redis, in the same run.

Three stores, each a throwaway of our own started from deploy/redis.conf:

- one node: a single `redis-server` (the baseline every figure is a ratio to);
- cluster: three masters with a replica each (`tests/support/redis_cluster.py`), REDIS_CLUSTER=1;
- cluster, WAIT 1: the same cluster with REDIS_WAIT_REPLICAS=1 (every scripted write waits for
  its replica before the bot replies).

On each, one bot process (`python -m bot`):

- turns: `--users` trustees at once each start the governance framework and rate all 16
  elements from the cards (as bench/turns.py), every turn timed;
- delivery: rounds open on `--boards` boards (`--trustees` in all, over `--tenants` tenants) and
  the invitations go out through the outbox to a fake connector that allows 50 messages a second
  per tenant (as bench/delivery.py, without injected failures): time to the last delivery.

Then `--failovers` times, on the cluster: writers save answers as fast as they can to trustees
whose keys lie on one master, the master is killed and its replica promoted mid-way, and the
answers acknowledged before and after are read back, with REDIS_WAIT_REPLICAS 0 and 1: how many
acknowledged answers were lost, and how many writes were refused ("not saved") meanwhile.

    .venv/bin/python -m bench.cluster            (scripts/bench cluster)
    .venv/bin/python -m bench.cluster --users 20 --trustees 200 --failovers 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.common import RESULTS, Timings, machine, table
from bench.delivery import (
    LimitedConnector,
    Setup,
    all_accepted,
    all_settled,
    open_round,
    outcomes,
    plan,
)
from bench.turns import our_turns, run
from dialogs.state import Who
from dialogs.store import Keys, Store, StoreUnavailable, connect
from frameworks import load_all
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.redis_cluster import RedisCluster
from tests.support.redis_server import RedisServer

FRAMEWORK = "cst-trust-governance"
WARM_UP_USERS = 5
SOLO_RUNS = 3  # one trustee's 17 turns, three times over


@dataclass(frozen=True)
class Target:
    """One store the bot runs on: its name in the report and the settings that point at it."""

    name: str
    env: dict[str, str]

    @property
    def cluster(self) -> bool:
        return self.env.get("REDIS_CLUSTER") == "1"

    def client(self) -> Redis:
        return connect(self.env["REDIS_URL"], cluster=self.cluster)


async def turns(store: Target, users: int, first: int) -> tuple[Timings, Timings]:
    """`users` trustees at once (the bot's throughput), then one trustee alone, three times
    (what one turn costs when nothing queues: where a store's round trips show)."""
    async with FakeConnector() as connector:
        bot = await asyncio.to_thread(BotProcess(dict(store.env), startup_timeout=60).start)
        try:
            await run(bot, connector, WARM_UP_USERS, first - WARM_UP_USERS, our_turns(connector))
            many = await run(bot, connector, users, first, our_turns(connector))
            one = Timings()
            for n in range(SOLO_RUNS):
                alone = await run(bot, connector, 1, first + users + n, our_turns(connector))
                one.latencies += alone.latencies
                one.wall += alone.wall
            return many, one
        finally:
            await asyncio.to_thread(bot.cleanup)


async def delivery(store: Target, setup: Setup) -> dict[str, Any]:
    framework = load_all()[FRAMEWORK]
    redis = store.client()
    await redis.flushall()
    pace = {} if setup.pace is None else {"DELIVERY_PER_TENANT": str(setup.pace)}
    env = {**store.env, **pace}
    bot = BotProcess(env, startup_timeout=60)
    try:
        async with LimitedConnector(fail_rate=0.0) as connector:
            boards = plan(setup, connector.url, framework)
            await asyncio.to_thread(bot.start)
            opened = time.perf_counter()
            await asyncio.gather(*(open_round(redis, item, framework) for item in boards))
            expected = {m.teams_id: b.board.tenant for b in boards for m in b.trustees}
            await all_accepted(connector, expected, opened + setup.timeout)
            last = time.perf_counter() - opened
            await all_settled(redis, boards, opened + setup.timeout)
            states, _ = await outcomes(redis, boards)
            sent: dict[str, int] = {}
            for event in connector.events:
                if event.kind == "send" and event.status == 201:
                    sent[event.member] = sent.get(event.member, 0) + 1
    finally:
        await asyncio.to_thread(bot.cleanup)
        await redis.aclose()
    return {
        "time_to_last_delivery_s": round(last, 2),
        "delivered": sum(1 for m in expected if sent.get(m)),
        "lost": sum(1 for m in expected if not sent.get(m)),
        "duplicated": sum(1 for m in expected if sent.get(m, 0) > 1),
        "states": dict(states),
    }


# ---- what an acknowledged answer is worth when a master dies ---------------------------------


async def failover(cluster: RedisCluster, wait_replicas: int, writers: int) -> dict[str, Any]:
    """Writers hammer one master's trustees; it is killed and its replica promoted half-way."""
    victim = cluster.masters()[0]
    whos = trustees_on(cluster, victim, writers)
    store = Store(connect(cluster.url, cluster=True, wait_replicas=wait_replicas))
    ids = [await store.open_assessment(who, FRAMEWORK, "1", "2026-11-23T09:00:00Z") for who in whos]
    acknowledged: list[tuple[int, int]] = []  # (writer, sequence number)
    refused = 0
    stop = asyncio.Event()

    async def write(n: int) -> None:
        nonlocal refused
        seq = 0
        while not stop.is_set():
            seq += 1
            try:
                if await store.update(whos[n], ids[n], {f"e:{seq}": "answer"}):
                    acknowledged.append((n, seq))
            except StoreUnavailable:
                refused += 1

    async def kill() -> float:
        await asyncio.sleep(1.0)
        (replica,) = cluster.replicas_of(victim)
        started = time.perf_counter()
        cluster.kill(victim)
        await asyncio.to_thread(cluster.promote, replica)
        promoted = time.perf_counter() - started
        await asyncio.sleep(1.0)
        stop.set()
        return promoted

    tasks = [asyncio.create_task(write(n)) for n in range(writers)]
    began = time.perf_counter()
    promoted = await kill()
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - began
    await store.close()
    reader = Store(connect(cluster.url, cluster=True))
    saved = [await reader.assessment(who, i) for who, i in zip(whos, ids, strict=True)]
    await reader.close()
    lost = sum(1 for n, seq in acknowledged if not (saved[n] and saved[n].answers.get(seq)))
    await asyncio.to_thread(victim.restart)  # back as the new master's replica
    await asyncio.to_thread(cluster.wait_ready)
    return {
        "wait_replicas": wait_replicas,
        "acknowledged": len(acknowledged),
        "acknowledged_per_s": round(len(acknowledged) / seconds, 1),
        "lost": lost,
        "refused_not_saved": refused,
        "kill_to_promoted_s": round(promoted, 2),
    }


def trustees_on(cluster: RedisCluster, master: Any, count: int) -> list[Who]:
    keys, found, n = Keys(), [], 0
    while len(found) < count:
        who = Who("bench-tenant", f"29:writer-{n}")
        n += 1
        if cluster.master_of_slot(cluster.slot_of(keys.profile(who))) is master:
            found.append(who)
    return found


# ---- the run -----------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> dict[str, Any]:
    setup = Setup(trustees=args.trustees, boards=args.boards, tenants=args.tenants, timeout=120)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with RedisServer(root / "single") as single, RedisCluster(root / "cluster", 3, 1) as rc:
            stores = [
                Target("one node", {"REDIS_URL": single.url}),
                Target("cluster", {"REDIS_URL": rc.url, "REDIS_CLUSTER": "1"}),
                Target(
                    "cluster, WAIT 1",
                    {"REDIS_URL": rc.url, "REDIS_CLUSTER": "1", "REDIS_WAIT_REPLICAS": "1"},
                ),
            ]
            # Each store `--repeat` times, the order reversed every other pass, so that a noisy
            # moment of a shared machine does not land on one store alone; medians reported.
            figures: dict[str, list[dict[str, float]]] = {s.name: [] for s in stores}
            solo: dict[str, list[dict[str, float]]] = {s.name: [] for s in stores}
            for rep in range(args.repeat):
                for index, store in enumerate(stores if rep % 2 == 0 else stores[::-1]):
                    redis = store.client()
                    await redis.flushall()
                    await redis.aclose()
                    first = 10_000 * (1 + rep * len(stores) + index)
                    many, one = await turns(store, args.users, first)
                    figures[store.name].append(many.figures())
                    solo[store.name].append(one.figures())
            runs = [
                {
                    "store": s.name,
                    "turns": median_figures(figures[s.name]),
                    "one_trustee": median_figures(solo[s.name]),
                }
                for s in stores
            ]
            for one, store in zip(runs, stores, strict=True):
                one["delivery"] = await delivery(store, setup)
            failovers = []
            for _ in range(args.failovers):
                for wait in (0, 1):
                    await asyncio.to_thread(rc.flush)
                    failovers.append(await failover(rc, wait, args.writers))
    base = runs[0]
    for one in runs:
        alone, alone_base = one["one_trustee"], base["one_trustee"]
        one["one_trustee_p50_ratio"] = round(alone["p50_ms"] / alone_base["p50_ms"], 2)
        one["one_trustee_p50_added_ms"] = round(alone["p50_ms"] - alone_base["p50_ms"], 2)
        t, b = one["turns"], base["turns"]
        one["p50_ratio"] = round(t["p50_ms"] / b["p50_ms"], 2)
        one["p99_ratio"] = round(t["p99_ms"] / b["p99_ms"], 2)
        one["throughput_ratio"] = round(t["turns_per_s"] / b["turns_per_s"], 2)
        last, base_last = (
            one["delivery"]["time_to_last_delivery_s"],
            base["delivery"]["time_to_last_delivery_s"],
        )
        one["delivery_time_ratio"] = round(last / base_last, 2) if base_last else None
    return {
        "setup": {
            "users": args.users,
            "trustees": args.trustees,
            "boards": args.boards,
            "tenants": args.tenants,
            "cluster": "3 masters, 1 replica each, on loopback",
            "writers": args.writers,
            "repeat": args.repeat,
        },
        "runs": runs,
        "failovers": failovers,
    }


def median_figures(found: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(f[key] for f in found), 2) for key in found[0]}


def report(result: dict[str, Any]) -> None:
    rows = [
        [
            r["store"],
            r["turns"]["turns"],
            r["turns"]["errors"],
            r["turns"]["p50_ms"],
            r["turns"]["p99_ms"],
            r["turns"]["turns_per_s"],
            r["p50_ratio"],
            r["throughput_ratio"],
            r["one_trustee"]["p50_ms"],
            r["one_trustee_p50_ratio"],
            r["delivery"]["time_to_last_delivery_s"],
            r["delivery_time_ratio"],
            f"{r['delivery']['lost']}/{r['delivery']['duplicated']}",
        ]
        for r in result["runs"]
    ]
    header = ["store", "turns", "errors", "p50 ms", "p99 ms", "turns/s", "p50 x", "tput x"]
    header += ["alone p50 ms", "alone x", "last delivery s", "delivery x", "lost/dup"]
    print(table(rows, header))
    if result["failovers"]:
        print()
        rows = [
            [
                f["wait_replicas"],
                f["acknowledged"],
                f["acknowledged_per_s"],
                f["lost"],
                f["refused_not_saved"],
                f["kill_to_promoted_s"],
            ]
            for f in result["failovers"]
        ]
        header = ["WAIT", "acknowledged", "per s", "lost", "not saved", "kill to promoted s"]
        print(table(rows, header))


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--trustees", type=int, default=300)
    parser.add_argument("--boards", type=int, default=30)
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2, help="turn runs per store")
    parser.add_argument("--failovers", type=int, default=2, help="kills with WAIT 0 and with 1")
    parser.add_argument("--writers", type=int, default=20, help="trustees saving at once")
    parser.add_argument("--out", type=Path, default=RESULTS / "cluster.json")
    return parser.parse_args(argv)


def cli(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = arguments(argv)
    result = asyncio.run(main(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**result, "machine": machine()}, indent=2) + "\n")
    report(result)
    print(f"(written to {args.out})")
    return result


if __name__ == "__main__":
    cli()
