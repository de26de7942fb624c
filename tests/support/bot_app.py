"""The bot served in the test's own event loop: the in-process harness for tests over HTTP.

`BotApp` builds the app `python -m bot` builds (`bot.app.create_app`, with `Settings` read from
the same environment a `BotProcess` is given) and serves it with `aiohttp.test_utils.TestServer`
on 127.0.0.1, in the running event loop. It answers the same calls as `BotProcess` (`post`,
`post_raw`, `get`, `url`; see tests/support/bot_http.py), so a `TeamsClient` or a test takes
either. Starting and stopping one costs milliseconds, not a new interpreter:

    async with BotApp({"REDIS_URL": redis_url}) as bot:
        status, body = await bot.post(chat.message("hello"))

What runs is the whole bot: request checks, the Bot Framework adapter, the turn, the store on the
given Redis (or the embedded store without REDIS_URL), replies posted over HTTP to the activity's
serviceUrl (a `FakeConnector` from tests/support/fake_connector.py, served in the same loop), the
delivery workers and the agenda loop (bot/background.py). `teams=`, `sender=` and `timing=` are
`create_app`'s seams, for a test that wants a recording fake there instead.

Logs: records the bot writes while it runs are kept, formatted as the process would write them
(LOG_FORMAT, LOG_LEVEL, the same quietened third-party loggers), and read with `logs()`
(`stdout()` is empty, `stderr()` is the same as `logs()`, as a process writes its logs there).

Fixtures (tests/conftest.py): `bot_app` starts one per test on the throwaway redis-server
(emptied first), `bot_app_with(env, **seams)` as many as a test wants, with more settings; all
are stopped after the test. Two BotApps on one Redis stand for two processes: they share nothing
but Redis. Use a `BotProcess` only where the process itself must die or restart, or where
`python -m bot`'s own start-up is what is tested. For the board desk alone, without HTTP, see
tests/support/desk_fakes.py.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from bot import logs
from bot.__main__ import QUIET_LOGGERS
from bot.app import BACKGROUND, create_app
from bot.config import Settings
from bot.delivery import Sender, Timing
from bot.delivery.queue import SHARDS
from dialogs import clock
from dialogs.boards.ports import Teams

from .bot_http import BotHttp, bot_environment, decode
from .net import LOOPBACK

# What the `bot_app_with` fixture gives: `await start(env, **seams)` starts a BotApp.
StartBot = Callable[..., Awaitable["BotApp"]]


async def _end_blocking_reads_on_a_cluster(url: str) -> None:
    """The same, on every master of a cluster (the stream lives on one of them)."""
    cluster = RedisCluster.from_url(url, decode_responses=True)
    try:
        await cluster.initialize()
        for node in cluster.get_primaries():
            for entry in await cluster.client_list(_type="normal", target_nodes=node):
                if entry.get("cmd") == "xreadgroup" and "b" in entry.get("flags", ""):
                    await cluster.client_unblock(int(entry["id"]), target_nodes=node)
    except (RedisError, RedisClusterException, OSError):
        pass  # a node is down (a test killed it): its reads end with it
    finally:
        await cluster.aclose()


class _Kept(logging.Handler):
    def __init__(self, level: int, formatter: logging.Formatter) -> None:
        super().__init__(level)
        self.setFormatter(formatter)
        self.addFilter(logs.WithholdExceptions())  # as bot/logs.py's handler does
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


class BotApp(BotHttp):
    def __init__(
        self,
        env: Mapping[str, str | None] | None = None,
        *,
        teams: Teams | None = None,
        sender: Sender | None = None,
        timing: Timing | None = None,
    ) -> None:
        """`env` as for `BotProcess`: added to our environment; REDIS_URL only if given."""
        # Bound now, not merely found free: the settings need the port (download links name it)
        # before the server starts, and a port found free can be taken meanwhile (by the fake
        # connector, say, which then receives the bot's requests).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((LOOPBACK, 0))
        self.port = int(self._socket.getsockname()[1])
        self.extra_env = dict(env or {})
        self.env = bot_environment(self.port, self.extra_env)
        self.settings = Settings.from_env(self.env)
        # The desk sets the process's time zone (dialogs/clock.py) from ROUND_TIMEZONE; it is put
        # back on stop, so the next test has the default. Two bots at once share one zone.
        self._zone_before = clock.zone().key
        self.app: web.Application = create_app(
            self.settings, teams=teams, sender=sender, timing=timing
        )
        self.server: TestServer | None = None
        self.client: TestClient[web.Request, web.Application] | None = None
        self._kept = _Kept(*_log_style(self.env))
        self._levels: dict[str, int] = {}

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> BotApp:
        self._keep_logs()
        self.server = _Server(self.app, host=LOOPBACK, socket_factory=lambda *_: self._socket)
        # skip_auto_headers keeps aiohttp from inventing a Content-Type when the test sends none.
        self.client = TestClient(self.server, skip_auto_headers={"Content-Type"})
        try:
            await self.client.start_server()
            await self._wait_for_the_delivery_queue()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _wait_for_the_delivery_queue(self, timeout: float = 10) -> None:
        """Wait until the delivery workers have made the queue's streams (and their consumer
        group), as they do first thing. A test that reads Redis before its first step, to show
        the step changed nothing, would otherwise race them on a busy machine and find a stream
        more afterwards."""
        background = self.app[BACKGROUND]
        if not background.workers:
            return  # a web-only bot makes no streams
        outbox = background.outbox
        streams = [outbox.keys.job_stream(shard) for shard in SHARDS]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                # One key at a time: on a cluster the shards' streams lie in different slots.
                if all([await outbox.redis.exists(stream) for stream in streams]):
                    return
            except (RedisError, RedisClusterException, OSError):
                return  # Redis is down (what the test is about): nothing is made till it is back
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop as SIGTERM stops the process: the app's clean-up (background work drained)."""
        client, self.client = self.client, None
        try:
            if client is not None:
                # Closing the client closes the server too, which runs the app's clean-up.
                closing = asyncio.create_task(client.close())
                while not closing.done():
                    await self._end_blocking_reads()
                    await asyncio.wait([closing], timeout=0.05)
                await closing
        finally:
            clock.use_zone(self._zone_before)
            self._socket.close()
            self._release_logs()

    async def _end_blocking_reads(self) -> None:
        """A stopping delivery worker finishes its blocking read (up to Timing.block, a second)
        before it ends; end that read now, as its timeout would, so a test does not wait it out.
        Only real Redis reads block for long (the embedded store's end at once)."""
        if not self.settings.redis_url:
            return
        if self.settings.redis_cluster:
            await _end_blocking_reads_on_a_cluster(self.settings.redis_url)
            return
        redis = Redis.from_url(self.settings.redis_url, decode_responses=True)
        try:
            for entry in await redis.client_list(_type="normal"):
                if entry.get("cmd") == "xreadgroup" and "b" in entry.get("flags", ""):
                    await redis.client_unblock(int(entry["id"]))
        except (RedisError, OSError):
            pass  # the server is down (a test stopped it): there is no read to end
        finally:
            await redis.aclose()

    async def __aenter__(self) -> BotApp:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- logs ----------------------------------------------------------------------------------

    def _keep_logs(self) -> None:
        root = logging.getLogger()
        self._levels = {"": root.level}
        root.addHandler(self._kept)
        root.setLevel(min(root.level or logging.WARNING, self._kept.level))
        for name in QUIET_LOGGERS:
            self._levels[name] = logging.getLogger(name).level
            logging.getLogger(name).setLevel(logging.WARNING)

    def _release_logs(self) -> None:
        logging.getLogger().removeHandler(self._kept)
        for name, level in self._levels.items():
            logging.getLogger(name or None).setLevel(level)
        self._levels = {}

    def logs(self) -> str:
        return "\n".join(self._kept.lines)

    def stderr(self) -> str:
        return self.logs()

    def stdout(self) -> str:
        return ""

    # -- HTTP ----------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, Any]:
        assert self.client is not None, "the bot app is not started"
        limit = aiohttp.ClientTimeout(total=timeout)
        async with self.client.request(
            method, path, data=data, headers=headers, timeout=limit
        ) as response:
            return response.status, decode(await response.read())


class _Server(TestServer):
    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        # As web.run_app serves it: a request whose client goes away is not cancelled halfway.
        kwargs["handler_cancellation"] = False
        return await super()._make_runner(**kwargs)


def _log_style(env: Mapping[str, str]) -> tuple[int, logging.Formatter]:
    level = env.get("LOG_LEVEL", "").strip().upper() or "INFO"
    style = env.get("LOG_FORMAT", "").strip().lower() or "json"
    return logging.getLevelNamesMapping()[level], logs.formatter(style)
