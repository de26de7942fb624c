"""Configuration from the environment alone, checked before anything starts."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from redis.connection import URL_QUERY_ARGUMENT_PARSERS, parse_url

from dialogs.payloads import whole_number
from dialogs.store.connect import MAX_CONNECTIONS

from .delivery.pacing import Pace

# Entra authorities that are no tenant of their own: a single-tenant app cannot get tokens there.
SHARED_AUTHORITIES = {"common", "organizations", "consumers", "botframework.com"}
APP_TYPES = {
    "multitenant": "MultiTenant",
    "singletenant": "SingleTenant",
    "userassignedmsi": "UserAssignedMSI",
}

MAX_REMINDER_HOURS = 8760
# What a rediss:// URL may also carry: the TLS settings of redis-py's SSLConnection.
SSL_PARAMETERS = frozenset(
    {"ssl_cert_reqs", "ssl_ca_certs", "ssl_ca_path", "ssl_certfile", "ssl_keyfile", "ssl_password"}
)


class ConfigError(ValueError):
    """The environment does not describe a bot that can start safely."""


@dataclass(frozen=True)
class Settings:
    port: int = 3978
    redis_url: str | None = None
    redis_cluster: bool = False  # REDIS_URL names one node of a Redis Cluster
    redis_wait_replicas: int = 0  # each scripted write waits for so many replicas (0: none)
    redis_max_connections: int = MAX_CONNECTIONS  # this process's, to Redis (a cluster: per node)
    app_id: str = ""
    app_password: str = ""
    app_type: str = "MultiTenant"
    tenant_id: str = ""
    local_mode: bool = False
    card_actions: str = "execute"  # or "submit", for hosts without universal actions
    key_prefix: str = "tb"
    delivery_workers: int = 1  # 0: this process sends nothing (a web-only process)
    delivery_per_tenant: int = Pace.per_tenant  # requests a window per app per tenant
    delivery_per_conversation: int = Pace.per_conversation  # posts a window into one chat
    delivery_window_ms: int = round(Pace.window * 1000)  # the window (see Pace)
    round_reminder_hours: float = 48.0  # the automatic reminder, this long before a deadline
    round_timezone: str = "Europe/London"  # deadlines are set and shown in this zone
    delivery_attempt_timeout: float = 40.0  # seconds one send (create chat + post) may take
    delivery_claim_idle: float = 60.0  # seconds before a dead process's sends are taken over
    round_retention_days: int = 730  # closed rounds are deleted this long after; 0: kept
    board_detached_retention_days: int = 30  # a board the bot was removed from, deleted after
    public_url: str = ""  # where people reach the bot's own pages (download links)
    link_secret: str = ""  # signs download links; empty: one is made and kept in Redis

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        problems: list[str] = []
        settings = cls(
            port=_port(env.get("PORT", "3978"), problems),
            redis_url=_redis_url(env.get("REDIS_URL", ""), problems),
            redis_cluster=_flag(env, "REDIS_CLUSTER", problems),
            redis_wait_replicas=_whole(env, "REDIS_WAIT_REPLICAS", 0, 0, problems),
            redis_max_connections=_whole(
                env, "REDIS_MAX_CONNECTIONS", MAX_CONNECTIONS, 1, problems
            ),
            app_id=env.get("MicrosoftAppId", "").strip(),
            app_password=env.get("MicrosoftAppPassword", ""),
            app_type=_app_type(env.get("MicrosoftAppType", ""), problems),
            tenant_id=env.get("MicrosoftAppTenantId", "").strip(),
            local_mode=env.get("LOCAL_MODE", "").strip().lower() in ("1", "true", "yes"),
            card_actions=env.get("CARD_ACTIONS", "execute").strip().lower() or "execute",
            key_prefix=env.get("REDIS_KEY_PREFIX", "tb").strip() or "tb",
            delivery_workers=_whole(env, "DELIVERY_WORKERS", 1, 0, problems),
            delivery_per_tenant=_whole(env, "DELIVERY_PER_TENANT", Pace.per_tenant, 1, problems),
            delivery_per_conversation=_whole(
                env, "DELIVERY_PER_CONVERSATION", Pace.per_conversation, 1, problems
            ),
            delivery_window_ms=_whole(
                env, "DELIVERY_WINDOW_MS", round(Pace.window * 1000), 1, problems
            ),
            round_reminder_hours=_hours(env.get("ROUND_REMINDER_HOURS", ""), problems),
            round_timezone=_timezone(env.get("ROUND_TIMEZONE", ""), problems),
            delivery_attempt_timeout=_seconds(env, "DELIVERY_ATTEMPT_TIMEOUT", 40.0, problems),
            delivery_claim_idle=_seconds(env, "DELIVERY_CLAIM_IDLE", 60.0, problems),
            round_retention_days=_whole(env, "ROUND_RETENTION_DAYS", 730, 0, problems),
            board_detached_retention_days=_whole(
                env, "BOARD_DETACHED_RETENTION_DAYS", 30, 1, problems
            ),
            public_url=env.get("PUBLIC_URL", "").strip().rstrip("/"),
            link_secret=env.get("LINK_SECRET", ""),
        )
        problems += settings._problems()
        if problems:
            raise ConfigError("Cannot start trustboard:\n" + "\n".join(f"- {p}" for p in problems))
        return settings

    def pace(self) -> Pace:
        """The delivery workers' limits, shared through Redis by every process."""
        return Pace(
            per_tenant=self.delivery_per_tenant,
            per_conversation=self.delivery_per_conversation,
            window=self.delivery_window_ms / 1000,
        )

    def _problems(self) -> list[str]:
        problems = []
        if not self.app_id and not self.local_mode:
            problems.append(
                "MicrosoftAppId is not set. To run on your own machine without Bot "
                "Framework authentication, set LOCAL_MODE=1."
            )
        if self.app_id and self.local_mode:
            problems.append(
                "LOCAL_MODE=1 turns authentication off, but MicrosoftAppId is set: "
                "unset one of them."
            )
        if self.app_id and self.app_type != "UserAssignedMSI" and not self.app_password:
            problems.append(f"MicrosoftAppPassword is required for a {self.app_type} app.")
        if (
            self.app_type in ("SingleTenant", "UserAssignedMSI")
            and self.app_id
            and not self.tenant_id
        ):
            problems.append(f"MicrosoftAppTenantId is required for a {self.app_type} app.")
        if self.app_type == "SingleTenant" and self.tenant_id.lower() in SHARED_AUTHORITIES:
            # A single-tenant bot gets its tokens from its own tenant, whichever tenant a
            # message comes from: a shared authority gets it none (see docs/deploy.md).
            problems.append(
                "MicrosoftAppTenantId must be the app registration's own tenant (its id), not "
                f"{self.tenant_id!r}: the bot gets its tokens there for every tenant it serves."
            )
        if self.app_id and not self.redis_url:
            problems.append(
                "REDIS_URL is required with MicrosoftAppId: the embedded store keeps "
                "nothing when the process stops."
            )
        problems += self._cluster_problems()
        if self.public_url and not self.public_url.startswith(("https://", "http://")):
            problems.append("PUBLIC_URL must start with https:// (or http:// for a local run).")
        if self.link_secret and len(self.link_secret) < 32:
            problems.append("LINK_SECRET must be at least 32 characters (or unset it).")
        if self.card_actions not in ("execute", "submit"):
            problems.append("CARD_ACTIONS must be execute or submit.")
        return problems

    def _cluster_problems(self) -> list[str]:
        if self.redis_wait_replicas and not self.redis_url:
            return ["REDIS_WAIT_REPLICAS needs REDIS_URL: the embedded store has no replicas."]
        if not self.redis_cluster:
            return []
        if not self.redis_url:
            return ["REDIS_CLUSTER=1 needs REDIS_URL naming one node of the cluster."]
        if self.redis_url.startswith("unix:"):
            return [
                "REDIS_CLUSTER=1: a Redis Cluster is reached over TCP, so REDIS_URL must "
                "start with redis:// or rediss://."
            ]
        parts = urlsplit(self.redis_url)
        database = parts.path.strip("/") or parse_qs(parts.query).get("db", ["0"])[0]
        if database != "0":
            return [
                "REDIS_CLUSTER=1: a Redis Cluster has only database 0, so REDIS_URL must "
                "end with /0 or no database at all."
            ]
        return []


