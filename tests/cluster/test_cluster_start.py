"""REDIS_CLUSTER=1: the bot on a Redis Cluster with REDIS_URL naming any one node, and refusing
to start when the setting and the Redis named disagree."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import ConfigError
from dialogs.state import Who
from dialogs.store import Keys
from tests.http.teams_client import TeamsClient
from tests.support.activities import TENANT, Chat, user
from tests.support.bot_app import BotApp, StartBot
from tests.support.bot_process import REPO_ROOT, BotProcess
from tests.support.fake_connector import FakeConnector
from tests.support.redis_cluster import RedisCluster
from tests.support.redis_state import every_key

GOVERNANCE = ["AG", "G", "AG", "AR", "R", "AG", "AG", "G", "AG", "AG", "G", "AR", "AG", "G", "G"]
GOVERNANCE.append("AG")
TITLES = {"R": "Red", "AR": "Amber Red", "AG": "Amber Green", "G": "Green"}


def test_a_cluster_node_named_without_redis_cluster_stops_the_bot_saying_what_to_set(
    redis_cluster_url: str,
) -> None:
    env = BotProcess({"REDIS_URL": redis_cluster_url}).environment()
    run = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=REPO_ROOT, env=env, capture_output=True, timeout=60
    )
    stderr = run.stderr.decode()
    assert run.returncode == 2, stderr
    assert "Cannot start trustboard:\n- REDIS_URL names a node of a Redis Cluster" in stderr
    assert "set REDIS_CLUSTER=1" in stderr
    assert "Traceback" not in stderr
    assert "trustboard listening" not in stderr + run.stdout.decode()


async def test_a_single_redis_with_redis_cluster_is_refused_at_start(redis_url: str) -> None:
    bot = BotApp({"REDIS_URL": redis_url, "REDIS_CLUSTER": "1"})
    with pytest.raises(ConfigError, match=r"not part of a cluster .*unset REDIS_CLUSTER"):
        await bot.start()
    await bot.stop()


def trustees_on_every_master(cluster: RedisCluster, each: int = 2) -> list[Chat]:
    """Trustees whose keys lie on each master in turn, `each` per master."""
    keys, masters = Keys(), cluster.masters()
    found: dict[int, list[str]] = {node.port: [] for node in masters}
    n = 0
    while any(len(names) < each for names in found.values()):
        name = f"Trustee {n}"
        n += 1
        key = keys.profile(Who(TENANT, user(name).id))
        port = cluster.master_of_slot(cluster.slot_of(key)).port
        if len(found[port]) < each:
            found[port].append(name)
    return [Chat(service_url="", user=user(name)) for names in found.values() for name in names]


async def test_trustees_whose_keys_lie_on_each_master_are_all_welcomed_and_saved(
    cluster_bot: BotApp, connector: FakeConnector, redis_cluster: RedisCluster, cluster_client
) -> None:
    chats = trustees_on_every_master(redis_cluster)
    trustees = [
        TeamsClient(cluster_bot, connector, Chat(service_url=connector.url, user=chat.user))
        for chat in chats
    ]
    for n, trustee in enumerate(trustees):
        await trustee.say("hello")
        assert "Board self-assessment" in trustee.words()
        await trustee.click("start")
        await trustee.click("rate", "Green", evidence=f"minutes, trustee {n}")
        assert "Element 2 of 16" in trustee.words()
        assert not trustee.texts, trustee.texts  # no "not saved"

    saved = [await cluster_client.hgetall(k) for k in await every_key(cluster_client, "*:sa:*")]
    assert sorted(s["e:1"] for s in saved) == sorted(f"minutes, trustee {n}" for n in range(6))
    assert {s["r:1"] for s in saved} == {"G"}


async def test_a_whole_walkthrough_on_the_cluster(
    cluster_bot_with: StartBot, connector: FakeConnector, cluster_client
) -> None:
    first = await cluster_bot_with()
    alex = TeamsClient(first, connector, Chat(service_url=connector.url))
    await alex.say("hello")
    await alex.click("start")
    for number in range(1, 9):
        evidence = f"Evidence for element {number}."
        await alex.click("rate", TITLES[GOVERNANCE[number - 1]], evidence=evidence)
    await alex.click("pause")
    assert "Paused at 9." in alex.words()

    # Another process on the cluster carries on where the first left off.
    alex.bot = await cluster_bot_with()
    await alex.say("resume")
    assert "8 of 16 rated" in alex.words()
    for number in range(9, 17):
        await alex.click("rate", TITLES[GOVERNANCE[number - 1]], via="submit")
    await alex.click("finish")

    assert "Your heat map" in alex.words() and "16 of 16 elements rated." in alex.words()
    [key] = await every_key(cluster_client, "*:sa:*")
    saved = await cluster_client.hgetall(key)
    assert saved["status"] == "done"
    assert [saved[f"r:{n}"] for n in range(1, 17)] == GOVERNANCE
    assert saved["e:5"] == "Evidence for element 5."
