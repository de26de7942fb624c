"""What the benchmarks share: a throwaway Redis, a fake Bot Connector, bot processes, simulated
trustees posting real Activity JSON, and the statistics and report format.

The benchmarks reuse the test suite's support code (tests/support) so they drive the bot exactly
as the HTTP tests do.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.dialogs.cardkit import walk
from tests.support.activities import Chat, user
from tests.support.bot_process import REPO_ROOT, BotProcess
from tests.support.fake_connector import FakeConnector, adaptive_cards

RESULTS = REPO_ROOT / "bench" / "results"
ECHO_COMMAND = [sys.executable, str(REPO_ROOT / "bench" / "echo_bot.py")]
EVIDENCE = (
    "The board reviewed the risk register in March and again in June; the audit committee's "
    "minutes show the top five risks discussed with the accounting officer, and trustees asked "
    "for a deep dive on estates compliance, which is booked for the autumn term meeting. We have "
    "not yet tested our risk appetite statement against recent decisions."
)[:300]


@dataclass
class Timings:
    """Latency of every turn (seconds) and the wall time of the whole run."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: int = 0

    @property
    def turns(self) -> int:
        return len(self.latencies)

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]

    @property
    def per_second(self) -> float:
        return self.turns / self.wall if self.wall else 0.0

    def figures(self) -> dict[str, float]:
        return {
            "turns": self.turns,
            "errors": self.errors,
            "p50_ms": round(self.percentile(50) * 1000, 2),
            "p99_ms": round(self.percentile(99) * 1000, 2),
            "turns_per_s": round(self.per_second, 1),
        }


class Poster:
    """Posts activities to one bot over a shared connection pool, timing each turn."""

    def __init__(self, bot: BotProcess, session: aiohttp.ClientSession, timings: Timings) -> None:
        self.url = bot.messages_url
        self.session = session
        self.timings = timings

    async def post(self, activity: dict[str, Any]) -> Any:
        started = time.perf_counter()
        async with self.session.post(self.url, json=activity) as response:
            body = await response.read()
            elapsed = time.perf_counter() - started
            if response.status >= 400:
                self.timings.errors += 1
        self.timings.latencies.append(elapsed)
        return json.loads(body) if body else None


def trustee_chat(connector: FakeConnector, number: int) -> Chat:
    return Chat(service_url=connector.url, user=user(f"Bench trustee {number}"))


async def walkthrough(poster: Poster, connector: FakeConnector, chat: Chat, finish: bool) -> None:
    """A trustee starts the governance framework and rates all 16 elements from the cards."""
    await poster.post(chat.message("start governance"))
    sent = connector.calls_of("send", "reply", conversation_id=chat.where.id)
    cards = adaptive_cards(sent[-1].body) if sent else []
    if not cards:
        raise RuntimeError(f"no card after 'start governance': {sent[-1].body if sent else None}")
    card_id, card = sent[-1].assigned_id or "", cards[0]
    for _ in range(16):
        data = _rate_button(card)
        body = await poster.post(chat.execute("rate", data, card_id, {"evidence": EVIDENCE}))
        if not (isinstance(body, dict) and isinstance(body.get("value"), dict)):
            raise RuntimeError(f"no card after a rating: {body}")
        card = body["value"]
    if finish:
        await poster.post(chat.message("finish"))


def _rate_button(card: dict[str, Any]) -> dict[str, Any]:
    for node in walk(card):
        if node.get("type") == "Action.Execute" and node.get("verb") == "rate":
            return {**node["data"], "rating": "AG"}
    raise RuntimeError("no rate button on the card")


async def echo_user(poster: Poster, chat: Chat, turns: int) -> None:
    # Not "hello": the Teams SDK's sample answers greetings on a path of their own.
    for number in range(turns):
        await poster.post(chat.message(f"message {number}"))


def session(limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit), timeout=aiohttp.ClientTimeout(total=120)
    )


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine()}


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [list(map(str, header)), *[list(map(str, r)) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def save(name: str, result: dict[str, Any], path: Path | None = None) -> Path:
    return write(path or RESULTS / f"{name}.json", result)


def write(path: Path, result: dict[str, Any]) -> Path:
    """A benchmark's result as JSON at `path`, with the machine it ran on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**result, "machine": machine()}, indent=2) + "\n")
    return path
