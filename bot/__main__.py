"""`python -m bot`: start trustboard, configured from the environment alone."""

from __future__ import annotations

import logging
import os
import sys

from aiohttp import web

from frameworks import FrameworkError, load_all

from . import logs
from .app import create_app
from .config import ConfigError, Settings

log = logging.getLogger("trustboard")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
QUIET_LOGGERS = ("msrest", "urllib3", "requests_oauthlib", "botframework", "botbuilder", "aiohttp")


def describe(settings: Settings, host: str) -> list[str]:
    where = f"http://{'localhost' if host == '127.0.0.1' else host}:{settings.port}/api/messages"
    auth = (
        "Bot Framework authentication ON"
        if settings.authenticated
        else "LOCAL_MODE: Bot Framework authentication is OFF (unsigned requests accepted); "
        "for a developer's machine only"
    )
    store = (
        ("store: Redis Cluster (REDIS_CLUSTER=1)" if settings.redis_cluster else "store: Redis")
        if settings.redis_url
        else "store: embedded in-process Redis emulation; answers are lost when the bot stops "
        "(set REDIS_URL to keep them)"
    )
    return [f"trustboard listening on {where}", auth, store]


def main() -> int:
    level = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
    style = os.environ.get("LOG_FORMAT", "").strip().lower() or "json"
    if level not in LEVELS or style not in logs.FORMATS:
        print(
            f"Cannot start trustboard:\n- LOG_LEVEL must be one of {', '.join(LEVELS)}, and "
            f"LOG_FORMAT one of {', '.join(logs.FORMATS)}.",
            file=sys.stderr,
        )
        return 2
    logs.configure(level, style)
    # Their debug logs print request bodies, and a card sent to a chair quotes evidence: keep
    # them quiet whatever LOG_LEVEL says.
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
        frameworks = load_all()
        app = create_app(settings, frameworks)
    except (ConfigError, FrameworkError) as exc:
        print(exc, file=sys.stderr)
        return 2
    # Unauthenticated, the bot only listens on this machine unless told otherwise.
    host = os.environ.get("HOST") or ("0.0.0.0" if settings.authenticated else "127.0.0.1")

    async def started(_: web.Application) -> None:
        # Once the start-up checks passed (bot/store_mode.py): then it is true.
        for line in describe(settings, host):
            log.info(line)
        log.info(
            "frameworks: %s",
            ", ".join(f"{f.id} ({len(f.elements)} elements)" for f in frameworks.values()),
        )

    app.on_startup.append(started)
    try:
        web.run_app(app, host=host, port=settings.port, print=None, access_log=None)
    except ConfigError as exc:  # found as it started: the store is not what the settings say
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
