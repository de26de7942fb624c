"""A throwaway `redis-server` of our own, for the tests.

It never touches a Redis someone else runs (such as the one on 6379): it listens on a free port on
127.0.0.1 only, keeps nothing on disk, and lives in a temporary directory of its own.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

from .net import LOOPBACK, free_port

# The deployment's settings (deploy/redis.conf); the command line below overrides port, directory
# and persistence for a throwaway server.
DEPLOY_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "redis.conf"

INSTALL_HINT = (
    "redis-server was not found on PATH. The tests start a throwaway Redis of their own; "
    "install the server with `apt-get install redis-server` (Debian/Ubuntu) and run them again."
)


class RedisServerError(RuntimeError):
    """The throwaway server could not be started."""


def find_redis_server() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerError(INSTALL_HINT)
    return binary


def answers_ping(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True once a Redis on host:port answers PING (a raw RESP round trip, no client library)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """`with RedisServer(tmp_dir) as server: server.url` – started on entry, stopped on exit."""

    def __init__(
        self,
        directory: Path,
        binary: str | None = None,
        *,
        appendonly: bool = False,
        extra: Sequence[str] = (),
    ) -> None:
        self.directory = directory
        self.binary = binary
        self.appendonly = appendonly  # keep data across stop() and restart(), as deployed
        self.extra = tuple(extra)  # more settings, after the deployment's (a cluster node's)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / "redis-server.log"

    def command(self) -> list[str]:
        binary = self.binary or find_redis_server()
        return [
            binary,
            str(DEPLOY_CONFIG),
            *("--port", str(self.port)),
            *("--bind", LOOPBACK),
            *("--save", ""),
            *("--appendonly", "yes" if self.appendonly else "no"),
            *("--dir", str(self.directory)),
            *("--daemonize", "no"),
            *("--logfile", ""),
            *self.extra,
        ]

    def start(self, timeout: float = 10.0, attempts: int = 3) -> None:
        """Start the server and wait until it answers PING; retry if the port was taken."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):
            self.port = self.pick_port()
            if self._start_once(timeout):
                return
        raise RedisServerError(f"redis-server did not start:\n{self.log()}")

    def pick_port(self) -> int:
        return free_port()

    def ready(self) -> bool:
        return answers_ping(self.port)

    def restart(self, timeout: float = 10.0) -> None:
        """Start again after stop(), on the same port, so clients find it at the same URL."""
        if not self._start_once(timeout):
            raise RedisServerError(f"redis-server did not restart:\n{self.log()}")

    def _start_once(self, timeout: float) -> bool:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # exited, most likely "Address already in use": try another port
            if self.ready():
                return True
            time.sleep(0.05)
        self.stop()
        raise RedisServerError(f"redis-server did not answer PING in {timeout} s:\n{self.log()}")

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """SIGSTOP until the block ends (then SIGCONT): there, but answering nobody, as a node
        on a stalled machine."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
