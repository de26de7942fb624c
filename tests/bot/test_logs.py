"""Logs as JSON lines: one object per line, the fields operators filter on, errors by type."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonLines, PlainText, WithholdExceptions, failure
from dialogs.store import StoreUnavailable


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc else None
    name, level = "trustboard.delivery", logging.WARNING
    return logging.LogRecord(name, level, __file__, 1, message, args, info)


def test_a_record_is_one_json_object_on_one_line() -> None:
    line = JsonLines().format(record("delivery %s: %s", "job/1", "unreachable\nsecond line"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "trustboard.delivery"
    assert entry["message"] == "delivery job/1: unreachable\nsecond line"
    assert entry["time"].endswith("+00:00")


def test_an_exception_is_named_with_where_it_was_raised() -> None:
    try:
        raise ValueError("boom")
    except ValueError as exc:
        entry = json.loads(JsonLines().format(record("failed", exc=exc)))
    assert entry["error"] == "ValueError"
    assert entry["where"].startswith("test_logs.py:")
    assert "Traceback" in entry["trace"]


MARKER = "EVIDENCE-7f3a9c"


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_a_logged_exception_keeps_its_frames_and_withholds_its_message() -> None:
    try:
        try:
            int(MARKER)
        except ValueError as inner:
            raise RuntimeError(f"could not read {MARKER!r}") from inner
    except RuntimeError as exc:
        line = JsonLines().format(record("failed", exc=exc))
        text = PlainText().format(record("failed", exc=exc))
    assert MARKER not in line and MARKER not in text
    entry = json.loads(line)
    assert entry["error"] == "RuntimeError" and entry["where"].startswith("test_logs.py:")
    assert "builtins.ValueError (message withheld)" in entry["trace"]
    assert "builtins.RuntimeError (message withheld)" in entry["trace"]
    assert "in test_a_logged_exception_keeps_its_frames" in text


def test_an_exception_given_as_an_argument_is_logged_as_its_type_and_place() -> None:
    exc = raised(KeyError(MARKER))
    entry = record("could not read the team's name: %s", exc)
    assert WithholdExceptions().filter(entry)
    message = entry.getMessage()
    assert MARKER not in message
    assert message.startswith("could not read the team's name: KeyError at test_logs.py:")
    assert failure(raised(StoreUnavailable(MARKER))).startswith("StoreUnavailable at ")
