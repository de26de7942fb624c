"""Reading cards the way a trustee sees them, and pressing their buttons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dialogs.messages import Action, Card, Reply


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def words(card: Card | dict[str, Any]) -> str:
    """All text a reader sees on the card, one run per line."""
    content = card.content if isinstance(card, Card) else card
    return "\n".join(
        n["text"]
        for n in walk(content.get("body", []))
        if n.get("type") in ("TextRun", "TextBlock")
    )


def buttons(card: Card) -> list[dict[str, Any]]:
    """The card's buttons (an Action.Execute's fallback Submit is the same button)."""
    nodes = list(walk(card.content.get("body", [])))
    execute = [n for n in nodes if n.get("type") == "Action.Execute"]
    return execute or [n for n in nodes if n.get("type") == "Action.Submit"]


def button(card: Card, verb: str, title: str | None = None) -> dict[str, Any]:
    found = [
        b
        for b in buttons(card)
        if b["data"]["verb"] == verb and (title is None or b["title"].lstrip("✓ ") == title)
    ]
    assert found, f"no {verb!r} button titled {title!r} on card {card.summary!r}"
    return found[0]


def press(card: Card, verb: str, title: str | None = None, **inputs: Any) -> Action:
    """What Teams posts for a click: the button's data merged with the card's inputs."""
    data = dict(button(card, verb, title)["data"])
    data.update(inputs)
    return Action(verb, data)


def shown(reply: Reply) -> Card:
    """The card the trustee now looks at: the replaced one, or the first new one."""
    if reply.replace is not None:
        return reply.replace
    cards = [m for m in reply.send if isinstance(m, Card)]
    assert cards, f"no card in reply; texts: {reply.texts()}"
    return cards[0]


def evidence_value(card: Card) -> str:
    inputs = [n for n in walk(card.content["body"]) if n.get("id") == "evidence"]
    assert inputs, "the card has no evidence input"
    return inputs[0]["value"]


def priority_grid(content: dict[str, Any]) -> list[list[list[str]]]:
    """The priorities for improvement as a reader on a laptop sees them: the heading row, then a
    row per priority, each cell the texts it shows (what only a phone shows left out).

    They are laid out with Teams' Layout.AreaGrid: one container, its items placed in areas named
    by column and row ("i3": the key issues of the third priority)."""
    for node in walk(content.get("body", [])):
        layouts = node.get("layouts") if node.get("type") == "Container" else None
        if not layouts or layouts[0].get("type") != "Layout.AreaGrid":
            continue
        rows: dict[int, list[list[str]]] = {}
        for item in node["items"]:
            area = item["grid.area"]
            rows.setdefault(int(area[1:]), []).append(_shown_texts(item))
        return [rows[r] for r in sorted(rows)]
    return []


def _shown_texts(node: Any) -> list[str]:
    if isinstance(node, list):
        return [t for item in node for t in _shown_texts(item)]
    if not isinstance(node, dict) or node.get("targetWidth") == "atMost:narrow":
        return []
    texts = [node["text"]] if node.get("type") in ("TextRun", "TextBlock") else []
    return texts + [t for key, value in node.items() if key != "text" for t in _shown_texts(value)]
