"""Log records as JSON lines for a deployment (LOG_FORMAT=json, the default), or plain text.

Only the record's own fields go out: the time, the level, the logger, the message and, for an
exception, its type, where it was raised and its traceback, never its message (see
dialogs/failures.py); an exception passed as a log argument is written the same way. Messages
never carry evidence (the engine and the board desk log ids and kinds, not what people typed),
and third-party loggers that would print request bodies are held at WARNING (bot/__main__.py).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from dialogs.failures import failure, trace, where

__all__ = [
    "FORMATS",
    "JsonLines",
    "PlainText",
    "WithholdExceptions",
    "configure",
    "failure",
    "where",
]

FORMATS = ("json", "text")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            entry["error"] = type(exc).__name__
            entry["where"] = where(exc)
            entry["trace"] = trace(exc)
        return json.dumps(entry, ensure_ascii=False)


class PlainText(logging.Formatter):
    """LOG_FORMAT=text: one line a record, and a traceback with its messages withheld."""

    def __init__(self) -> None:
        super().__init__(TEXT)

    def formatException(self, ei: Any) -> str:
        return trace(ei[1]) if ei and ei[1] is not None else ""


class WithholdExceptions(logging.Filter):
    """An exception given as a log argument ("failed: %s", exc) is logged as its type and place,
    whoever logs it (ours or a library's): its message could quote what someone typed."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, BaseException) for a in args):
            record.args = tuple(failure(a) if isinstance(a, BaseException) else a for a in args)
        elif isinstance(args, dict) and any(isinstance(a, BaseException) for a in args.values()):
            record.args = {
                k: failure(a) if isinstance(a, BaseException) else a for k, a in args.items()
            }
        return True


def formatter(style: str) -> logging.Formatter:
    return JsonLines() if style == "json" else PlainText()


def handler(style: str, stream: Any = None) -> logging.Handler:
    made = logging.StreamHandler(stream)
    made.setFormatter(formatter(style))
    made.addFilter(WithholdExceptions())
    return made


def configure(level: str, style: str) -> None:
    root = logging.getLogger()
    root.handlers[:] = [handler(style)]
    root.setLevel(level)
