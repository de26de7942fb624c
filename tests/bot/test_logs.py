"""Logs as JSON lines: one object per line, the fields operators filter on, errors by type."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonLines


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
