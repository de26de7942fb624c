"""Building blocks of the cards built as data (the walkthrough's element and review cards, the
ones a rating turn answers with): the same blocks as templates/_blocks.j2, as Python values.

A card built here is a dict from the start and is encoded once, when its size is checked
(render.sized); a template's card is written as JSON text, read back and encoded again. Jinja's
macros, markupsafe and the decoding were over half of a rating turn's CPU under load (py-spy).
Text people typed still goes in a `TextRun`, which hosts do not read as markdown.
"""

from __future__ import annotations

from typing import Any

from .render import action_rows

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def adaptive_card(summary: str, body: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "fallbackText": summary,
        "msteams": {"width": "Full"},
        "body": body,
    }


def para(
    text: Any,
    size: str | None = None,
    weight: str | None = None,
    subtle: bool = False,
    color: str | None = None,
    italic: bool = False,
    spacing: str | None = None,
    align: str | None = None,
) -> dict[str, Any]:
    run: dict[str, Any] = {"type": "TextRun", "text": text}
    if size:
        run["size"] = size
    if weight:
        run["weight"] = weight
    if subtle:
        run["isSubtle"] = True
    if color:
        run["color"] = color
    if italic:
        run["italic"] = True
    block: dict[str, Any] = {"type": "RichTextBlock"}
    if spacing:
        block["spacing"] = spacing
    if align:
        block["horizontalAlignment"] = align
    block["inlines"] = [run]
    return block


def lines(items: list[Any], size: str | None = None, subtle: bool = False) -> list[dict[str, Any]]:
    return [para(line, size=size, subtle=subtle) for line in items]


def notice_box(notice: Any) -> dict[str, Any]:
    return {
        "type": "Container",
        "style": notice.style,
        "items": [para(notice.text, weight="Bolder")],
    }


def round_banner(text: str) -> dict[str, Any]:
    """Whose answers these are, when a board round asks for them."""
    return {
        "type": "Container",
        "style": "accent",
        "spacing": "Small",
        "items": [para(text, size="Small", weight="Bolder")],
    }


def code_text(cell: dict[str, Any]) -> dict[str, Any]:
    """A rating's letters in its look (cards/scheme.py): the bot's own text, on one line."""
    return {
        "type": "TextBlock",
        "text": cell["code"],
        "weight": cell["weight"],
        "color": cell["color"],
        "horizontalAlignment": "Center",
    }


def heat_cell(cell: dict[str, Any]) -> dict[str, Any]:
    described = [para(cell["label"])]
    if cell["detail"]:
        described.append(para(cell["detail"], size="Small", subtle=True, spacing="None"))
    return {
        "type": "ColumnSet",
        "spacing": "Small",
        "columns": [
            {
                "type": "Column",
                "width": "64px",
                "style": cell["style"],
                "verticalContentAlignment": "Center",
                "items": [code_text(cell)],
            },
            {
                "type": "Column",
                "width": "stretch",
                "verticalContentAlignment": "Center",
                "items": described,
            },
        ],
    }


def heat_map_body(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for row in rows:
        found.append(para(row["title"], weight="Bolder", spacing="Medium"))
        found.extend(heat_cell(cell) for cell in row["cells"])
    return found


def actions(items: list[dict[str, Any]], spacing: str = "Medium") -> list[dict[str, Any]]:
    """One ActionSet a row: as many rows as it takes for every title to fit on a phone."""
    return [
        {"type": "ActionSet", "spacing": spacing if index == 0 else "Small", "actions": row}
        for index, row in enumerate(action_rows(items))
    ]
