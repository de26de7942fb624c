"""The Microsoft 365 Agents Playground (Microsoft's Teams emulator) as a real client in tests.

`Playground` installs it through `scripts/playground --install-only` (the version is pinned
there), starts it on a free port in front of a bot, and `PlaygroundUser` drives it through its
own HTTP and WebSocket API as the current user would through the web page: typing, clicking
`Action.Execute` and `Action.Submit` buttons, and reading what the chat shows.

`PlaygroundTeam` does the same for a whole board, on a mock tenant from a config file
(deploy/playground/board.yml): the channel, the current user's personal chat, and, through the
Playground's log, what the bot sent to the other members' 1:1 chats, which the Playground keeps
but never shows. `Member` is anyone in the tenant: any member may press buttons (invoke,
submit) as themselves, but only the current user can type. docs/playground-round.md has the
facts this rests on.

`python -m tests.support.playground answer` makes the board's other members answer a round
while a person plays the clerk in the Playground's web page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp

from tests.dialogs.cardkit import walk

from .bot_process import REPO_ROOT
from .locks import one_at_a_time
from .net import LOOPBACK, free_port

CARD = "application/vnd.microsoft.card.adaptive"
LISTENING = re.compile(rb"Listening on (\d+)")
BOARD_CONFIG = REPO_ROOT / "deploy" / "playground" / "board.yml"
T = TypeVar("T")


class PlaygroundError(RuntimeError):
    pass


def install() -> Path:
    """The playground's cli.js, installed from npm on first use."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise PlaygroundError("the Agents Playground needs Node.js and npm")
    script = REPO_ROOT / "scripts" / "playground"
    with one_at_a_time(script):
        run = subprocess.run([str(script), "--install-only"], capture_output=True, timeout=300)
    if run.returncode != 0:
        raise PlaygroundError(f"installing the Agents Playground failed:\n{run.stderr.decode()}")
    return Path(run.stdout.decode().strip())


class Playground:
    """One playground process in front of the bot at `bot_url` (…/api/messages)."""

    def __init__(
        self, cli: Path, bot_url: str, directory: Path, config: Path | None = None
    ) -> None:
        self.cli = cli
        self.bot_url = bot_url
        self.directory = directory  # it writes its logs and devTools/ here
        self.config = config  # a mock tenant (schema 0.1.1); None: the Playground's default one
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
        if self.config is not None:
            env["M365_AGENTS_PLAYGROUND_CONFIG_PATH"] = str(self.config)
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
        if self.config is not None:
            self._wait_config_loaded(timeout)
        return self

    def _wait_config_loaded(self, timeout: float) -> None:
        """It prints "Listening" before it reads the config, and exits after if that is bad."""
        assert self.process
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.directory / "playground.log"
                said = log.read_text(errors="replace") if log.exists() else ""
                errors = [line for line in said.splitlines() if line.startswith("error ")]
                self.stop()
                raise PlaygroundError(
                    f"the Agents Playground stopped at start with {self.config}:\n"
                    + "\n".join(errors or said.splitlines()[-5:])
                )
            try:
                with opener.open(self.url + "/_internal/v1/config", timeout=20) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise PlaygroundError(f"the Agents Playground did not load {self.config}")

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


# ---- a whole board: its channel, the current user's chat, and the other members' 1:1 chats ------

NOT_IN_CHAT = "ActivityNotFoundInConversation"  # the Playground's 400 for a click on a message
# that is not in the conversation named: it answers so before the bot hears of the click
FROM_BOT = "User Application"  # the Playground log's name for the bot


def card_words(card: dict[str, Any]) -> str:
    return "\n".join(
        str(node.get("text", ""))
        for node in walk(card)
        if node.get("type") in ("TextRun", "TextBlock")
    )


@dataclass
class Message:
    """A message of the bot's as the Playground holds it.

    `conversation` is what a click on it must name: a chat's id, or for a channel the post's own
    thread ("<channel>;messageid=<post>"); `place` is the chat or channel it shows in.
    """

    id: str
    conversation: str
    place: str
    activity: dict[str, Any]
    version: int = 0  # how many times the bot has updated it

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == CARD:
                return dict(attachment["content"])
        return None

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")

    def words(self) -> str:
        return card_words(self.card or {})

    def buttons(self, verb: str) -> list[dict[str, Any]]:
        return [
            node
            for node in walk(self.card or {})
            if node.get("type") == "Action.Execute" and node.get("verb") == verb
        ]

    def button(self, verb: str, title: str | None = None) -> dict[str, Any]:
        for node in self.buttons(verb):
            if title is None or str(node.get("title", "")).lstrip("✓ ") == title:
                return node
        raise AssertionError(f"no {verb} button {title or ''} on the card:\n{self.words()[:600]}")

    def showing(self, card: dict[str, Any]) -> Message:
        """The same message with another card: what the clicker sees after an Action.Execute."""
        activity = {**self.activity, "attachments": [{"contentType": CARD, "content": card}]}
        return replace(self, activity=activity)


