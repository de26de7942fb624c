"""What scripts/image-check asks of the running containers, one step per call:

    check="python -m tests.deploy.container_check"     # with the repository's .venv
    nsenter -t <pid> -n $check --netns-of <pid> health embedded     # or: health redis
    nsenter -t <pid> -n $check --netns-of <pid> --redis-container <name> walk    # then: results
    $check --redis-container <name> redis-conf

The HTTP steps run in a container's network namespace (nsenter changes only that): 127.0.0.1:3978
there is the bot in the container, and the fake Bot Connector started here on 127.0.0.1 is
reachable from it. Each first checks that it really is in that namespace, so nothing here can
reach a service on the host's own loopback. What Redis holds is read with `podman exec` in the
Redis container, never over the network: it is the container's Redis or nothing.

- `health STORE`: /healthz answers 200 (within a minute) for that store, with its loops running;
- `walk`: the trust governance framework completed through /api/messages (hello, Start, 16
  ratings with evidence by both kinds of button, Finish), the heat map and priorities checked on
  the card, and every answer checked in Redis;
- `results`: `results` typed to a bot started again shows the same heat map, from the same
  answers in Redis;
- `redis-conf`: Redis was started from deploy/redis.conf and every setting in it is in force.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import frameworks
from tests.http.teams_client import TeamsClient
from tests.support.activities import Chat
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector

ROOT = Path(__file__).resolve().parents[2]
REDIS_CONF = ROOT / "deploy" / "redis.conf"
CONF_IN_CONTAINER = "/usr/local/etc/redis/redis.conf"  # where compose.yaml mounts it
RATINGS = ["AG", "G", "AR", "AG", "R", "G", "AG", "AR", "G", "AG", "G", "AR", "G", "AG", "AG", "G"]
TITLES = {"R": "Red", "AR": "Amber Red", "AG": "Amber Green", "G": "Green"}
COUNT = len(RATINGS)
FRAMEWORK = "cst-trust-governance"
LOOPS = {"agenda", "delivery worker"}


class Failed(Exception):
    """What the check expected and did not see."""


class ContainerBot(BotHttp):
    def __init__(self, url: str) -> None:
        self._url = url

    @property
    def url(self) -> str:
        return self._url


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(what)


def evidence(number: int) -> str:
    return f"Element {number}: minutes of the March board, item {number} (image check)."


def in_namespace_of(pid: int) -> None:
    ours = os.readlink("/proc/self/ns/net")
    theirs = os.readlink(f"/proc/{pid}/ns/net")
    check(ours == theirs, f"not in the container's network namespace ({ours}, not {theirs})")


# -- /healthz ---------------------------------------------------------------------------------


async def health(bot: ContainerBot, store: str) -> None:
    deadline = time.monotonic() + 60
    status, body = 0, None
    while time.monotonic() < deadline:
        try:
            status, body = await bot.get("/healthz", timeout=5)
        except OSError:
            status = 0
        if status == 200:
            break
        await asyncio.sleep(0.5)  # polling a state: the bot starting, or waiting for Redis
    check(status == 200, f"/healthz did not answer 200 within 60 s: {status} {body}")
    check(isinstance(body, dict), f"/healthz is not JSON: {body}")
    seen = (body["status"], body["store"], body["store_state"])
    check(seen == ("ok", store, "ok"), f"/healthz says {seen}, not ('ok', {store!r}, 'ok')")
    kinds = {loop["loop"] for loop in body["loops"]}
    check(kinds == LOOPS, f"/healthz lists the loops {kinds}, not {LOOPS}")
    stopped = [loop["name"] for loop in body["loops"] if not loop["running"]]
    check(not stopped, f"loops not running: {stopped}")
    print("healthz:", json.dumps({k: v for k, v in body.items() if k != "loops"}), sorted(kinds))


# -- the walkthrough --------------------------------------------------------------------------


def priorities() -> list[str]:
    """The draft priorities as the results card names them: the Red and Amber Red elements."""
    elements = frameworks.load_all()[FRAMEWORK].elements
    check(len(elements) == COUNT, f"{FRAMEWORK} has {len(elements)} elements, not {COUNT}")
    return [
        f"{element.title} ({TITLES[rating]})"
        for element, rating in zip(elements, RATINGS, strict=True)
        if rating in ("R", "AR")
    ]


def check_heat_map(words: str) -> None:
    check("Your heat map" in words, f"no heat map on the card: {words[:300]}")
    check(f"{COUNT} of {COUNT} elements rated." in words, f"not all rated: {words[:300]}")
    for priority in priorities():
        check(priority in words, f"{priority} is not among the draft priorities: {words[:600]}")


async def walk(trustee: TeamsClient) -> None:
    await trustee.say("hello")
    check("Board self-assessment" in trustee.words(), f"no welcome card: {trustee.texts}")
    await trustee.click("start")  # the first framework: trust governance
    check(f"Element 1 of {COUNT}" in trustee.words(), f"no first element: {trustee.words()[:300]}")
    for number, rating in enumerate(RATINGS, start=1):
        via = "submit" if number % 2 else "execute"  # both kinds of button Teams sends
        status = await trustee.click("rate", TITLES[rating], via=via, evidence=evidence(number))
        check(status == 200, f"element {number}: /api/messages answered {status}")
    check(f"{COUNT} of {COUNT} rated." in trustee.words(), "the review card does not say all rated")
    await trustee.click("finish")
    check_heat_map(trustee.words())


async def results(trustee: TeamsClient) -> None:
    status = await trustee.say("results")
    check(status == 200, f"/api/messages answered {status}")
    check_heat_map(trustee.words())


async def converse(args: argparse.Namespace) -> None:
    async with FakeConnector() as connector:
        chat = Chat(service_url=connector.url)
        trustee = TeamsClient(ContainerBot(args.bot), connector, chat)
        await (walk if args.step == "walk" else results)(trustee)
        check(
            not connector.unknown, f"the bot called unknown connector routes: {connector.unknown}"
        )
    check_stored(args.redis_container)


# -- Redis, through podman exec ---------------------------------------------------------------


def redis_cli(container: str, *args: str) -> list[str]:
    done = subprocess.run(
        ["podman", "exec", container, "redis-cli", "--raw", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    check(done.returncode == 0, f"redis-cli {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.splitlines()


def check_stored(container: str) -> None:
    """The one assessment in the container's Redis is done, with every rating and evidence."""
    keys = redis_cli(container, "--scan", "--pattern", "*:sa:*")
    check(len(keys) == 1, f"expected one assessment in the container's Redis, found {keys}")
    fields = ["status"] + [f"r:{n}" for n in range(1, COUNT + 1)]
    fields += [f"e:{n}" for n in range(1, COUNT + 1)]
    values = redis_cli(container, "HMGET", keys[0], *fields)
    check(len(values) == len(fields), f"HMGET answered {len(values)} lines for {len(fields)}")
    saved = dict(zip(fields, values, strict=True))
    check(saved["status"] == "done", f"the assessment is {saved['status']!r}, not done")
    ratings = [saved[f"r:{n}"] for n in range(1, COUNT + 1)]
    check(ratings == RATINGS, f"ratings in Redis {ratings}, given {RATINGS}")
    texts = [saved[f"e:{n}"] for n in range(1, COUNT + 1)]
    check(texts == [evidence(n) for n in range(1, COUNT + 1)], f"evidence in Redis: {texts}")
    print(f"redis: {keys[0]} done, {COUNT} ratings and their evidence as given")


