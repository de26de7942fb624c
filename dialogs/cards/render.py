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


class CardTooLarge(ValueError):
    pass


def _json(value: Any) -> Markup:
    # Macro output is already JSON (Markup); everything else is encoded here.
    return value if isinstance(value, Markup) else Markup(json.dumps(value, ensure_ascii=False))


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=_json,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def card_bytes(card: dict[str, Any]) -> int:
    return len(json.dumps(card).encode("utf-8"))


def render(template: str, **context: Any) -> dict[str, Any]:
    text = _environment().get_template(template).render(**context)
    card = json.loads(text)
    size = card_bytes(card)
    if size >= MAX_CARD_BYTES:
        raise CardTooLarge(f"{template} rendered {size} bytes; the limit is {MAX_CARD_BYTES}")
    return card
