"""Cleaning what people type before it is stored or shown."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean(text: str) -> str:
    """Line breaks kept, control characters and lone surrogates (invalid UTF-8) removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def length(text: str) -> int:
    """Length as Teams counts it (UTF-16 code units), so our limit and the card's agree."""
    return len(text.encode("utf-16-le")) // 2
