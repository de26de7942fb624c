"""The Microsoft 365 Agents Playground (Microsoft's Teams emulator) as a real client in tests.

`Playground` installs it through `scripts/playground --install-only` (the version is pinned
there), starts it on a free port in front of a bot, and `PlaygroundUser` drives it through its
own HTTP and WebSocket API as the current user would through the web page: typing, clicking
`Action.Execute` and `Action.Submit` buttons, and reading what the chat shows.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.dialogs.cardkit import walk

from .bot_process import REPO_ROOT
from .net import LOOPBACK, free_port

CARD = "application/vnd.microsoft.card.adaptive"
LISTENING = re.compile(rb"Listening on (\d+)")


class PlaygroundError(RuntimeError):
    pass


def install() -> Path:
    """The playground's cli.js, installed from npm on first use."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise PlaygroundError("the Agents Playground needs Node.js and npm")
    run = subprocess.run(
        [str(REPO_ROOT / "scripts" / "playground"), "--install-only"],
        capture_output=True,
        timeout=300,
    )
    if run.returncode != 0:
        raise PlaygroundError(f"installing the Agents Playground failed:\n{run.stderr.decode()}")
    return Path(run.stdout.decode().strip())


class Playground:
    """One playground process in front of the bot at `bot_url` (…/api/messages)."""

    def __init__(self, cli: Path, bot_url: str, directory: Path) -> None:
        self.cli = cli
        self.bot_url = bot_url
        self.directory = directory  # it writes its logs and devTools/ here
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 60) -> Playground:
        self.directory.mkdir(parents=True, exist_ok=True)
        env = {
            **_inherited(),
            "TEAMSAPPTESTER_BROWSER": "none",
            "M365_AGENTS_PLAYGROUND_LOGFILE": str(self.directory / "playground.log"),
        }
        wanted = free_port()
        command = ["node", str(self.cli), "start", "-e", self.bot_url, "-c", "msteams", "--dt"]
        self.process = subprocess.Popen(
            [*command, "-p", str(wanted)],
            cwd=self.directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.port = self._wait_listening(timeout)
        return self

    def _wait_listening(self, timeout: float) -> int:
        """The port it printed: it silently picks another when the one asked for is taken."""
        assert self.process and self.process.stdout
        deadline = time.monotonic() + timeout
        seen = b""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
            seen += line
            found = LISTENING.search(line)
            if found:
                return int(found.group(1))
        self.stop()
        raise PlaygroundError(f"the Agents Playground did not start:\n{seen.decode()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _inherited() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("M365_AGENTS_PLAYGROUND")}


class PlaygroundUser:
    """The playground's current user, in their personal chat with the bot."""

    def __init__(self, session: aiohttp.ClientSession, playground: Playground) -> None:
        self.session = session
        self.base = playground.url
        self.messages: dict[str, dict[str, Any]] = {}  # by id, as the chat shows them now
        self.order: list[str] = []  # ids in the order the chat shows them
        self.events = asyncio.Queue[dict[str, Any]]()
        self.me: dict[str, Any] = {}
        self.chat = ""
        self._listener: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PlaygroundUser:
        config = (await self._get("/_internal/v1/config"))["config"]
        self.me, self.chat = config["currentUser"], config["personalChat"]["id"]
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(ready))
        await asyncio.wait_for(ready.wait(), 10)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._listener:
            self._listener.cancel()

    async def _listen(self, ready: asyncio.Event) -> None:
        url = self.base.replace("http", "ws", 1) + "/_ws_conversation/v1/conversations/stream"
        async with self.session.ws_connect(url) as socket:
            ready.set()
            async for frame in socket:
                self._show(json.loads(frame.data))

    def _show(self, event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        message_id = message.get("messageId")
        if not message_id or event.get("actionConversationId") != self.chat:
            return
        if message_id not in self.messages:
            self.order.append(message_id)
        self.messages[message_id] = message
        self.events.put_nowait(event)

    # -- what the user does --------------------------------------------------------------------

    async def say(self, text: str) -> None:
        body = {"from": {"id": self.me["id"]}, "text": text, "textFormat": "plain"}
        await self._expect_reply(
            self._post(f"/_conversation/v1/conversations/{self.chat}/messages", body)
        )

    async def click(self, verb: str, title: str | None = None, **inputs: Any) -> str | None:
        """Action.Execute: the playground puts the returned card in place of the clicked one.

        Returns the text Teams would show on the card when the bot answers with a message.
        """
        card_id, button = self._button(verb, title)
        action = {"type": "Action.Execute", "verb": verb, "data": {**button["data"], **inputs}}
        body = {
            "name": "adaptiveCard/action",
            "from": {"id": self.me["id"]},
            "conversation": {"id": self.chat},
            "replyToId": card_id,
            "value": {"action": action, "trigger": "manual"},
        }
        answer = await self._post("/_conversation/v1/invoke", body)
        if answer.get("type") == CARD:
            shown = {"contentType": CARD, "content": answer["value"]}
            self.messages[card_id]["attachments"] = [shown]
            return None
        return str(answer.get("value"))

    async def submit(self, verb: str, title: str | None = None, **inputs: Any) -> None:
        """The same button pressed in a client that only knows Action.Submit (its fallback)."""
        card_id, button = self._button(verb, title)
        fallback = button.get("fallback", button)
        body = {
            "from": {"id": self.me["id"]},
            "conversation": {"id": self.chat},
            "replyToId": card_id,
            "value": {**fallback["data"], **inputs},
        }
        await self._expect_reply(self._post("/_conversation/v1/submit", body))

    # -- what the user sees --------------------------------------------------------------------

    def card(self) -> tuple[str, dict[str, Any]]:
        """The newest card in the chat, with the id of its message."""
        for message_id in reversed(self.order):
            for attachment in self.messages[message_id].get("attachments") or []:
                if attachment.get("contentType") == CARD:
                    return message_id, attachment["content"]
        raise AssertionError("no card in the chat")

    def words(self) -> str:
        return "\n".join(
            node.get("text", "")
            for node in walk(self.card()[1])
            if node.get("type") in ("TextRun", "TextBlock")
        )

    def texts(self) -> list[str]:
        return [m["text"] for m in (self.messages[i] for i in self.order) if m.get("text")]

    def input_value(self, input_id: str) -> Any:
        found = [n for n in walk(self.card()[1]) if n.get("id") == input_id]
        assert found, f"no input {input_id} on the card"
        return found[0].get("value")

    # -- plumbing --------------------------------------------------------------------------------

    def _button(self, verb: str, title: str | None) -> tuple[str, dict[str, Any]]:
        card_id, card = self.card()
        for node in walk(card):
            if (
                node.get("type") == "Action.Execute"
                and node["data"].get("verb") == verb
                and (title is None or node["title"].lstrip("✓ ") == title)
            ):
                return card_id, node
        raise AssertionError(f"no {verb} button {title or ''} on the card:\n{self.words()[:400]}")

    async def _expect_reply(self, posting: Any, quiet: float = 0.3, timeout: float = 15) -> None:
        """Post, then wait until the bot's answer has arrived and the chat is quiet again."""
        while not self.events.empty():
            self.events.get_nowait()
        await posting
        await asyncio.wait_for(self.events.get(), timeout)
        while True:
            try:
                await asyncio.wait_for(self.events.get(), quiet)
            except TimeoutError:
                return

    async def _get(self, path: str) -> Any:
        async with self.session.get(self.base + path) as response:
            assert response.status == 200, (path, response.status)
            return await response.json()

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        async with self.session.post(self.base + path, json=body) as response:
            text = await response.text()
            assert response.status < 300, (path, response.status, text)
            return json.loads(text) if text else {}
