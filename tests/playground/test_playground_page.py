"""The Agents Playground's own web page, in headless Chromium, used as a trustee would.

The other Playground tests drive its API; this one presses the buttons Microsoft's page draws
(scripts/cardrender/playground.js): Start on the welcome card, evidence typed in the box,
Amber Green. It checks what the page then shows and what Redis holds, and keeps a picture of
the chat. Skipped where Node.js or Debian's chromium is missing; scripts/test installs chromium
when it can.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.support.bot_process import REPO_ROOT, BotProcess
from tests.support.cardrender import renderer_modules
from tests.support.playground import Playground, install

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
EVIDENCE = "Vision refreshed at the July away day; not yet shared with staff."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.npm,
    pytest.mark.skipif(shutil.which("node") is None, reason="the Playground needs Node.js and npm"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def playground(redis_client: Redis, redis_url: str, tmp_path: Path) -> Iterator[Playground]:
    with BotProcess({"REDIS_URL": redis_url}) as bot:
        running = Playground(install(), bot.messages_url, tmp_path / "playground").start()
        try:
            yield running
        finally:
            running.stop()


def use_the_page(playground: Playground, picture: Path) -> dict[str, dict[str, Any]]:
    script = REPO_ROOT / "scripts" / "cardrender" / "playground.js"
    run = subprocess.run(
        ["node", str(script), playground.url, str(picture)],
        capture_output=True,
        timeout=180,
        env={**os.environ, "CHROMIUM": CHROMIUM, "CARDRENDER_MODULES": str(renderer_modules())},
    )
    assert run.returncode == 0, run.stderr.decode()[-3000:]
    steps = [json.loads(line) for line in run.stdout.decode().splitlines()]
    return {step["step"]: step for step in steps}


async def test_a_trustee_starts_and_rates_in_the_playground_page(
    playground: Playground, redis_client: Redis, tmp_path: Path
) -> None:
    picture = tmp_path / "playground.png"
    steps = use_the_page(playground, picture)

    assert "Board self-assessment" in steps["welcome"]["text"]
    started = steps["started"]["text"]
    assert "Element 1 of 16 · Strategic leadership" in started and "1. Setting direction" in started
    rated = steps["rated"]
    # The card moved on in place: still one card in the chat, now on element 2, box empty.
    assert rated["cards"] == steps["started"]["cards"] == 1
    assert "Saved 1. Setting direction: Amber Green." in rated["text"]
    assert "Element 2 of 16" in rated["text"] and "1 of 16 rated" in rated["text"]
    assert rated["evidence"] == ""
    for title in ("Red", "Amber Red", "Amber Green", "Green", "Back", "Review answers"):
        assert f"\n{title}\n" in rated["text"] + "\n"

    (key,) = [k async for k in redis_client.scan_iter("tb:*:sa:*")]
    answers = await redis_client.hgetall(key)
    assert (answers["r:1"], answers["e:1"], answers["cursor"]) == ("AG", EVIDENCE, "2")

    data = picture.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert 400 < width < 900 and height > 1000  # the whole element card, not a sliver
