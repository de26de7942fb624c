"""A master killed and its replica promoted, on a cluster of three masters with a replica each.

Redis replicates asynchronously, so what a master acknowledged may not be on its replica when it
dies. With REDIS_WAIT_REPLICAS=1 (dialogs/store/durable.py) a scripted write counts as saved only
once a replica has it: an answer the bot acknowledged survives the failover, and when no replica
takes the write in time the bot says "not saved" instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dialogs.engine import NOT_SAVED
from dialogs.state import Who
from dialogs.store import Keys, Store, StoreUnavailable, connect
from tests.boards.scripted import (
    CHAIR,
    CLERK,
    TRUSTEES,
    ChatClient,
    chat_client,
    clerk_desk,
    eventually,
    invitations,
    open_round_here,
    set_up,
    start_bots,
    summaries_in_channel,
)
from tests.dialogs.cardkit import walk
from tests.support.activities import TENANT
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.redis_cluster import ClusterNode, RedisCluster
from tests.support.redis_server import RedisServerError

FW, V1, T0 = "cst-trust-governance", "2024.1", "2026-11-23T09:00:00Z"


@pytest.fixture(scope="module")
def failover_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """Three masters, a replica each: the failover tests' own (they kill masters)."""
    cluster = RedisCluster(Path(tmp_path_factory.mktemp("failover")), masters=3, replicas=1)
    try:
        cluster.start()
    except RedisServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def cluster(failover_cluster: RedisCluster) -> AsyncIterator[RedisCluster]:
    """The failover cluster, emptied, every node up; a master killed by the test comes back
    afterwards as its successor's replica, so the next test finds three masters with a replica
    each again."""
    await asyncio.to_thread(failover_cluster.flush)
    yield failover_cluster
    for node in failover_cluster.nodes:
        if not node.alive:
            await asyncio.to_thread(node.restart)
    await asyncio.to_thread(failover_cluster.wait_ready)


def holder(cluster: RedisCluster, key: str) -> ClusterNode:
    return cluster.master_of_slot(cluster.slot_of(key))


async def kill_and_promote(cluster: RedisCluster, master: ClusterNode) -> ClusterNode:
    """SIGKILL a master, then promote its replica (CLUSTER FAILOVER FORCE); returns the replica."""
    (replica,) = cluster.replicas_of(master)
    cluster.kill(master)
    await asyncio.to_thread(cluster.promote, replica)
    return replica


async def answers(url: str, whos: list[Who]) -> dict[str, str]:
    """Each trustee's saved evidence for element 1, read afresh after the failover."""
    store = Store(connect(url, cluster=True))
    try:
        found = {}
        for who in whos:
            profile = await store.profile(who)
            assessment = await store.assessment(who, profile.open[FW]) if profile.open else None
            found[who.user] = assessment.answer(1).evidence if assessment else ""
        return found
    finally:
        await store.close()


async def test_with_the_opt_in_every_acknowledged_answer_survives_its_master_failing_over(
    cluster: RedisCluster,
) -> None:
    store = Store(connect(cluster.url, cluster=True, wait_replicas=1))
    whos = [Who("tenant-a", f"29:trustee-{n}") for n in range(24)]
    acknowledged = {}
    try:
        for who in whos:
            assessment_id = await store.open_assessment(who, FW, V1, T0)
            evidence = f"minutes of {who.user}"
            assert await store.update(who, assessment_id, {"r:1": "G", "e:1": evidence})
            acknowledged[who.user] = evidence
    finally:
        await store.close()
    keys = Keys()
    by_master: dict[int, list[Who]] = {}
    for who in whos:
        by_master.setdefault(holder(cluster, keys.profile(who)).port, []).append(who)
    victim = next(
        node
        for node in cluster.masters()
        if node.port == max(by_master, key=lambda p: len(by_master[p]))
    )

    await kill_and_promote(cluster, victim)

    assert await answers(cluster.url, whos) == acknowledged


