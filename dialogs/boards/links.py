"""Signed links that expire: how a clerk downloads a board's data and a chair a board paper.

A link carries what it opens (kind, tenant, board, round) and when it expires, signed with
HMAC-SHA256; the server checks the signature and the time and opens nothing else. Whoever holds
the link can open it until it expires, so links are short-lived and only handed, in a private
chat, to the person the board's roles allow.

`SharedLinks` is what the desk is given: the same links, signed with a secret that is fetched
when first needed (LINK_SECRET, or one made once and kept in Redis, so every process signs
alike), and fetched again on the next use if the store could not be reached.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from ..store import text
from ..store.store import StoreUnavailable, stored

KINDS = {"export", "paper", "ratings", "comparison"}
REREAD = 300.0  # seconds a secret read from Redis is used before it is read again

SecretSource = Callable[[], Awaitable[bytes]]


@dataclass(frozen=True)
class Grant:
    kind: str  # export (a board's data), paper (a round's board paper), ratings (CSV),
    # comparison (a learning set's, for a member board: `round` is then the set's id)
    tenant: str
    board: str
    round: str = ""
    expires: int = 0  # Unix seconds


class Links:
    def __init__(self, secret: bytes, base_url: str, ttl: int = 3600) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret must be at least 16 bytes")
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl

    def url(self, kind: str, tenant: str, board: str, round_id: str = "") -> str:
        grant = Grant(kind, tenant, board, round_id, int(time.time()) + self.ttl)
        return f"{self.base_url}/links/{self.token(grant)}"

    def token(self, grant: Grant) -> str:
        body = json.dumps(
            [grant.kind, grant.tenant, grant.board, grant.round, grant.expires],
            separators=(",", ":"),
        ).encode()
        return f"{_b64(body)}.{_b64(self._sign(body))}"

    def open(self, token: str, now: float | None = None) -> Grant | None:
        """The grant a token carries, or None if it is forged, damaged or expired."""
        body_part, _, signature = token.partition(".")
        try:
            body = _unb64(body_part)
            given = _unb64(signature)
        except ValueError:
            return None
        if not hmac.compare_digest(given, self._sign(body)):
            return None
        try:
            kind, tenant, board, round_id, expires = json.loads(body)
        except ValueError:
            return None
        if kind not in KINDS or int(expires) < (time.time() if now is None else now):
            return None
        return Grant(str(kind), str(tenant), str(board), str(round_id), int(expires))

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self.secret, body, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or len(text) > 4000:
        raise ValueError("not a token")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("not a token") from exc
    # The decoder skips characters outside the alphabet and ignores a last character's spare
    # bits, so other texts decode to the same bytes: only the text we would write is a token.
    if _b64(data) != text:
        raise ValueError("not a token")
    return data


class SharedLinks:
    """`Links` whose secret comes from `secret` when first needed (StoreUnavailable if it cannot
    be had just now; the next call tries again)."""

    def __init__(self, secret: SecretSource, base_url: str, ttl: int = 3600) -> None:
        self.secret = secret
        self.base_url = base_url
        self.ttl = ttl

    async def url(self, kind: str, tenant: str, board: str, round_id: str = "") -> str:
        return (await self._links()).url(kind, tenant, board, round_id)

    async def open(self, token: str) -> Grant | None:
        return (await self._links()).open(token)

    async def _links(self) -> Links:
        return Links(await self.secret(), self.base_url, self.ttl)


class StoredSecret:
    """The link secret every process shares: made once (SET NX) and kept in Redis.

    Read again every `reread` seconds, so a process agrees with the others even after the key
    was lost and made anew; while Redis cannot be reached, the last one read is used."""

    def __init__(
        self,
        redis: Redis,
        key: str,
        *,
        reread: float = REREAD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.key = key
        self.reread = reread
        self.clock = clock
        self._held: tuple[bytes, float] | None = None

    async def __call__(self) -> bytes:
        held = self._held
        if held is not None and self.clock() - held[1] < self.reread:
            return held[0]
        try:
            secret = await stored(self._read)
        except StoreUnavailable:
            if held is None:
                raise
            return held[0]
        self._held = (secret, self.clock())
        return secret

    async def _read(self) -> bytes:
        await self.redis.set(self.key, secrets.token_hex(32), nx=True)
        value = await text.get(self.redis, self.key)
        if not value:  # deleted between the two calls: the next use makes it again
            raise OSError("the link secret vanished while it was read")
        return value.encode()


def fixed_secret(secret: bytes) -> SecretSource:
    """A secret given in the configuration (LINK_SECRET)."""

    async def source() -> bytes:
        return secret

    return source