class PlaygroundTeam:
    """A Playground started with a board's mock tenant, read through its two WebSockets.

    `shown` is what the Playground's page shows (the conversation stream: the team's channels and
    the current user's chats). `sent` is every message the bot sent or updated through the
    Playground's connector, read from the Playground's log stream: it includes the other members'
    1:1 chats, which the Playground keeps but never shows. `chats` maps a member's id to the 1:1
    chat the bot created with them. Connect before anything happens: the Playground sends its
    backlog only to the first client of each stream.
    """

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base = base_url.rstrip("/")
        self.shown: dict[str, Message] = {}
        self.sent: dict[str, Message] = {}
        self.sent_order: list[str] = []
        self.chats: dict[str, str] = {}
        self.members: dict[str, Member] = {}  # by display name, the current user included
        self.me: Member
        self.bot_id = self.bot_name = self.team_name = self.channel = self.personal_chat = ""
        self._changed = asyncio.Event()
        self._listeners: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> PlaygroundTeam:
        config = (await self._get("/_internal/v1/config"))["config"]
        self.bot_id, self.bot_name = config["bot"]["id"], config["bot"]["name"]
        for account in [config["currentUser"], *config["users"]]:
            self.members[account["name"]] = Member(
                self, account["id"], account["name"], account["aadObjectId"]
            )
        self.me = self.members[config["currentUser"]["name"]]
        self.personal_chat = config["personalChat"]["id"]
        # The team's General channel has the team's id; the config adds at most one other.
        self.team_name = config["teams"][0]["name"]
        self.channel = config["teams"][0]["channels"][-1]["id"]
        for path, handle in (
            ("/_ws_conversation/v1/conversations/stream", self._show),
            ("/_ws/log/stream", self._log),
        ):
            ready = asyncio.Event()
            self._listeners.append(asyncio.create_task(self._listen(path, handle, ready)))
            await asyncio.wait_for(ready.wait(), 10)
        return self

    async def __aexit__(self, *_: object) -> None:
        for listener in self._listeners:
            listener.cancel()
        await asyncio.gather(*self._listeners, return_exceptions=True)

    def member(self, name: str) -> Member:
        return self.members[name]

    # -- what the current user does --------------------------------------------------------------

    async def add_bot(self, conversation: str | None = None) -> None:
        """What the page does when its user first opens a channel: an installationUpdate, then a
        conversationUpdate adding the bot, both in that channel."""
        where = quote(conversation or self.channel, safe="")
        await self._post(f"/_debug/conversation/{where}/installation", {})

    async def mention(self, text: str, channel: str | None = None) -> Message:
        """A new post in the channel, @mentioning the bot, by the current user (the Playground
        posts every typed message as the current user); returns the bot's answer in the thread."""
        thread = await self.post_mention(text, channel)
        return await self.wait_for(
            lambda: next((m for m in self.shown.values() if m.conversation == thread), None),
            f"the bot's answer to {text!r}",
        )

    async def post_mention(self, text: str, channel: str | None = None) -> str:
        """The post `mention` makes, without waiting for an answer in its thread; its thread."""
        channel = channel or self.channel
        tag = f"<at>{self.bot_name}</at>"
        body = {
            "from": {"id": self.me.id},
            "text": f"{tag} {text}",
            "textFormat": "plain",
            "mentions": [{"mentioned": {"id": self.bot_id}, "text": tag}],
        }
        posted = await self._post(
            f"/_conversation/v1/conversations/{quote(channel, safe='')}/messages", body
        )
        return str(posted["postConversationId"])

    # -- what the Playground shows -----------------------------------------------------------------

    def shown_in(self, place: str) -> list[Message]:
        """The bot's messages in a chat or channel (threads included), oldest first."""
        return [m for m in self.shown.values() if m.place == place]

    async def card_in(self, place: str, text: str, timeout: float = 15) -> Message:
        """The newest card in a chat or channel whose words include `text`, once it is there."""
        return await self.wait_for(
            lambda: next(
                (m for m in reversed(self.shown_in(place)) if m.card and text in m.words()), None
            ),
            f"a card saying {text!r} in {place}",
            timeout,
        )

    async def wait_for(self, check: Callable[[], T | None], what: str, timeout: float = 15) -> T:
        """`check()` once it is truthy, re-checked whenever either stream brings something."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            found = check()
            if found:
                return found
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    # -- the two streams ---------------------------------------------------------------------------

    async def _listen(
        self, path: str, handle: Callable[[dict[str, Any]], None], ready: asyncio.Event
    ) -> None:
        url = self.base.replace("http", "ws", 1) + path
        async with self.session.ws_connect(url) as socket:
            ready.set()
            async for frame in socket:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    handle(json.loads(frame.data))
                    self._changed.set()

    def _show(self, event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        message_id = message.get("messageId")
        if not message_id:
            return  # typing
        where = str(event.get("actionConversationId") or "")
        known = self.shown.get(message_id)
        if known is None:
            # A new channel post comes with its own thread's id; a reply names the thread.
            conversation = str(message.get("postConversationId") or where)
            self.shown[message_id] = Message(message_id, conversation, where.split(";")[0], message)
        else:
            known.activity, known.version = message, known.version + 1

    def _log(self, event: dict[str, Any]) -> None:
        item = event.get("log") or {}
        if item.get("from") != FROM_BOT:
            return
        request = (item.get("request") or {}).get("body") or {}
        response = item.get("response") or {}
        if int(response.get("statusCode") or 0) >= 300:
            return
        kind = item.get("activityName")
        if kind == "createConversation" and not request.get("isGroup"):
            members = request.get("members") or [{}]
            chat = (response.get("body") or {}).get("id")
            if chat and members[0].get("id"):
                self.chats[str(members[0]["id"])] = str(chat)
        elif kind == "message" and item.get("messageId"):
            message_id = str(item["messageId"])
            known = self.sent.get(message_id)
            if known is None:
                self.sent[message_id] = Message(message_id, "", "", request)
                self.sent_order.append(message_id)
            else:
                known.activity, known.version = request, known.version + 1

    # -- plumbing ----------------------------------------------------------------------------------

    async def _get(self, path: str) -> Any:
        async with self.session.get(self.base + path) as response:
            assert response.status == 200, (path, response.status)
            return await response.json()

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        status, text = await self._post_raw(path, body)
        assert status < 300, (path, status, text)
        return json.loads(text) if text else {}

    async def _post_raw(self, path: str, body: dict[str, Any]) -> tuple[int, str]:
        async with self.session.post(self.base + path, json=body) as response:
            return response.status, await response.text()


class Member:
    """Anyone in the mock tenant, pressing buttons as themselves (the Playground's invoke and
    submit routes take any member of the conversation as `from`)."""

    def __init__(self, team: PlaygroundTeam, member_id: str, name: str, aad_object_id: str) -> None:
        self.team = team
        self.id = member_id  # the Teams id (29:…)
        self.name = name
        self.aad_object_id = aad_object_id

    def __repr__(self) -> str:
        return f"Member({self.name!r})"

    async def click(
        self, message: Message, verb: str, title: str | None = None, /, **inputs: Any
    ) -> Message | str:
        """Action.Execute: the card the bot answers with (in place of the clicked one, for the
        clicker only), or the text Teams would show on the clicked card."""
        return await self.press(message, message.button(verb, title), **inputs)

    async def press(
        self, message: Message, button: dict[str, Any], /, **inputs: Any
    ) -> Message | str:
        """`click` for a button picked out of the card (say, one of several with one title)."""
        status, text = await self._invoke(message.conversation, message.id, button, inputs)
        assert status == 200, (button["verb"], status, text)
        return self._answer(message, text)

    async def submit(
        self, message: Message, verb: str, title: str | None = None, /, **inputs: Any
    ) -> Message:
        """The same button as Action.Submit (its fallback): the bot answers by updating the
        card's message, for everyone; returns the message as updated."""
        fallback = message.button(verb, title).get("fallback") or message.button(verb, title)
        before = self.team.sent[message.id].version if message.id in self.team.sent else -1
        body = {
            "from": {"id": self.id},
            "conversation": {"id": message.conversation},
            "replyToId": message.id,
            "value": {**fallback["data"], **inputs},
        }
        await self.team._post("/_conversation/v1/submit", body)
        updated = await self.team.wait_for(
            lambda: (found := self.team.sent.get(message.id)) and found.version > before and found,
            f"the bot's update of the card after {self.name}'s {verb}",
        )
        return message.showing(updated.card or {})

    async def chat(self, timeout: float = 15) -> str:
        """This member's 1:1 chat with the bot, once the bot has created it."""
        if self is self.team.me:
            return self.team.personal_chat
        return await self.team.wait_for(
            lambda: self.team.chats.get(self.id),
            f"the bot to open a chat with {self.name}",
            timeout,
        )

    async def click_in_chat(
        self, verb: str, title: str | None = None, /, **inputs: Any
    ) -> Message | str:
        """Press a button on a card the bot sent to this member's 1:1 chat, newest card first.

        The Playground never shows another member's chat and has no way to list its messages, so
        this tries the bot's cards that have such a button, newest first: the Playground refuses
        a click on a message that is not in the chat (400, before the bot hears of it), so the
        first click it takes is the click on this member's own card.
        """
        timeout = 15.0
        chat = await self.chat(timeout)
        tried: set[str] = set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.team._changed.clear()
            for message_id in reversed(self.team.sent_order):
                message = self.team.sent[message_id]
                if message_id in tried or not message.buttons(verb):
                    continue
                tried.add(message_id)
                button = message.button(verb, title)
                status, text = await self._invoke(chat, message_id, button, inputs)
                if status == 400 and NOT_IN_CHAT in text:
                    continue
                assert status == 200, (verb, status, text)
                message.conversation = message.place = chat
                return self._answer(message, text)
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no card with a {verb} button in {self.name}'s chat")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.team._changed.wait(), left)

    async def _invoke(
        self, conversation: str, message_id: str, button: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[int, str]:
        action = {
            "type": "Action.Execute",
            "verb": button["verb"],
            "data": {**button["data"], **inputs},
        }
        body = {
            "name": "adaptiveCard/action",
            "from": {"id": self.id},
            "conversation": {"id": conversation},
            "replyToId": message_id,
            "value": {"action": action, "trigger": "manual"},
        }
        return await self.team._post_raw("/_conversation/v1/invoke", body)

    @staticmethod
    def _answer(message: Message, text: str) -> Message | str:
        answer = json.loads(text) if text else {}
        if answer.get("type") == CARD:
            return message.showing(answer["value"])
        return str(answer.get("value"))


# ---- `python -m tests.support.playground answer`: the other members answer a round -----------

DEFAULT_RATINGS = ("AG", "G", "AR", "AG", "R", "G", "AG")
RATING_TITLES = {"R": "Red", "AR": "Amber Red", "AG": "Amber Green", "G": "Green"}
# What trustees write, by the rating it backs: varied, so a demonstration's summary reads like a
# board's and not like a machine's. Each member's n-th answer takes a different one.
EVIDENCE: dict[str, tuple[str, ...]] = {
    "R": (
        "We have not discussed this at board level in the last year; it comes up only when "
        "something goes wrong.",
        "The last two meetings ran out of time before we reached it, again.",
        "No report on this has reached the board since the trust grew to six schools.",
        "Honestly, I could not say who on the board owns this.",
    ),
    "AR": (
        "Papers arrive the weekend before, so we rarely get past the headline figures.",
        "There is a policy, but we do not check whether it is followed in the schools.",
        "The committee looks at this; the full board hears about it once a year.",
        "Our questions are mostly for information, not challenge.",
        "Better since the new chair, but still dependent on one or two trustees.",
    ),
    "AG": (
        "A termly report with clear measures; we could do more with what it tells us.",
        "Good challenge in committee; the minutes show it, and actions are followed up.",
        "We reviewed this at the away day and agreed changes, not all made yet.",
        "Sound on paper and mostly in practice; a newer trustee would struggle to tell.",
        "The executive's reports are candid; we act on them, if slowly.",
    ),
    "G": (
        "Reviewed externally last spring and the findings were acted on within the term.",
        "Every trustee can say how this works and where we are against plan.",
        "Standing item at each meeting, with data we trust and clear ownership.",
        "A strength: other trusts in the area have asked how we do it.",
    ),
}


def evidence_for(member: str, nth: int, code: str) -> str:
    """A note for `member`'s `nth` answer, rated `code`: one of EVIDENCE's, varied per member."""
    notes = EVIDENCE[code]
    start = sum(map(ord, member)) % len(notes)
    return notes[(start + nth) % len(notes)]


async def answer_round(
    url: str,
    ratings: dict[str, list[str]],
    only: list[str],
    wait: float,
    say: Callable[[str], None] = print,
) -> int:
    """Wait for a round's invitations, then answer as each invited member but the current user.

    A member named in `ratings` rates that many elements and finishes only if that covers them
    all; anyone else rates every element (a pattern varied per member) and finishes.
    """
    connector = aiohttp.TCPConnector(force_close=True)  # Node drops idle keep-alives after 5 s
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        PlaygroundTeam(session, url) as team,
    ):
        say(
            f"Connected to the Agents Playground at {url}. Open the round now (or, if it is "
            "open already, press Remind on its round card): I answer when the invitations come."
        )
        # An invitation opens a 1:1 chat with its member (the current user's is the page's own).
        await team.wait_for(
            lambda: any(member != team.me.id for member in team.chats),
            "a round's invitations",
            wait,
        )
        await asyncio.sleep(3)  # the outbox sends the rest within moments
        invited = [m for m in team.members.values() if m is not team.me and m.id in team.chats]
        if only:
            invited = [m for m in invited if m.name in only]
        for index, member in enumerate(invited):
            codes = ratings.get(member.name)
            if codes is None:
                turn = index % len(DEFAULT_RATINGS)
                codes = [*DEFAULT_RATINGS[turn:], *DEFAULT_RATINGS[:turn]] * 3
                finish = True
            else:
                finish = False
            say(f"{member.name}: {await _answer_as(member, codes, finish)}")
    return 0