async def test_with_the_opt_in_a_write_no_replica_took_in_time_is_not_saved(
    cluster: RedisCluster,
) -> None:
    who = Who("tenant-a", "29:trustee-1")
    master = holder(cluster, Keys().profile(who))
    (replica,) = cluster.replicas_of(master)
    waiting = Store(connect(cluster.url, cluster=True, wait_replicas=1))
    plain = Store(connect(cluster.url, cluster=True))
    try:
        assessment_id = await waiting.open_assessment(who, FW, V1, T0)
        with replica.frozen():  # the replica stops answering, for longer than the bot waits
            with pytest.raises(StoreUnavailable, match="0 of 1 replicas"):
                await waiting.update(who, assessment_id, {"r:1": "R", "e:1": "told not saved"})
            # Without the opt-in the same write is acknowledged, though no replica has it yet.
            assert await plain.update(who, assessment_id, {"r:2": "G", "e:2": "told saved"})
        assert await waiting.update(who, assessment_id, {"r:1": "R", "e:1": "tried again"})
        saved = await plain.assessment(who, assessment_id)
        assert saved is not None and saved.answer(1).evidence == "tried again"
    finally:
        await waiting.close()
        await plain.close()


# ---- over HTTP: two bot processes, a round, a master killed mid-round ---------------------------

ELEMENTS = (1, 2, 3, 4)
RATINGS = ("G", "AG", "AR", "R")


@dataclass
class Answering:
    """One trustee answering the round, trying again when told "not saved", as a person would."""

    client: ChatClient
    acknowledged: dict[int, str] = field(default_factory=dict)  # element -> evidence
    at: dict[int, float] = field(default_factory=dict)  # element -> when it was acknowledged
    not_saved: int = 0
    statuses: list[int] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # each turn: its status, texts, card's first line

    async def turn(self, post: Callable[[], Awaitable[int]]) -> None:
        for _ in range(40):
            status = await post()
            self.statuses.append(status)
            card = self.client.words().splitlines()
            self.seen.append(f"{status} {self.client.texts} {card[:1]}")
            if NOT_SAVED not in self.client.texts:
                return
            self.not_saved += 1
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.client.chat.user.name}: never saved")

    def story(self) -> str:
        """The last turns this trustee saw, and what the bots logged as errors."""
        bots = [b for b in self.client.rotation if isinstance(b, BotProcess)]
        errors = [line for b in bots for line in b.logs().splitlines() if '"ERROR"' in line]
        return "\n".join([*self.seen[-6:], "--- errors logged ---", *errors[-20:]])

    async def answer(self, progress: Callable[[Answering], None]) -> None:
        client = self.client
        await self.turn(lambda: client.click("start"))
        for n, rating in zip(ELEMENTS, RATINGS, strict=True):
            evidence = f"Minutes of March, element {n} ({client.chat.user.aad_object_id[:8]})"

            async def rate(rating: str = rating, evidence: str = evidence) -> int:
                data = next(
                    node["data"]
                    for node in walk(client.card)
                    if node.get("type") == "Action.Execute" and node["data"].get("rating") == rating
                )
                return await client.post(
                    client.chat.execute("rate", data, str(client.card_id), {"evidence": evidence})
                )

            await self.turn(rate)
            # A person reads "Saved": anything else (a refusal, a 500) is a defect, not a save.
            assert f"Saved {n}." in self.client.words(), self.story()
            self.acknowledged[n] = evidence
            self.at[n] = time.monotonic()
            progress(self)
        await self.turn(lambda: client.click("finish"))
        assert "answers are in the board's round" in client.words(), client.words()


