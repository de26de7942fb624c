"""Reads the small subset of YAML that deploy/docker/compose.yaml is written in, stdlib only.

The project has no YAML dependency, and the compose file needs little: block mappings, block
sequences of scalars, plain or quoted scalars, JSON-style flow lists (`["a", "b"]`) and comments.
Scalars stay strings. Anything else (anchors, multi-line strings, flow mappings, a mapping inside
a sequence) is refused with the line number, so the check can never quietly misread the file.
"""

from __future__ import annotations

import json
import re
from typing import Any

KEY = re.compile(r"^([A-Za-z0-9_.\-]+):(?:\s+(.*))?$")


class YamlSubsetError(ValueError):
    """The text uses YAML this reader does not handle."""


def _strip_comment(text: str) -> str:
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


def _scalar(text: str, number: int) -> Any:
    text = text.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise YamlSubsetError(f"line {number}: write flow lists as JSON: {text}") from exc
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    if text[:1] in "{&*|>!%@`":
        raise YamlSubsetError(f"line {number}: unsupported YAML: {text}")
    return text


def load(text: str) -> Any:
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlSubsetError(f"line {number}: tab in indentation")
        content = _strip_comment(raw)
        if content.strip():
            lines.append((len(content) - len(content.lstrip()), content.strip(), number))
    node, end = _block(lines, 0, 0)
    if end != len(lines):
        raise YamlSubsetError(f"line {lines[end][2]}: unexpected indentation")
    return node


def _block(lines: list[tuple[int, str, int]], at: int, indent: int) -> tuple[Any, int]:
    if at >= len(lines):
        return None, at
    if lines[at][1].startswith("- ") or lines[at][1] == "-":
        items = []
        while at < len(lines) and lines[at][0] == indent and lines[at][1].startswith("-"):
            _, content, number = lines[at]
            item = content[1:].strip()
            if not item or KEY.match(item):
                raise YamlSubsetError(f"line {number}: only scalars are supported in a list")
            items.append(_scalar(item, number))
            at += 1
        return items, at
    mapping: dict[str, Any] = {}
    while at < len(lines) and lines[at][0] == indent:
        _, content, number = lines[at]
        match = KEY.match(content)
        if not match:
            raise YamlSubsetError(f"line {number}: expected 'key: value', got {content!r}")
        key, value = match.group(1), match.group(2)
        if key in mapping:
            raise YamlSubsetError(f"line {number}: duplicate key {key!r}")
        at += 1
        if value:
            mapping[key] = _scalar(value, number)
        elif at < len(lines) and lines[at][0] > indent:
            mapping[key], at = _block(lines, at, lines[at][0])
        else:
            mapping[key] = None
    return mapping, at
