"""Log records as JSON lines for a deployment (LOG_FORMAT=json, the default), or plain text.

Only the record's own fields go out: the time, the level, the logger, the message and, for an
exception, its type and where it was raised. Messages never carry evidence (the engine and the
board desk log ids and kinds, not what people typed), and third-party loggers that would print
request bodies are held at WARNING (bot/__main__.py).
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from pathlib import Path

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
            entry["trace"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def where(exc: BaseException) -> str:
    """Where an exception was raised (file:line in function), without its message, which could
    quote what someone typed."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno} in {last.name}"


def configure(level: str, style: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if style == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