async def test_a_master_killed_mid_round_loses_no_acknowledged_answer_and_invites_once(
    cluster: RedisCluster, connector: FakeConnector
) -> None:
    invited = [CHAIR, *TRUSTEES]
    keys = Keys()
    tenant_profiles = {m.name: keys.profile(Who(TENANT, m.aad_object_id)) for m in invited}
    counts: dict[int, int] = {}
    for key in tenant_profiles.values():
        counts[holder(cluster, key).port] = counts.get(holder(cluster, key).port, 0) + 1
    victim = next(n for n in cluster.masters() if n.port == max(counts, key=counts.__getitem__))
    on_victim = {m.name for m in invited if holder(cluster, tenant_profiles[m.name]) is victim}

    survivor = next(n for n in cluster.masters() if n is not victim)
    env = {
        "REDIS_URL": survivor.url,
        "REDIS_CLUSTER": "1",
        "REDIS_WAIT_REPLICAS": "1",
        "DELIVERY_CLAIM_IDLE": "2",
        "DELIVERY_ATTEMPT_TIMEOUT": "3",
    }
    first, second = await start_bots(2, env)
    try:
        await set_up(first, connector, CLERK, invited, chair=CHAIR)
        desk = await clerk_desk(second, connector, CLERK)
        round_id = await open_round_here(desk, elements=",".join(map(str, ELEMENTS)))
        await eventually(lambda: all(invitations(connector, m) for m in invited), what="invites")

        trustees = []
        for index, member in enumerate(invited):
            client = chat_client(first, connector, member)
            client.rotation = (first, second) if index % 2 else (second, first)
            trustees.append(Answering(client))
        half = asyncio.Event()

        def progress(trustee: Answering) -> None:
            # Half-way through the answers of someone whose keys lie on the victim: so the
            # victim held answers before it died and has more to take once promoted, however
            # the trustees' turns interleave on a loaded machine.
            mine = trustee.client.chat.user.name in on_victim
            if mine and len(trustee.acknowledged) == len(ELEMENTS) // 2:
                half.set()

        when: dict[str, float] = {}
        health: list[tuple[int, str]] = []

        async def failover() -> None:
            await half.wait()
            (replica,) = cluster.replicas_of(victim)
            when["killed"] = time.monotonic()
            cluster.kill(victim)
            status, body = await first.get("/healthz")  # a master gone: the store is down
            assert isinstance(body, dict) and "store_state" in body, (body, first.logs()[-3000:])
            health.append((status, body["store_state"]))
            await asyncio.to_thread(cluster.promote, replica)
            when["promoted"] = time.monotonic()
            # Its shard has no replica now, so with the opt-in it saves nothing ("not saved")
            # until one is back: the old master, restarted, rejoins as the new one's replica.
            await asyncio.to_thread(victim.restart)
            await asyncio.to_thread(cluster.wait_ready)

        await asyncio.gather(failover(), *(t.answer(progress) for t in trustees))
        # The victim held answers acknowledged before it died and took more once promoted.
        times = [
            at for t in trustees if t.client.chat.user.name in on_victim for at in t.at.values()
        ]
        assert any(at < when["killed"] for at in times), "nothing on the victim before the kill"
        assert any(at > when["promoted"] for at in times), "nothing on the victim after it"
        assert health == [(503, "unreachable")]
        await eventually(lambda: first.healthy() and second.healthy(), what="healthy again")

        # Every answer the bot acknowledged is in Redis, on the promoted replica where it fell.
        store = Store(connect(survivor.url, cluster=True))
        try:
            for trustee, member in zip(trustees, invited, strict=True):
                found = await store.in_scope(Who(TENANT, member.aad_object_id), f"round:{round_id}")
                assert found is not None, member.name
                saved = {n: found.answer(n).evidence for n in ELEMENTS}
                assert saved == trustee.acknowledged, member.name
        finally:
            await store.close()
        assert all(status == 200 for t in trustees for status in t.statuses)

        # The round closes once, and its summary counts everyone; nobody was invited twice.
        close = desk.button("round.close")["data"]
        await Answering(desk).turn(
            lambda: desk.post(desk.chat.execute("round.close", close, str(desk.card_id)))
        )
        await eventually(lambda: summaries_in_channel(connector), what="the summary")
        (summary,) = summaries_in_channel(connector)
        assert f"{len(invited)} of {len(invited)} trustees (100%)" in summary
        for member in invited:
            assert invitations(connector, member) == 1, member.name
        assert first.returncode() is None and second.returncode() is None
    finally:
        for bot in (first, second):
            bot.cleanup()