def _flag(env: Mapping[str, str], name: str, problems: list[str]) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value not in ("", "0", "false", "no"):
        problems.append(f"{name} must be 1 (on) or 0 (off), not {env[name]!r}.")
    return False


def _redis_url(value: str, problems: list[str]) -> str | None:
    """A URL redis-py can connect with, or a problem saying which part is wrong (never the URL
    itself, which may hold a password)."""
    url = value.strip()
    if not url:
        return None
    found = _redis_url_problem(url)
    if found:
        problems.append(f"REDIS_URL {found}")
    return url


def _redis_url_problem(url: str) -> str:
    scheme = url.split("://", 1)[0] if "://" in url else ""  # lower case, as redis-py wants
    if scheme not in ("redis", "rediss", "unix"):
        return "must start with redis://, rediss:// or unix://."
    parts = urlsplit(url)
    if scheme == "unix":
        if not parts.path:
            return "must name the socket's path, as in unix:///run/redis/redis.sock."
    else:
        host = parts.netloc.rpartition("@")[2]
        if "," in host:
            return (
                "names more than one host; give one (for a Redis Cluster, any one of its nodes "
                "and REDIS_CLUSTER=1: the bot finds the others; Sentinel is not supported)."
            )
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0 or (port is None and host.endswith(":")):
            return "has a port that is not a number from 1 to 65535."
        database = parts.path.strip("/")
        if database and not (database.isascii() and database.isdigit()):
            return "must end with a database number (such as /0), if anything."
    found = _query_problem(scheme, parts.query)
    if not found:
        try:
            parse_url(url)  # whatever else redis-py itself would refuse
        except ValueError:
            found = "is not a URL redis-py can read."
    return found


