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


# What can start markup in a Teams markdown message: emphasis, code, links and images, HTML
# tags, headings, tables and strikethrough, escaped with a backslash as CommonMark reads it.
_MARKUP = re.compile(r"([\\`*_~\[\]()<>#|!])")
_BULLET = re.compile(r"^(\s*)([-+=])", re.MULTILINE)  # a list item, or a heading's rule
_NUMBERED = re.compile(r"^(\s*[0-9]+)([.)])", re.MULTILINE)  # a numbered list item


def escape_markdown(text: str) -> str:
    """Someone's text (a name, a team's name, evidence) made literal for a markdown message:
    a display name "[Boardpack](https://phish.example/x)" shows as typed, not as a link.

    Every place a person's text goes into a Text message uses this; cards need it not, since
    their templates put such text in TextRuns, which Teams never reads as markdown."""
    escaped = _MARKUP.sub(r"\\\1", text)
    escaped = _BULLET.sub(r"\1\\\2", escaped)
    return _NUMBERED.sub(r"\1\\\2", escaped)