def redis_conf_settings() -> dict[str, str]:
    settings = {}
    for line in REDIS_CONF.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.strip().partition(" ")
            settings[key.lower()] = value.strip().strip('"')
    return settings


def check_redis_conf(container: str) -> None:
    info = dict(
        line.split(":", 1) for line in redis_cli(container, "INFO", "server") if ":" in line
    )
    check(
        info.get("config_file", "").strip() == CONF_IN_CONTAINER,
        f"Redis was not started from {CONF_IN_CONTAINER}: {info.get('config_file')!r}",
    )
    wanted = redis_conf_settings()
    differ = {}
    for key, value in wanted.items():
        answer = redis_cli(container, "CONFIG", "GET", key)
        got = answer[1] if len(answer) > 1 else ""
        if got != value:
            differ[key] = (value, got)
    check(not differ, f"deploy/redis.conf is not in force: (wanted, got) {differ}")
    print(f"redis.conf in force: {', '.join(f'{k} {v}' for k, v in wanted.items())}")


# -- the command line -------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    if args.step == "redis-conf":
        check_redis_conf(args.redis_container)
        return
    check(args.netns_of is not None, "--netns-of is needed for the steps over HTTP")
    in_namespace_of(args.netns_of)
    if args.step == "health":
        await health(ContainerBot(args.bot), args.store)
    else:
        check(bool(args.redis_container), "--redis-container is needed to read the answers")
        await converse(args)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["health", "walk", "results", "redis-conf"])
    parser.add_argument("store", nargs="?", choices=["embedded", "redis"], default="redis")
    parser.add_argument("--netns-of", type=int, help="a pid in the container's network namespace")
    parser.add_argument("--redis-container", help="the Redis container's name")
    parser.add_argument("--bot", default="http://127.0.0.1:3978", help="the bot, in that netns")
    return parser.parse_args(argv)


def run(argv: list[str]) -> int:
    try:
        asyncio.run(main(parse(argv)))
    except Failed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
