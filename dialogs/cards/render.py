"""Adaptive Cards from Jinja2 templates.

Every `{{ value }}` in a template is JSON-encoded by the environment itself (`finalize`), so
a quote, backslash, brace or newline in a trustee's evidence can never break a card's JSON or
add an action to it: a template cannot forget to escape. Text that people typed is shown in
`TextRun`s, which hosts do not read as markdown, so it cannot become a link either.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

TEMPLATES = Path(__file__).parent / "templates"
# Teams refuses messages over about 28 KB; measured with non-ASCII escaped, as it travels.
MAX_CARD_BYTES = 27_000


# Buttons are laid out for the narrowest screen a card meets, a phone: Teams draws a row of
# buttons that does not fit with every title cut short ("R…", "Ambe…"), never on two lines.
PHONE_ROW_PX = 328  # a 360 px screen less the card's padding
BUTTON_PX = 34  # a button's padding and border, and the gap to the next
CHAR_PX = 8.5  # an average character of a button title at Teams' default size, a little over
MENU_PX = 16  # the chevron of a button that opens a card (Action.ShowCard)


class CardTooLarge(ValueError):
    pass


def button_rows(actions: list[Any]) -> list[Markup]:
    """The actions, as JSON arrays, in the fewest rows of near-equal length that fit a phone.

    An action is a dict, or JSON a template has already written (a Markup string).
    """
    pieces = [_json(action) for action in actions]
    widths = [_button_width(json.loads(piece)) for piece in pieces]
    return [_row(pieces[a:b]) for a, b in _rows(widths)]


def action_rows(actions: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """`button_rows` for a card built as data: the actions themselves, row by row."""
    return [actions[a:b] for a, b in _rows([_button_width(a) for a in actions])]


def _rows(widths: list[float]) -> list[tuple[int, int]]:
    for count in range(1, len(widths) + 1):
        bounds = _split(len(widths), count)
        # One button a row is the last resort: a title too long for a phone is cut there too.
        if count == len(widths) or all(sum(widths[a:b]) <= PHONE_ROW_PX for a, b in bounds):
            return bounds
    return []  # no actions


def _row(pieces: list[Markup]) -> Markup:
    return Markup("[" + ", ".join(pieces) + "]")


def _split(length: int, count: int) -> list[tuple[int, int]]:
    size, extra = divmod(length, count)
    bounds: list[tuple[int, int]] = []
    start = 0
    for index in range(count):
        end = start + size + (index < extra)
        bounds.append((start, end))
        start = end
    return bounds


def _button_width(action: dict[str, Any]) -> float:
    menu = MENU_PX if action.get("type") == "Action.ShowCard" else 0
    return len(action.get("title", "")) * CHAR_PX + BUTTON_PX + menu


def _json(value: Any) -> Markup:
    # Macro output is already JSON (Markup); everything else is encoded here.
    return value if isinstance(value, Markup) else Markup(json.dumps(value, ensure_ascii=False))


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=_json,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["button_rows"] = button_rows
    return environment


def card_bytes(card: dict[str, Any]) -> int:
    return len(json.dumps(card).encode("utf-8"))


def sized(name: str, card: dict[str, Any]) -> str:
    """The card as JSON, as it travels (non-ASCII escaped, so a character's bytes are its
    length); CardTooLarge if it is over the limit. One encoding serves to measure and to send."""
    return checked(name, json.dumps(card))


def checked(name: str, text: str) -> str:
    """A card's JSON as json.dumps wrote it (ASCII); CardTooLarge if over the limit."""
    if len(text) >= MAX_CARD_BYTES:
        raise CardTooLarge(f"{name} rendered {len(text)} bytes; the limit is {MAX_CARD_BYTES}")
    return text


def render(template: str, **context: Any) -> dict[str, Any]:
    text = _environment().get_template(template).render(**context)
    card: dict[str, Any] = json.loads(text)
    sized(template, card)
    return card