def _query_problem(scheme: str, query: str) -> str:
    known = set(URL_QUERY_ARGUMENT_PARSERS) | (SSL_PARAMETERS if scheme == "rediss" else set())
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if name not in known:
            return f"has a parameter redis-py does not know: {name!r}."
        parser = URL_QUERY_ARGUMENT_PARSERS.get(name)
        try:
            if callable(parser):  # redis-py's table of parsers is typed dict[str, object]
                parser(values[0])
        except (TypeError, ValueError):
            return f"has a value for {name!r} that redis-py cannot read."
    return ""


def _port(value: str, problems: list[str]) -> int:
    try:
        return whole_number(value, 1, 65535)
    except ValueError:
        pass
    problems.append(f"PORT must be a number from 1 to 65535, not {value!r}.")
    return 0


def _whole(
    env: Mapping[str, str], name: str, default: int, minimum: int, problems: list[str]
) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return whole_number(value, minimum, sys.maxsize)
    except ValueError:
        pass
    problems.append(f"{name} must be a whole number, {minimum} or more, not {value!r}.")
    return default


def _hours(value: str, problems: list[str]) -> float:
    if not value.strip():
        return 48.0
    try:
        hours = float(value)
    except ValueError:
        hours = 0.0
    # isfinite: "nan" parses as a float; the cap keeps deadline arithmetic far from overflow.
    if 0 < hours <= MAX_REMINDER_HOURS and math.isfinite(hours):
        return hours
    problems.append(
        "ROUND_REMINDER_HOURS must be a number of hours above 0 and at most "
        f"{MAX_REMINDER_HOURS} (a year), such as 48, not {value!r}."
    )
    return 48.0


def _seconds(env: Mapping[str, str], name: str, default: float, problems: list[str]) -> float:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if 0.5 <= seconds <= 3600 and math.isfinite(seconds):
        return seconds
    problems.append(f"{name} must be a number of seconds from 0.5 to 3600, not {value!r}.")
    return default


def _timezone(value: str, problems: list[str]) -> str:
    name = value.strip()
    if not name:
        return "Europe/London"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: a name zoneinfo refuses outright, such as an absolute path.
        problems.append(
            f"ROUND_TIMEZONE must be a time zone name such as Europe/London, not {value!r}."
        )
        return "Europe/London"
    return name


def _app_type(value: str, problems: list[str]) -> str:
    if not value.strip():
        return "MultiTenant"
    known = APP_TYPES.get(value.strip().lower())
    if known is None:
        problems.append("MicrosoftAppType must be MultiTenant, SingleTenant or UserAssignedMSI.")
        return "MultiTenant"
    return known
