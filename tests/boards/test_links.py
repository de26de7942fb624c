"""Signed links open exactly what they were made for, until they expire, and nothing else."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from dialogs.boards.links import Grant, Links, SharedLinks, StoredSecret
from dialogs.store import StoreUnavailable, connect
from tests.support.redis_server import RedisServer

SECRET = b"0123456789abcdef0123456789abcdef"


def test_a_link_opens_what_it_was_made_for() -> None:
    links = Links(SECRET, "https://bot.example.org/")
    url = links.url("export", "tenant-a", "19:team@thread.tacv2")
    assert url.startswith("https://bot.example.org/links/")
    grant = links.open(url.rsplit("/", 1)[1])
    assert grant is not None
    assert (grant.kind, grant.tenant, grant.board) == ("export", "tenant-a", "19:team@thread.tacv2")


def test_an_expired_link_opens_nothing() -> None:
    links = Links(SECRET, "https://bot.example.org", ttl=60)
    token = links.token(Grant("export", "t", "b", "", int(time.time()) - 1))
    assert links.open(token) is None
    assert links.open(links.token(Grant("export", "t", "b", "", int(time.time()) + 60)))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
        lambda t: "x" + t,  # the body
        lambda t: t.split(".")[0],  # no signature
        lambda t: "",
        lambda t: "%%%.%%%",
        lambda t: "a" * 5000,
    ],
)
def test_a_tampered_link_opens_nothing(tamper) -> None:
    links = Links(SECRET, "https://bot.example.org")
    token = links.url("export", "t", "b").rsplit("/", 1)[1]
    assert links.open(tamper(token)) is None


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize("part", [0, 1])  # the body, the signature
def test_a_link_written_differently_but_decoding_alike_opens_nothing(part: int) -> None:
    """Base64 text that decodes to the very bytes of a real link (a last character's spare bits
    set, a character the decoder skips) is still not the link: a link opens only as it was made."""
    links = Links(SECRET, "https://bot.example.org")
    token = links.url("export", "t", "b").rsplit("/", 1)[1]
    parts = token.split(".")
    text = parts[part]
    assert len(text) % 4 in (2, 3)  # a last character with spare bits: 32 bytes signed, the body
    spare = 15 if len(text) % 4 == 2 else 3  # 4 or 2 of its 6 bits are padding
    last = ALPHABET[ALPHABET.index(text[-1]) | spare]
    for written in (text[:-1] + last, text[:1] + "*" + text[1:], text + "!"):
        assert written != text
        changed = parts.copy()
        changed[part] = written
        assert links.open(".".join(changed)) is None, written
    assert links.open(token) is not None


def test_another_installations_secret_opens_nothing() -> None:
    ours, theirs = (
        Links(SECRET, "https://a"),
        Links(b"another-secret-of-32-bytes-long!", "https://a"),
    )
    token = theirs.url("export", "t", "b").rsplit("/", 1)[1]
    assert ours.open(token) is None


def test_an_unknown_kind_opens_nothing() -> None:
    links = Links(SECRET, "https://a")
    assert links.open(links.token(Grant("admin", "t", "b", "", int(time.time()) + 60))) is None


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        Links(b"short", "https://a")


async def test_processes_share_one_stored_secret_and_sign_alike(redis: Redis) -> None:
    first, second = (
        StoredSecret(redis, "tb:{links}:secret"),
        StoredSecret(redis, "tb:{links}:secret"),
    )
    assert await first() == await second()
    assert len(await first()) == 64
    made = await SharedLinks(first, "https://a").url("export", "t", "b")
    grant = await SharedLinks(second, "https://b").open(made.rsplit("/", 1)[1])
    assert grant is not None and (grant.tenant, grant.board) == ("t", "b")


async def test_a_secret_not_yet_read_is_asked_for_again_once_redis_answers(
    tmp_path: Path,
) -> None:
    with RedisServer(tmp_path) as server:
        client = connect(server.url)
        secret = StoredSecret(client, "tb:{links}:secret", reread=0.0)
        try:
            await asyncio.to_thread(server.stop)
            with pytest.raises(StoreUnavailable):
                await secret()
            await asyncio.to_thread(server.restart)
            read = await secret()
            await asyncio.to_thread(server.stop)
            assert await secret() == read  # the last one read, while Redis is away
        finally:
            await client.aclose()
