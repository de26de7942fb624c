"""Redis cost: commands and round trips per rating turn, and memory per completed response.

A real redis-server and a trustboard process; MONITOR shows every command the bot sends during
one rating turn (commands run inside a Lua script are marked as such and are not round trips;
the background loops' own commands on the delivery queue and the agenda are left out).
Memory is `used_memory` before and after 100 trustees each complete the 16-element governance
framework with 300 characters of evidence per element, divided by 100.

    .venv/bin/python -m bench.redis_cost            (scripts/bench redis_cost)
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.common import EVIDENCE, Poster, Timings, save, session, table, trustee_chat, walkthrough
from dialogs.state import Who
from dialogs.store.keys import Keys
from tests.dialogs.cardkit import walk
from tests.support.activities import Chat
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector, adaptive_cards
from tests.support.redis_server import RedisServer

RESPONSES = 100


async def one_rating_turn(
    bot: BotProcess, connector: FakeConnector, redis: Redis, poster: Poster
) -> list[dict[str, Any]]:
    """Everything the bot sent to Redis while a trustee rated element 2 from its card.

    Element 1 is rated first, unmeasured, so the bot has loaded its scripts (steady state).
    """
    chat = trustee_chat(connector, 1)
    await poster.post(chat.message("start governance"))
    sent = connector.calls_of("send", "reply", conversation_id=chat.where.id)[-1]
    card_id = sent.assigned_id or ""
    first = next(n for n in walk(adaptive_cards(sent.body)[0]) if n.get("verb") == "rate")
    answer = await poster.post(chat.execute("rate", first["data"], card_id, {"evidence": EVIDENCE}))
    button = next(n for n in walk(answer["value"]) if n.get("verb") == "rate")
    seen: list[dict[str, Any]] = []
    async with redis.monitor() as monitor:
        listening = asyncio.create_task(_collect(monitor, seen))
        await asyncio.sleep(0.2)
        activity = chat.execute("rate", button["data"], card_id, {"evidence": EVIDENCE})
        await poster.post(activity)
        await asyncio.sleep(0.3)
        listening.cancel()
    return seen


async def _collect(monitor: Any, seen: list[dict[str, Any]]) -> None:
    async for command in monitor.listen():
        seen.append(command)


async def memory_per_response(connector: FakeConnector, redis: Redis, poster: Poster) -> float:
    await redis.memory_purge()
    before = (await redis.info("memory"))["used_memory"]
    chats = [trustee_chat(connector, 10_000 + i) for i in range(RESPONSES)]
    await asyncio.gather(*(walkthrough(poster, connector, c, finish=True) for c in chats))
    after = (await redis.info("memory"))["used_memory"]
    return (after - before) / RESPONSES


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch, RedisServer(Path(scratch)) as server:
        redis = Redis.from_url(server.url, decode_responses=True)
        async with FakeConnector() as connector:
            bot = await asyncio.to_thread(BotProcess({"REDIS_URL": server.url}).start)
            try:
                async with session(50) as http:
                    poster = Poster(bot, http, Timings())
                    seen = await one_rating_turn(bot, connector, redis, poster)
                    per_response = await memory_per_response(connector, redis, poster)
                    sample = await _one_response_keys(redis, trustee_chat(connector, 10_000))
            finally:
                bot.cleanup()
                await redis.aclose()
    turn = [c for c in seen if not background(c["command"])]
    top = [c["command"].split()[0].upper() for c in turn if c.get("client_type") != "lua"]
    inner = [c["command"].split()[0].upper() for c in turn if c.get("client_type") == "lua"]
    return {
        "rating_turn": {
            "round_trips": len(top),
            "commands": dict(Counter(top)),
            "inside_scripts": dict(Counter(inner)),
        },
        "memory": {"bytes_per_response": round(per_response), "keys_of_one_trustee": sample},
    }


def background(command: str) -> bool:
    """A command of the process's background loops, not of the turn: the delivery workers
    looking at the queue's shards (and its pacing keys), the agenda looking for what is due.
    MONITOR sees them too, and one of their passes often falls in the turn's half second."""
    return any(tag in command for tag in ("{dq:", "{dq}", "{agenda"))


async def _one_response_keys(redis: Redis, chat: Chat) -> dict[str, int]:
    """The keys of one trustee who finished, by what follows the trustee's part of the key."""
    who = Who(chat.tenant, chat.user.aad_object_id or chat.user.id)
    user = Keys().user(who)
    keys = sorted(await redis.keys(Keys().user_pattern(who)))
    if not keys:
        raise RuntimeError(f"no keys under {user}: has the key layout changed?")
    return {k.removeprefix(user): await redis.memory_usage(k, samples=0) or 0 for k in keys}


def report(result: dict[str, Any]) -> None:
    turn = result["rating_turn"]
    rows = [[name, count] for name, count in sorted(turn["commands"].items())]
    rows += [
        [f"  (in a script) {name}", count] for name, count in sorted(turn["inside_scripts"].items())
    ]
    print(table(rows, ["command during one rating turn", "count"]))
    print()
    keys = result["memory"]["keys_of_one_trustee"]
    print(table([[k, v] for k, v in keys.items()], ["key of one trustee", "MEMORY USAGE bytes"]))
    print()
    print(
        f"memory per completed 16-element response (300-character evidence): "
        f"{sum(keys.values()):,} bytes in its keys (MEMORY USAGE), "
        f"{result['memory']['bytes_per_response']:,} bytes of used_memory growth "
        "(target <= 6,144)"
    )
    print(f"round trips per rating turn: {turn['round_trips']} (target <= 2)")


if __name__ == "__main__":
    outcome = asyncio.run(main())
    save("redis", outcome)
    report(outcome)
