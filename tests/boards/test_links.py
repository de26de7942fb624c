"""Signed links open exactly what they were made for, until they expire, and nothing else."""

from __future__ import annotations

import time

import pytest

from dialogs.boards.links import Grant, Links

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
