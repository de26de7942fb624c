"""What a test does to a running bot over HTTP, whether it is a process or served in-process.

`BotProcess` (a real `python -m bot`) and `BotApp` (the same aiohttp app in the test's event
loop) both offer these calls, so a Teams client or a test can be given either.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import aiohttp

MESSAGES_PATH = "/api/messages"
HEALTH_PATH = "/healthz"
# Inherited values of these never reach the bot: a stray REDIS_URL could point at a shared Redis.
_NOT_INHERITED = ("PORT", "REDIS_URL", "REDIS_CLUSTER", "REDIS_WAIT_REPLICAS", "LOCAL_MODE")


def bot_environment(port: int, extra: Mapping[str, str | None]) -> dict[str, str]:
    """The environment a bot process on `port` is given: ours, less a stray REDIS_URL, with
    LOCAL_MODE=1, and `extra` on top (a None value removes a variable)."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(PORT=str(port), LOCAL_MODE="1", PYTHONUNBUFFERED="1")
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class BotHttp:
    """`post`, `post_raw` and `get` on a bot at `self.url`; subclasses may override `request`."""

    @property
    def url(self) -> str:
        raise NotImplementedError

    @property
    def messages_url(self) -> str:
        return self.url + MESSAGES_PATH

    async def post(
        self,
        activity: Any,
        *,
        path: str = MESSAGES_PATH,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, Any]:
        """POST an activity as JSON; returns (status, parsed JSON, or text, or None if empty)."""
        data = json.dumps(activity).encode()
        return await self.post_raw(data, path=path, headers=headers, timeout=timeout)

    async def post_raw(
        self,
        data: bytes,
        *,
        content_type: str | None = "application/json",
        path: str = MESSAGES_PATH,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, Any]:
        """POST any bytes (malformed JSON, a wrong or missing Content-Type, …)."""
        sent = dict(headers or {})
        if content_type is not None:
            sent.setdefault("Content-Type", content_type)
        return await self.request("POST", path, data=data, headers=sent, timeout=timeout)

    async def get(self, path: str, timeout: float = 30) -> tuple[int, Any]:
        return await self.request("GET", path, timeout=timeout)

    async def request(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, Any]:
        limit = aiohttp.ClientTimeout(total=timeout)
        # skip_auto_headers keeps aiohttp from inventing a Content-Type when the test sends none.
        async with (
            aiohttp.ClientSession(timeout=limit, skip_auto_headers={"Content-Type"}) as session,
            session.request(method, self.url + path, data=data, headers=headers) as response,
        ):
            return response.status, decode(await response.read())


def decode(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode(errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
