"""Bot Framework tokens without login.botframework.com: a local OpenID metadata + JWKS server and
a minter of channel tokens signed with keys made in the test.

    key = SigningKey.generate()
    async with OpenIdServer([key]) as login:
        env = {"BotOpenIdMetadata": login.metadata_url, ...}          # the bot checks with it
        token = key.mint(channel_claims(APP_ID, connector.url))
        await bot.post(activity, headers=bearer(token))

The server also answers the App Service managed identity endpoint (`IDENTITY_ENDPOINT`, used by
msal for `MicrosoftAppType=UserAssignedMSI`), so a bot can get its own outbound token offline.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from .net import LOOPBACK

CHANNEL_ISSUER = "https://api.botframework.com"  # what Bot Framework channel tokens carry
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
MSI_PATH = "/msi/token"
TEAMS = "msteams"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class SigningKey:
    """An RSA key as the Bot Framework publishes one: a kid and the channels it endorses."""

    private_key: rsa.RSAPrivateKey
    kid: str
    endorsements: Sequence[str] = (TEAMS,)

    @classmethod
    def generate(cls, kid: str | None = None, endorsements: Sequence[str] = (TEAMS,)) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(key, kid or secrets.token_urlsafe(12), tuple(endorsements))

    def jwk(self) -> dict[str, Any]:
        """The public half, as a JWKS lists it."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": _b64(numbers.n),
            "e": _b64(numbers.e),
            "endorsements": list(self.endorsements),
        }

    def mint(
        self,
        claims: Mapping[str, Any],
        *,
        kid: str | None = None,
        with_kid: bool = True,
        algorithm: str = "RS256",
    ) -> str:
        """A JWT of these claims signed with this key, its header naming `kid` (default: ours;
        none at all if not `with_kid`)."""
        header = {"kid": self.kid if kid is None else kid} if with_kid else None
        return jwt.encode(dict(claims), self.private_key, algorithm=algorithm, headers=header)


def channel_claims(
    app_id: str,
    service_url: str,
    *,
    issuer: str = CHANNEL_ISSUER,
    issued: float | None = None,
    lifetime: float = 3600,
    **extra: Any,
) -> dict[str, Any]:
    """The claims of a token the Bot Framework channel sends with an activity to a bot."""
    now = int(time.time() if issued is None else issued)
    claims: dict[str, Any] = {
        "serviceurl": service_url,
        "nbf": now - 5,
        "exp": int(now + lifetime),
        "iss": issuer,
        "aud": app_id,
    }
    claims.update(extra)
    return claims


def unsigned(claims: Mapping[str, Any], kid: str = "") -> str:
    """A token with `alg: none` (no signature at all)."""
    return jwt.encode(dict(claims), None, algorithm="none", headers={"kid": kid} if kid else None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class _Requests:
    metadata: int = 0
    keys: int = 0
    msi: list[dict[str, str]] = field(default_factory=list)  # the query of each token request


class OpenIdServer:
    """OpenID metadata, a JWKS and a managed identity token endpoint on 127.0.0.1.

    `keys` can be changed at any time; `hang` makes every answer wait until the server closes,
    `fail_status` makes metadata and keys answer that status instead.
    """

    def __init__(
        self, keys: Sequence[SigningKey] = (), *, msi_secret: str | None = None, port: int = 0
    ) -> None:
        self.keys = list(keys)
        self.msi_secret = msi_secret or secrets.token_hex(8)
        self.outbound_token = "outbound-" + secrets.token_hex(16)  # what the bot gets for itself
        self.hang = False
        self.fail_status: int | None = None
        self.requests = _Requests()
        self.port = port
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def metadata_url(self) -> str:
        return self.url + METADATA_PATH

    @property
    def msi_env(self) -> dict[str, str]:
        """What msal reads to use an App Service managed identity endpoint."""
        return {"IDENTITY_ENDPOINT": self.url + MSI_PATH, "IDENTITY_HEADER": self.msi_secret}

    async def start(self) -> OpenIdServer:
        app = web.Application()
        app.router.add_get(METADATA_PATH, self._metadata)
        app.router.add_get(KEYS_PATH, self._keys)
        app.router.add_get(MSI_PATH, self._msi)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, self.port))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        self._closing.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> OpenIdServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _stall(self) -> web.Response | None:
        if self.hang:
            await self._closing.wait()
            return web.Response(status=503)
        if self.fail_status is not None:
            return web.json_response({"error": "injected"}, status=self.fail_status)
        return None

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.metadata += 1
        stalled = await self._stall()
        if stalled is not None:
            return stalled
        return web.json_response(
            {
                "issuer": CHANNEL_ISSUER,
                "authorization_endpoint": "https://invalid.example/",
                "jwks_uri": self.url + KEYS_PATH,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests.keys += 1
        stalled = await self._stall()
        if stalled is not None:
            return stalled
        return web.json_response({"keys": [key.jwk() for key in self.keys]})

    async def _msi(self, request: web.Request) -> web.Response:
        """App Service's managed identity endpoint (api-version 2019-08-01)."""
        self.requests.msi.append(dict(request.query))
        if request.headers.get("X-IDENTITY-HEADER") != self.msi_secret:
            return web.json_response({"statusCode": 401, "message": "bad header"}, status=401)
        return web.json_response(
            {
                "access_token": self.outbound_token,
                "expires_on": str(int(time.time()) + 3600),
                "resource": request.query.get("resource", ""),
                "token_type": "Bearer",
                "client_id": request.query.get("client_id", ""),
            }
        )


def new_app_id() -> str:
    return str(uuid.uuid4())
