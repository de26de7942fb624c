"""A structural check of Adaptive Cards 1.5 as Teams renders them.

`problems(card)` lists everything wrong with a card (empty when it is fine); `assert_valid(card)`
fails a test with that list. It checks what a host would choke on or silently drop: the card's
type and version, element and action types from the 1.5 set in the places they may appear,
required and known properties, enum values, unique ids, Table rows that match their columns,
Action.Execute buttons whose verb and fallback agree with their data, no `None` anywhere, a JSON
round trip that changes nothing, and the size limit Teams enforces.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dialogs.cards.render import MAX_CARD_BYTES, card_bytes

SCHEMAS = {
    "http://adaptivecards.io/schemas/adaptive-card.json",
    "https://adaptivecards.io/schemas/adaptive-card.json",
}
ELEMENT = {"type", "id", "isVisible", "separator", "spacing", "height", "requires", "fallback"}
# Teams' responsive extensions, which it reads on 1.5 cards: an element for some card widths
# only, and a container's layouts (an item names its area of a grid with `grid.area`).
ELEMENT |= {"targetWidth", "grid.area"}
CONTAINER = {"items", "selectAction", "style", "verticalContentAlignment", "bleed", "minHeight"}
CONTAINER |= {"backgroundImage", "rtl", "layouts"}
INPUT = {"label", "isRequired", "errorMessage", "value"}
ELEMENTS: dict[str, set[str]] = {
    "TextBlock": {"text", "color", "fontType", "horizontalAlignment", "isSubtle", "maxLines"}
    | {"size", "weight", "wrap", "style"},
    "RichTextBlock": {"inlines", "horizontalAlignment"},
    "Container": CONTAINER,
    "ColumnSet": {"columns", "selectAction", "style", "bleed", "minHeight", "horizontalAlignment"},
    "FactSet": {"facts"},
    "Image": {"url", "altText", "backgroundColor", "horizontalAlignment", "selectAction", "size"}
    | {"style", "width"},
    "ImageSet": {"images", "imageSize"},
    "ActionSet": {"actions"},
    "Table": {"columns", "rows", "firstRowAsHeaders", "showGridLines", "gridStyle"}
    | {"horizontalCellContentAlignment", "verticalCellContentAlignment"},
    "Input.Text": INPUT
    | {"isMultiline", "maxLength", "placeholder", "regex", "style"}
    | {"inlineAction"},
    "Input.Number": INPUT | {"max", "min", "placeholder"},
    "Input.Date": INPUT | {"max", "min", "placeholder"},
    "Input.Time": INPUT | {"max", "min", "placeholder"},
    "Input.Toggle": INPUT | {"title", "valueOn", "valueOff", "wrap"},
    "Input.ChoiceSet": INPUT | {"choices", "isMultiSelect", "style", "placeholder", "wrap"},
}
COLUMN = ELEMENT | CONTAINER | {"width"}
TABLE_ROW = {"type", "cells", "style"} | {"horizontalCellContentAlignment"}
TABLE_ROW |= {"verticalCellContentAlignment"}
TABLE_CELL = {"type"} | CONTAINER
TEXT_RUN = {"type", "text", "color", "fontType", "highlight", "isSubtle", "italic"}
TEXT_RUN |= {"selectAction", "size", "strikethrough", "underline", "weight"}
ACTION = {"type", "title", "iconUrl", "id", "style", "fallback", "tooltip", "isEnabled", "mode"}
ACTION |= {"requires"}
ACTIONS: dict[str, set[str]] = {
    "Action.Execute": ACTION | {"verb", "data", "associatedInputs"},
    "Action.Submit": ACTION | {"data", "associatedInputs"},
    "Action.ShowCard": ACTION | {"card"},
    "Action.ToggleVisibility": ACTION | {"targetElements"},
}
CARD = {"type", "version", "body", "actions", "$schema", "fallbackText", "speak", "lang"}
CARD |= {"selectAction", "backgroundImage", "minHeight", "rtl", "verticalContentAlignment"}
CARD |= {"refresh", "authentication", "metadata", "msteams"}

ENUMS: dict[str, set[str]] = {
    "spacing": {"none", "small", "default", "medium", "large", "extralarge", "padding"},
    "size": {"default", "small", "medium", "large", "extralarge"},
    "weight": {"default", "lighter", "bolder"},
    "color": {"default", "dark", "light", "accent", "good", "warning", "attention"},
    "horizontalAlignment": {"left", "center", "right"},
    "verticalContentAlignment": {"top", "center", "bottom"},
}
CONTAINER_STYLES = {"default", "emphasis", "good", "attention", "warning", "accent"}
WIDTHS = {"verynarrow", "narrow", "standard", "wide"}
TARGET_WIDTH = re.compile(r"^(?:(?:atleast|atmost):)?(\w+)$")
LAYOUTS = {
    "Layout.Stack": {"type", "targetWidth"},
    "Layout.AreaGrid": {"type", "targetWidth", "columns", "areas", "columnSpacing", "rowSpacing"},
}
AREA = {"name", "column", "row", "columnSpan", "rowSpan"}
ACTION_STYLES = {"default", "positive", "destructive"}
PIXELS = re.compile(r"^\d+px$")


def utf16_length(text: str) -> int:
    """Length as Teams counts it (UTF-16 code units), the unit of Input.Text maxLength."""
    return len(text.encode("utf-16-le")) // 2


def assert_valid(card: dict[str, Any]) -> None:
    found = problems(card)
    assert not found, "invalid Adaptive Card:\n" + "\n".join(found)


def problems(card: dict[str, Any]) -> list[str]:
    check = _Checker()
    check.card(card, "card", top=True)
    check.everywhere(card)
    return check.found


class _Checker:
    def __init__(self) -> None:
        self.found: list[str] = []
        self.ids: set[str] = set()

    def fail(self, where: str, message: str) -> None:
        self.found.append(f"{where}: {message}")

    # The card and what it holds

    def card(self, node: Any, where: str, top: bool = False) -> None:
        if not isinstance(node, dict):
            return self.fail(where, "a card must be an object")
        if node.get("type") != "AdaptiveCard":
            self.fail(where, f"type is {node.get('type')!r}, not 'AdaptiveCard'")
        if top and node.get("version") != "1.5":
            self.fail(where, f"version is {node.get('version')!r}, not '1.5'")
        if "$schema" in node and node["$schema"] not in SCHEMAS:
            self.fail(where, f"unexpected $schema {node['$schema']!r}")
        self.known(node, CARD, where)
        if "fallbackText" in node:
            self.string(node["fallbackText"], f"{where}.fallbackText")
        self.elements(node.get("body", []), f"{where}.body")
        self.actions(node.get("actions", []), f"{where}.actions")

    def elements(self, items: Any, where: str) -> None:
        if not isinstance(items, list):
            return self.fail(where, "must be a list")
        for i, item in enumerate(items):
            self.element(item, f"{where}[{i}]")

    def element(self, node: Any, where: str) -> None:
        if not isinstance(node, dict):
            return self.fail(where, "an element must be an object")
        kind = node.get("type")
        if kind not in ELEMENTS:
            return self.fail(where, f"{kind!r} is not an Adaptive Cards 1.5 element")
        where = f"{where}<{kind}>"
        self.known(node, ELEMENT | ELEMENTS[kind], where)
        self.common(node, where)
        if "id" in node:
            self.unique_id(node["id"], where)
        if "style" in node and kind in ("Container", "ColumnSet"):
            self.enum(node["style"], CONTAINER_STYLES, f"{where}.style")
        if "selectAction" in node:
            self.action(node["selectAction"], f"{where}.selectAction")
        if kind == "TextBlock":
            self.string(node.get("text"), f"{where}.text")
        elif kind == "RichTextBlock":
            self.inlines(node.get("inlines"), where)
        elif kind == "Container":
            self.elements(node.get("items"), f"{where}.items")
            if "layouts" in node:
                self.layouts(node, where)
        elif kind == "ColumnSet":
            self.columns(node.get("columns", []), where)
        elif kind == "FactSet":
            for i, fact in enumerate(node.get("facts") or [None]):
                if not (isinstance(fact, dict) and set(fact) == {"title", "value"}):
                    self.fail(f"{where}.facts[{i}]", "a fact needs a title and a value")
        elif kind == "Image":
            self.string(node.get("url"), f"{where}.url")
        elif kind == "ImageSet":
            self.elements(node.get("images"), f"{where}.images")
        elif kind == "ActionSet":
            if not node.get("actions"):
                self.fail(where, "an ActionSet needs actions")
            self.actions(node.get("actions"), f"{where}.actions")
        elif kind == "Table":
            self.table(node, where)
        else:
            self.input(node, kind, where)

    def target_width(self, value: Any, where: str) -> None:
        match = TARGET_WIDTH.match(value.lower()) if isinstance(value, str) else None
        if not match or match[1] not in WIDTHS:
            self.fail(where, f"targetWidth {value!r} is not a width Teams knows")

    def layouts(self, node: dict[str, Any], where: str) -> None:
        """Teams' layouts: each known, and an AreaGrid's areas named, its items in them."""
        layouts = node["layouts"]
        if not isinstance(layouts, list) or not layouts:
            return self.fail(f"{where}.layouts", "must be a non-empty list")
        areas: set[str] = set()
        for i, layout in enumerate(layouts):
            here = f"{where}.layouts[{i}]"
            kind = layout.get("type") if isinstance(layout, dict) else None
            if kind not in LAYOUTS:
                self.fail(here, f"{kind!r} is not a layout Teams knows")
                continue
            self.known(layout, LAYOUTS[kind], here)
            if "targetWidth" in layout:
                self.target_width(layout["targetWidth"], f"{here}.targetWidth")
            for j, area in enumerate(layout.get("areas", [])):
                self.known(area, AREA, f"{here}.areas[{j}]")
                areas.add(area.get("name"))
            columns = layout.get("columns", [])
            if kind == "Layout.AreaGrid" and sum(c for c in columns if isinstance(c, int)) >= 100:
                self.fail(here, "the grid's given columns leave nothing for the last")
        for i, item in enumerate(node.get("items", [])):
            if isinstance(item, dict) and "grid.area" in item and item["grid.area"] not in areas:
                self.fail(f"{where}.items[{i}]", f"grid.area {item['grid.area']!r} is no area")

    def inlines(self, inlines: Any, where: str) -> None:
        if not isinstance(inlines, list) or not inlines:
            return self.fail(where, "a RichTextBlock needs inlines")
        for i, run in enumerate(inlines):
            here = f"{where}.inlines[{i}]"
            if isinstance(run, str):
                continue
            if not isinstance(run, dict) or run.get("type") != "TextRun":
                self.fail(here, "an inline must be a string or a TextRun")
                continue
            self.known(run, TEXT_RUN, here)
            self.common(run, here)
            self.string(run.get("text"), f"{here}.text")
            if "selectAction" in run:
                self.action(run["selectAction"], f"{here}.selectAction")

    def columns(self, columns: Any, where: str) -> None:
        if not isinstance(columns, list):
            return self.fail(where, "columns must be a list")
        for i, column in enumerate(columns):
            here = f"{where}.columns[{i}]"
            if not isinstance(column, dict) or column.get("type", "Column") != "Column":
                self.fail(here, "a ColumnSet holds Columns only")
                continue
            self.known(column, COLUMN, here)
            self.common(column, here)
            if "style" in column:
                self.enum(column["style"], CONTAINER_STYLES, f"{here}.style")
            width = column.get("width", "auto")
            if not (
                isinstance(width, int | float)
                or width in ("auto", "stretch")
                or (isinstance(width, str) and PIXELS.match(width))
            ):
                self.fail(here, f"bad column width {width!r}")
            self.elements(column.get("items", []), f"{here}.items")

    def table(self, node: dict[str, Any], where: str) -> None:
        columns = node.get("columns")
        if not isinstance(columns, list) or not columns:
            return self.fail(where, "a Table needs columns")
        for i, column in enumerate(columns):
            width = column.get("width") if isinstance(column, dict) else None
            if not (
                isinstance(width, int | float) or (isinstance(width, str) and PIXELS.match(width))
            ):
                self.fail(f"{where}.columns[{i}]", f"bad table column width {width!r}")
        for i, row in enumerate(node.get("rows") or []):
            here = f"{where}.rows[{i}]"
            if not isinstance(row, dict) or row.get("type") != "TableRow":
                self.fail(here, "a Table holds TableRows only")
                continue
            self.known(row, TABLE_ROW, here)
            if "style" in row:
                self.enum(row["style"], CONTAINER_STYLES, f"{here}.style")
            cells = row.get("cells")
            if not isinstance(cells, list) or len(cells) != len(columns):
                count = len(cells) if isinstance(cells, list) else cells
                self.fail(here, f"{count} cells for {len(columns)} columns")
                continue
            for j, cell in enumerate(cells):
                spot = f"{here}.cells[{j}]"
                if not isinstance(cell, dict) or cell.get("type") != "TableCell":
                    self.fail(spot, "a TableRow holds TableCells only")
                    continue
                self.known(cell, TABLE_CELL, spot)
                self.common(cell, spot)
                if "style" in cell:
                    self.enum(cell["style"], CONTAINER_STYLES, f"{spot}.style")
                self.elements(cell.get("items"), f"{spot}.items")

    def input(self, node: dict[str, Any], kind: str, where: str) -> None:
        if not (isinstance(node.get("id"), str) and node["id"]):
            self.fail(where, "an input needs an id")
        if kind == "Input.Text":
            value, limit = node.get("value"), node.get("maxLength")
            if value is not None and not isinstance(value, str):
                self.fail(where, "value must be a string")
            if limit is not None and not (isinstance(limit, int) and limit > 0):
                self.fail(where, f"bad maxLength {limit!r}")
            elif isinstance(value, str) and limit is not None and utf16_length(value) > limit:
                self.fail(
                    where, f"value is {utf16_length(value)} UTF-16 units, over maxLength {limit}"
                )
        elif kind == "Input.ChoiceSet":
            choices = node.get("choices")
            if not isinstance(choices, list) or not choices:
                return self.fail(where, "a ChoiceSet needs choices")
            values = []
            for i, choice in enumerate(choices):
                if not (
                    isinstance(choice, dict)
                    and isinstance(choice.get("title"), str)
                    and isinstance(choice.get("value"), str)
                ):
                    self.fail(f"{where}.choices[{i}]", "a choice needs a string title and value")
                    continue
                values.append(choice["value"])
            if len(values) != len(set(values)):
                self.fail(where, "choice values repeat")
            value = node.get("value")
            if value is not None and not node.get("isMultiSelect") and value not in values:
                self.fail(where, f"value {value!r} is not one of the choices")

    # Actions

    def actions(self, items: Any, where: str) -> None:
        if not isinstance(items, list):
            return self.fail(where, "actions must be a list")
        for i, item in enumerate(items):
            self.action(item, f"{where}[{i}]")

    def action(self, node: Any, where: str, in_fallback: bool = False) -> None:
        if not isinstance(node, dict):
            return self.fail(where, "an action must be an object")
        kind = node.get("type")
        if kind == "Action.OpenUrl":
            return self.fail(where, "Action.OpenUrl is not allowed on these cards")
        if kind not in ACTIONS:
            return self.fail(where, f"{kind!r} is not an Adaptive Cards 1.5 action")
        where = f"{where}<{kind}>"
        self.known(node, ACTIONS[kind], where)
        if "title" in node:
            self.string(node["title"], f"{where}.title")
        if "style" in node:
            self.enum(node["style"], ACTION_STYLES, f"{where}.style")
        if "id" in node and not in_fallback:
            self.unique_id(node["id"], where)
        data = node.get("data")
        if data is not None and not isinstance(data, dict | str):
            self.fail(where, "data must be an object or a string")
        if kind == "Action.Execute":
            verb = node.get("verb")
            if not (isinstance(verb, str) and verb):
                self.fail(where, "an Action.Execute needs a verb")
            elif not isinstance(data, dict) or data.get("verb") != verb:
                self.fail(where, f"verb {verb!r} differs from data.verb")
        elif kind == "Action.ShowCard":
            self.card(node.get("card"), f"{where}.card")
        elif kind == "Action.ToggleVisibility" and not node.get("targetElements"):
            self.fail(where, "an Action.ToggleVisibility needs targetElements")
        fallback = node.get("fallback")
        if fallback is None or fallback == "drop":
            return None
        if kind == "Action.Execute":
            if not isinstance(fallback, dict) or fallback.get("type") != "Action.Submit":
                return self.fail(where, "an Action.Execute must fall back to an Action.Submit")
            if fallback.get("data") != data:
                self.fail(where, "the fallback Action.Submit carries different data")
            if fallback.get("title") != node.get("title"):
                self.fail(where, "the fallback Action.Submit has a different title")
        self.action(fallback, f"{where}.fallback", in_fallback=True)

    # Shared checks

    def common(self, node: dict[str, Any], where: str) -> None:
        for key, allowed in ENUMS.items():
            value = node.get(key)
            if value is not None:
                self.enum(value, allowed, f"{where}.{key}")
        if "targetWidth" in node:
            self.target_width(node["targetWidth"], f"{where}.targetWidth")

    def known(self, node: dict[str, Any], allowed: set[str], where: str) -> None:
        extra = sorted(set(node) - allowed)
        if extra:
            self.fail(where, f"unknown properties {extra}")

    def enum(self, value: Any, allowed: set[str], where: str) -> None:
        if not (isinstance(value, str) and value.lower() in allowed):
            self.fail(where, f"{value!r} is not one of {sorted(allowed)}")

    def string(self, value: Any, where: str) -> None:
        if not isinstance(value, str):
            self.fail(where, f"must be a string, not {type(value).__name__}")

    def unique_id(self, value: Any, where: str) -> None:
        if not (isinstance(value, str) and value):
            self.fail(where, f"bad id {value!r}")
        elif value in self.ids:
            self.fail(where, f"id {value!r} is used twice")
        else:
            self.ids.add(value)

    def everywhere(self, card: dict[str, Any]) -> None:
        for path in _nones(card):
            self.fail(path, "None value")
        try:
            text = json.dumps(card, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            return self.fail("card", f"not JSON-serialisable: {exc}")
        again = json.loads(text)
        if again != card or json.dumps(again, ensure_ascii=False) != text:
            self.fail("card", "JSON round trip changes the card")
        size = card_bytes(card)
        if size >= MAX_CARD_BYTES:
            self.fail("card", f"{size} bytes, over the {MAX_CARD_BYTES}-byte limit")
        return None


def _nones(node: Any, where: str = "card") -> list[str]:
    """Where a value is None: hosts read `"key": null` differently, so cards never carry one."""
    if isinstance(node, dict):
        pairs = [(f"{where}.{k}", v) for k, v in node.items()]
    elif isinstance(node, list):
        pairs = [(f"{where}[{i}]", v) for i, v in enumerate(node)]
    else:
        return []
    return [path for path, v in pairs if v is None] + [
        found for path, v in pairs for found in _nones(v, path)
    ]