async def _answer_as(member: Member, codes: list[str], finish_anyway: bool) -> str:
    try:
        card = await member.click_in_chat("start")
    except AssertionError:
        return "no invitation in their chat (were they invited?)"
    if not isinstance(card, Message):
        return f"the bot said: {card}"
    given: list[str] = []
    for nth, code in enumerate(codes):
        if not card.buttons("rate"):
            break
        # By the rating it carries: each framework spells the ratings its own way.
        button = next(b for b in card.buttons("rate") if b["data"].get("rating") == code)
        evidence = evidence_for(member.name, nth, code)
        answer = await member.press(card, button, evidence=evidence)
        if not isinstance(answer, Message):
            return f"stopped: the bot said {answer}"
        card, given = answer, [*given, code]
    if card.buttons("finish") and (finish_anyway or not card.buttons("rate")):
        await member.click(card, "finish")
        return f"rated {' '.join(given)} and finished"
    return f"rated {' '.join(given)}; left in progress"


def _parse_ratings(values: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for value in values:
        name, _, codes = value.partition("=")
        parsed = [c.strip().upper() for c in codes.split(",") if c.strip()]
        if not name.strip() or not parsed or any(c not in RATING_TITLES for c in parsed):
            raise SystemExit(f"--rate wants NAME=R,AR,AG,G (ratings R, AR, AG or G), not {value!r}")
        found[name.strip()] = parsed
    return found


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tests.support.playground",
        description="Drive the Microsoft 365 Agents Playground's other members from a script.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    answer = commands.add_parser(
        "answer",
        help="answer a board round as every invited member but the current user",
        description="Start this before opening a round in the Playground's page: it waits for "
        "the invitations, then answers in each invited member's 1:1 chat, which the page "
        "cannot show. See docs/playground-round.md.",
    )
    answer.add_argument(
        "--url",
        default=os.environ.get("PLAYGROUND_URL", "http://localhost:56150"),
        help="the Playground's address (default: $PLAYGROUND_URL or http://localhost:56150)",
    )
    answer.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="NAME=CODES",
        help='say, "Fiona MacLeod=R,AG": rate that many elements and stop, finishing only if '
        "that is all of them (repeatable; others rate everything and finish)",
    )
    answer.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="answer only as this member (repeatable)",
    )
    answer.add_argument(
        "--wait", type=float, default=600, help="seconds to wait for the invitations"
    )
    args = parser.parse_args(argv)
    try:
        return asyncio.run(answer_round(args.url, _parse_ratings(args.rate), args.only, args.wait))
    except aiohttp.ClientError as exc:
        print(f"Cannot reach the Agents Playground at {args.url}: {exc}")
        return 1
    except AssertionError as exc:
        print(exc)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
