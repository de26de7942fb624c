"""The container files, checked without docker: deploy/docker/Dockerfile, compose.yaml, env.example.

What is checked is what the deployment relies on: the image runs `python -m bot` as a non-root
user on 0.0.0.0 with a health check on /healthz; it is built from pyproject.toml with everything
the package needs in its build context; compose gives the bot a Redis that keeps its data in an
append-only file (deploy/redis.conf) on a named volume; env.example names every setting the bot
reads and, as shipped, is a configuration the bot accepts. The health check script itself is run
against a stand-in /healthz.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings
from tests.deploy.settings_names import variables_the_bot_reads

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "deploy" / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
COMPOSE_FILE = DOCKER / "compose.yaml"
ENV_EXAMPLE = DOCKER / "env.example"
REDIS_CONF = ROOT / "deploy" / "redis.conf"
SECRETS = ("MicrosoftAppPassword", "LINK_SECRET")
COMPOSE_ONLY = {"TRUSTBOARD_PORT"}


# -- the Dockerfile ---------------------------------------------------------------------------


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        word, _, rest = whole.partition(" ")
        found.append((word.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def arg_default(name: str) -> str:
    for word, rest in instructions():
        if word == "ARG" and rest.startswith(f"{name}="):
            return rest.split("=", 1)[1]
    raise AssertionError(f"no ARG {name} with a default")


def test_the_image_is_slim_python_311() -> None:
    froms = [rest for word, rest in instructions() if word == "FROM"]
    assert all(rest.split()[0] in ("${PYTHON_IMAGE}", "$PYTHON_IMAGE") for rest in froms), froms
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", arg_default("PYTHON_IMAGE"))


def test_the_image_runs_as_a_non_root_user() -> None:
    stage = final_stage()
    users = [rest for word, rest in stage if word == "USER"]
    assert users, "the final stage never leaves root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users
    words = [word for word, _ in stage]
    assert words.index("CMD") > max(i for i, w in enumerate(words) if w == "USER")


def test_the_image_runs_the_bot_on_all_interfaces() -> None:
    stage = final_stage()
    cmd = [json.loads(rest) for word, rest in stage if word == "CMD"]
    assert cmd == [["python", "-m", "bot"]]
    env = " ".join(rest for word, rest in stage if word == "ENV")
    assert re.search(r"\bHOST=0\.0\.0\.0\b", env)
    assert re.search(r"\bPORT=3978\b", env)
    assert ("EXPOSE", "3978") in stage


def test_the_image_has_a_health_check_on_healthz() -> None:
    checks = [rest for word, rest in final_stage() if word == "HEALTHCHECK"]
    assert len(checks) == 1
    command = json.loads(checks[0][checks[0].index("CMD") + len("CMD") :].strip())
    assert command[0] == "python"
    script = command[1]
    copies = [shlex.split(rest) for word, rest in final_stage() if word == "COPY"]
    sources = {parts[-1]: parts[-2] for parts in copies}
    assert script in sources, "the health check script is not copied into the image"
    assert "/healthz" in (ROOT / sources[script]).read_text()


def test_the_project_is_installed_with_pip_from_pyproject() -> None:
    steps = instructions()
    runs = " ".join(rest for word, rest in steps if word == "RUN")
    assert re.search(r"pip install \.(\s|$)", runs), "install the project itself, from pyproject"
    assert "-e " not in runs, "an editable install would need the sources at run time"
    copied = context_sources()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", project["project"]["readme"]}
    needed |= {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert needed <= copied, f"the build stage lacks {needed - copied}"


def context_sources() -> set[str]:
    """What the COPY instructions take from the build context (not from another stage)."""
    return {
        src
        for word, rest in instructions()
        if word == "COPY" and "--from" not in rest
        for src in shlex.split(rest)[:-1]
    }


def test_the_build_context_lets_through_exactly_what_is_copied() -> None:
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "start from nothing, so no secret or virtualenv is sent"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    sources = context_sources()
    assert sources <= allowed, f"COPY sources the context leaves out: {sources - allowed}"
    assert ".env" not in " ".join(allowed)


# -- the health check script ------------------------------------------------------------------


class _Healthz(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        body = json.dumps({"status": "ok" if self.status == 200 else "unavailable"}).encode()
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def healthz() -> Iterator[tuple[int, type[_Healthz]]]:
    handler = type("Handler", (_Healthz,), {"status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def run_healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DOCKER / "healthcheck.py")],
        env={"PATH": os.environ.get("PATH", ""), "PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_health_check_passes_only_on_a_200(healthz: tuple[int, type[_Healthz]]) -> None:
    port, handler = healthz
    ok = run_healthcheck(port)
    assert ok.returncode == 0 and ok.stdout.startswith("200"), ok.stdout
    handler.status = 503  # the store is unreachable
    down = run_healthcheck(port)
    assert down.returncode == 1 and down.stdout.startswith("503"), down.stdout


def test_the_health_check_fails_when_nothing_answers() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, now closed again
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_healthcheck(port)
    assert result.returncode == 1
    assert "no answer" in result.stdout


# -- compose ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def redis_conf() -> dict[str, str]:
    settings = {}
    for line in REDIS_CONF.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.strip().partition(" ")
            settings[key.lower()] = value.strip()
    return settings


def mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """Target path -> source, from the short volume syntax."""
    found = {}
    for entry in service.get("volumes", []):
        source, target = entry.split(":")[:2]
        found[target] = source
    return found


def test_redis_keeps_an_append_only_file_on_a_named_volume(compose: dict[str, Any]) -> None:
    assert redis_conf()["appendonly"] == "yes"
    assert redis_conf()["maxmemory-policy"] == "noeviction"
    redis = compose["services"]["redis"]
    volumes = mounts(redis)
    conf_target = next(t for t, s in volumes.items() if s.endswith("redis.conf"))
    assert (COMPOSE_FILE.parent / volumes[conf_target]).resolve() == REDIS_CONF
    command = redis["command"]
    assert command[:2] == ["redis-server", conf_target], "start from deploy/redis.conf"
    assert "--appendonly" not in command and "--save" not in command, "do not override it"
    data_dir = command[command.index("--dir") + 1]
    assert volumes[data_dir] in compose["volumes"], "the data directory must be a named volume"
    assert "ports" not in redis, "Redis is reached only by the bot, on the compose network"


def test_the_bot_uses_that_redis_and_its_env_file(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    assert bot["env_file"] == ".env"
    assert bot["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert bot["environment"]["HOST"] == "0.0.0.0"
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    context = (COMPOSE_FILE.parent / bot["build"]["context"]).resolve()
    assert context == ROOT
    assert (context / bot["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])


# -- env.example ------------------------------------------------------------------------------


def env_example() -> tuple[dict[str, str], set[str]]:
    """(the variables set as shipped, every variable named, set or commented out)."""
    active, named = {}, set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line.strip())
        if match:
            named.add(match.group(2))
            if not match.group(1):
                active[match.group(2)] = match.group(3)
    return active, named


def test_env_example_names_every_variable_the_bot_reads() -> None:
    _, named = env_example()
    read = variables_the_bot_reads()
    assert {"MicrosoftAppId", "REDIS_URL", "HOST", "LOG_LEVEL"} <= read  # the scan works
    missing = sorted(read - named)
    assert missing == [], f"add these to deploy/docker/env.example: {missing}"


def test_env_example_as_shipped_is_a_configuration_the_bot_accepts() -> None:
    active, _ = env_example()
    for secret in SECRETS:
        assert active.get(secret, "") == "", f"{secret} must be empty in the example"
    environment = {k: v for k, v in active.items() if k not in COMPOSE_ONLY}
    environment["REDIS_URL"] = "redis://redis:6379/0"  # as compose.yaml sets it
    settings = Settings.from_env(environment)
    assert settings.local_mode and not settings.authenticated
    assert isinstance(logging.getLevelName(environment["LOG_LEVEL"].upper()), int)


def test_pip_in_the_build_can_be_given_a_ca_bundle_that_stays_out_of_the_image() -> None:
    """Behind a proxy that intercepts HTTPS, pip trusts PyPI only through the proxy's CA, which
    python:3.11-slim's certifi and system store do not hold: it comes in as a build secret,
    mounted for the one step, never as an ARG, ENV or COPY that would keep it in the image."""
    steps = instructions()
    [install] = [rest for word, rest in steps if word == "RUN" and "pip install" in rest]
    mounts = re.findall(r"--mount=(\S+)", install)
    assert "type=secret,id=ca_bundle" in mounts, mounts
    assert "PIP_CERT=/run/secrets/ca_bundle" in install
    assert "[ -s /run/secrets/ca_bundle ]" in install, "a build without the secret still works"
    kept = [rest for word, rest in steps if word in ("ARG", "ENV", "COPY", "ADD")]
    assert not [rest for rest in kept if re.search(r"ca_bundle|cert", rest, re.I)], kept
