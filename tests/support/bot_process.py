"""The bot as a real OS process (`python -m bot`), for tests over HTTP.

    with BotProcess({"REDIS_URL": redis_url}) as bot:        # or `async with`
        status, body = await bot.post(chat.message("hello"))

The process runs from the repository root with LOCAL_MODE=1 on a free PORT; its stdout and stderr
go to temporary files (`logs()`), kept until the `with` block ends so a test can read them after
`stop()` or `kill()`.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from .bot_http import HEALTH_PATH, BotHttp, bot_environment
from .net import LOOPBACK, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT_COMMAND = (sys.executable, "-m", "bot")


class BotProcessError(RuntimeError):
    """The bot did not come up (or not in time); the message carries its stderr."""


class BotProcess(BotHttp):
    def __init__(
        self,
        env: Mapping[str, str | None] | None = None,
        port: int | None = None,
        *,
        command: Sequence[str] = BOT_COMMAND,
        cwd: Path = REPO_ROOT,
        startup_timeout: float = 20,
    ) -> None:
        """`env` is added to os.environ (a None value removes a variable); REDIS_URL only if given.

        `command` defaults to `python -m bot` from the repository root.
        """
        self.port = port or free_port()
        self.extra_env = dict(env or {})
        self.command = list(command)
        self.cwd = cwd
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log_dir = Path(tempfile.mkdtemp(prefix="bot-process-"))

    # -- addresses -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    # -- lifecycle -----------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        return bot_environment(self.port, self.extra_env)

    def start(self) -> BotProcess:
        """Start the process and wait until GET /healthz answers 200."""
        if self.process is not None:
            raise BotProcessError("already started")
        with self._log("stdout").open("wb") as out, self._log("stderr").open("wb") as err:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.returncode() is not None:
                self._fail(f"exited with code {self.returncode()} before answering {HEALTH_PATH}")
            if self.healthy():
                return
            time.sleep(0.1)
        self.kill()
        self._fail(f"{HEALTH_PATH} did not answer 200 within {self.startup_timeout} s")

    def _fail(self, why: str) -> None:
        raise BotProcessError(
            f"bot process {self.command} {why}\n--- stderr ---\n{self.stderr()}"
            f"\n--- stdout ---\n{self.stdout()}"
        )

    def healthy(self, timeout: float = 1.0) -> bool:
        """True if GET /healthz answers 200 now (no proxy, whatever the environment says)."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.url + HEALTH_PATH, timeout=timeout) as response:
                return int(response.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    def returncode(self) -> int | None:
        return self.process.poll() if self.process else None

    def stop(self, timeout: float = 5) -> int | None:
        """SIGTERM, then wait; SIGKILL if it is still running after `timeout` seconds."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        return self.kill()

    def kill(self) -> int | None:
        """SIGKILL at once, as a crash would end it; returns the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait()

    def cleanup(self) -> None:
        """Stop the process and delete its log files."""
        self.stop()
        shutil.rmtree(self._log_dir, ignore_errors=True)

    def __enter__(self) -> BotProcess:
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.cleanup()

    async def __aenter__(self) -> BotProcess:
        """Like `with`, but waits for start-up in a thread so the event loop keeps running."""
        return await asyncio.to_thread(self.__enter__)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.cleanup)

    # -- logs ----------------------------------------------------------------------------------

    def _log(self, stream: str) -> Path:
        return self._log_dir / f"{stream}.log"

    def stdout(self) -> str:
        return self._read(self._log("stdout"))

    def stderr(self) -> str:
        return self._read(self._log("stderr"))

    def logs(self) -> str:
        """Everything the process wrote so far: stdout, then stderr."""
        return f"--- stdout ---\n{self.stdout()}\n--- stderr ---\n{self.stderr()}"

    @staticmethod
    def _read(path: Path) -> str:
        return path.read_text(errors="replace") if path.exists() else ""
