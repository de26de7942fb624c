"""The Dockerfile's steps, rehearsed on this machine where no Docker engine runs.

Each instruction of deploy/docker/Dockerfile is carried out in a scratch directory that stands
in for the image's filesystem: COPY takes the same files from the repository, RUN runs the same
command (the image's paths moved under the scratch directory, its `python` played by Debian's
python3.11, as in the python:3.11-slim base), ENV, WORKDIR and USER are honoured, and then the
CMD starts the bot and the HEALTHCHECK's command must pass. What this cannot show is the base
image itself; what it does show is that the recipe works: the project installs from its build
context, the package carries its frameworks and templates, and the bot starts and answers its
health check as user 10001 from a directory it cannot write to.

An instruction the rehearsal does not know fails the test, so the Dockerfile cannot grow a step
that nothing checks. Skipped unless run as root (to be user 10001) with Debian's python3.11.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.test_container import DOCKERFILE, ROOT, instructions

STAND_IN = Path("/usr/bin/python3.11")
# Where the image keeps things, and where a build secret would be mounted: moved under the
# scratch root.
IMAGE_PATHS = ("/opt/", "/src", "/run/secrets/")

pytestmark = [
    pytest.mark.image,
    pytest.mark.skipif(os.geteuid() != 0, reason="becoming user 10001 needs root"),
    pytest.mark.skipif(not STAND_IN.exists(), reason="Debian's python3.11 is not installed"),
]


@dataclass
class Image:
    """The scratch filesystem and what the instructions so far have set."""

    root: Path
    workdir: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    user: tuple[int, int] | None = None
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)

    def path(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")

    def moved(self, text: str) -> str:
        """A command with the image's absolute paths moved under the scratch root."""
        for prefix in IMAGE_PATHS:
            text = text.replace(prefix, f"{self.root}{prefix}")
        return text

    def environment(self) -> dict[str, str]:
        # The image's PATH, moved, then where the stand-in `python` lives.
        path = self.moved(self.env.get("PATH", "/usr/bin")).replace("$PATH", "/usr/bin:/bin")
        shim = self.root / ".python-shim"
        return {**self.env, "PATH": f"{path}:{shim}:/usr/bin:/bin", "HOME": "/nonexistent"}


def carry_out(image: Image, word: str, rest: str) -> None:
    if word == "FROM":
        # A new stage starts from the base image again: none of the last stage's settings.
        image.workdir, image.env, image.user = "/", {}, None
    elif word in ("ARG", "EXPOSE"):
        return  # ARGs only choose the base image; EXPOSE is documentation
    elif word == "WORKDIR":
        image.workdir = rest
        image.path(rest).mkdir(parents=True, exist_ok=True)
    elif word == "ENV":
        image.env.update(dict(pair.split("=", 1) for pair in shlex.split(rest)))
    elif word == "COPY":
        copy(image, rest)
    elif word == "RUN":
        run(image, rest)
    elif word == "USER":
        uid, _, gid = rest.partition(":")
        image.user = (int(uid), int(gid or uid))
    elif word == "CMD":
        image.cmd = json.loads(rest)
    elif word == "HEALTHCHECK":
        image.healthcheck = json.loads(rest.split(" CMD ", 1)[1])
    else:
        raise AssertionError(f"the rehearsal does not know {word} {rest}: teach it")


def copy(image: Image, rest: str) -> None:
    words = shlex.split(rest)
    from_stage = any(w.startswith("--from=") for w in words)
    *sources, target = [w for w in words if not w.startswith("--")]
    if from_stage:
        # Both stages share the scratch root: what the build stage made is already there.
        assert all(image.path(s).exists() for s in sources), sources
        return
    base = image.path(target if target.startswith("/") else f"{image.workdir}/{target}")
    for source in sources:
        found = ROOT / source
        destination = base / found.name if target.endswith("/") or len(sources) > 1 else base
        destination.parent.mkdir(parents=True, exist_ok=True)
        if found.is_dir():
            shutil.copytree(found, destination, dirs_exist_ok=True)
        else:
            shutil.copy2(found, destination)


def without_mounts(command: str) -> str:
    """A RUN's command without its --mount options. A secret mount is rehearsed as a build that
    was not given the secret (nothing at /run/secrets); scripts/image-check builds with one."""
    while command.startswith("--mount="):
        option, _, command = command.partition(" ")
        kind = dict(part.split("=", 1) for part in option[len("--mount=") :].split(","))
        assert kind.get("type") == "secret", f"the rehearsal does not know RUN {option}: teach it"
        command = command.lstrip()
    return command


def run(image: Image, command: str) -> None:
    command = without_mounts(command)
    if command.startswith(("groupadd", "useradd")):
        return  # the user exists by number only here; USER gives the same uid and gid
    done = subprocess.run(
        ["/bin/sh", "-c", image.moved(command)],
        cwd=image.path(image.workdir),
        env=image.environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"RUN {command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def image() -> Iterator[Image]:
    root = Path(tempfile.mkdtemp(prefix="trustboard-image-"))
    root.chmod(0o755)  # user 10001 must reach the installed bot
    shim = root / ".python-shim"
    shim.mkdir()
    (shim / "python").symlink_to(STAND_IN)
    built = Image(root)
    try:
        for word, rest in instructions(DOCKERFILE):
            carry_out(built, word, rest)
        yield built
    finally:
        shutil.rmtree(root, ignore_errors=True)


def as_image_user(image: Image, argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Popen's arguments to run `argv` as the image would: its user, directory and paths."""
    uid, gid = image.user or (0, 0)
    return {
        "args": [image.moved(a) for a in argv],
        "cwd": image.path(image.workdir),
        "env": env,
        "user": uid,
        "group": gid,
        "extra_groups": [],
    }


def test_the_image_runs_as_user_10001_from_a_directory_it_cannot_write(image: Image) -> None:
    assert image.user == (10001, 10001)
    home = image.path(image.workdir)
    assert home.stat().st_uid == 0 and not home.stat().st_mode & 0o002
    assert image.cmd == ["python", "-m", "bot"]


def test_the_bot_starts_from_the_image_and_passes_its_health_check(image: Image) -> None:
    port = free_port()
    env = {**image.environment(), "PORT": str(port), "LOCAL_MODE": "1"}
    started = as_image_user(image, image.cmd, env)
    bot = subprocess.Popen(**started, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        health = wait_for_health(port, bot)
        assert (health["status"], health["store"]) == ("ok", "embedded")
        assert {loop["loop"]: loop["running"] for loop in health["loops"]}["agenda"] is True
        healthcheck = as_image_user(image, image.healthcheck, env)
        check = subprocess.run(**healthcheck, capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
    finally:
        bot.terminate()
        output = bot.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output[-3000:]


def test_the_health_check_fails_once_the_bot_has_stopped(image: Image) -> None:
    env = {**image.environment(), "PORT": str(free_port())}
    healthcheck = as_image_user(image, image.healthcheck, env)
    check = subprocess.run(**healthcheck, capture_output=True, text=True, timeout=30)
    assert check.returncode == 1


def wait_for_health(port: int, bot: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if bot.poll() is not None:
            out = bot.stdout.read().decode(errors="replace") if bot.stdout else ""
            raise AssertionError(f"the bot stopped ({bot.returncode}):\n{out[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                return json.loads(answer.read())
        except OSError:
            time.sleep(0.3)
    raise AssertionError("no /healthz within 60 s")
