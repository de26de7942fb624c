"""Configuration from the environment alone, checked before anything starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

APP_TYPES = {
    "multitenant": "MultiTenant",
    "singletenant": "SingleTenant",
    "userassignedmsi": "UserAssignedMSI",
}


class ConfigError(ValueError):
    """The environment does not describe a bot that can start safely."""


@dataclass(frozen=True)
class Settings:
    port: int = 3978
    redis_url: str | None = None
    app_id: str = ""
    app_password: str = ""
    app_type: str = "MultiTenant"
    tenant_id: str = ""
    local_mode: bool = False
    card_actions: str = "execute"  # or "submit", for hosts without universal actions
    key_prefix: str = "tb"

    @property
    def authenticated(self) -> bool:
        return bool(self.app_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        problems: list[str] = []
        settings = cls(
            port=_port(env.get("PORT", "3978"), problems),
            redis_url=env.get("REDIS_URL", "").strip() or None,
            app_id=env.get("MicrosoftAppId", "").strip(),
            app_password=env.get("MicrosoftAppPassword", ""),
            app_type=_app_type(env.get("MicrosoftAppType", ""), problems),
            tenant_id=env.get("MicrosoftAppTenantId", "").strip(),
            local_mode=env.get("LOCAL_MODE", "").strip().lower() in ("1", "true", "yes"),
            card_actions=env.get("CARD_ACTIONS", "execute").strip().lower() or "execute",
            key_prefix=env.get("REDIS_KEY_PREFIX", "tb").strip() or "tb",
        )
        problems += settings._problems()
        if problems:
            raise ConfigError("Cannot start trustboard:\n" + "\n".join(f"- {p}" for p in problems))
        return settings

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
        if self.app_id and not self.redis_url:
            problems.append(
                "REDIS_URL is required with MicrosoftAppId: the embedded store keeps "
                "nothing when the process stops."
            )
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            problems.append("REDIS_URL must start with redis://, rediss:// or unix://.")
        if self.card_actions not in ("execute", "submit"):
            problems.append("CARD_ACTIONS must be execute or submit.")
        return problems


def _port(value: str, problems: list[str]) -> int:
    if value.strip().isdigit() and 0 < int(value) < 65536:
        return int(value)
    problems.append(f"PORT must be a number from 1 to 65535, not {value!r}.")
    return 0


def _app_type(value: str, problems: list[str]) -> str:
    if not value.strip():
        return "MultiTenant"
    known = APP_TYPES.get(value.strip().lower())
    if known is None:
        problems.append("MicrosoftAppType must be MultiTenant, SingleTenant or UserAssignedMSI.")
        return "MultiTenant"
    return known
