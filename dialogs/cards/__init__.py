"""Adaptive Cards 1.5 for the walkthrough, rendered from Jinja2 templates."""

from .build import (
    EVIDENCE_MAX,
    NOT_KEPT,
    Notice,
    board_name,
    day,
    element_card,
    paused_card,
    results_card,
    review_card,
    superseded_card,
    welcome_card,
)
from .render import MAX_CARD_BYTES, card_bytes

__all__ = [
    "EVIDENCE_MAX",
    "MAX_CARD_BYTES",
    "NOT_KEPT",
    "Notice",
    "board_name",
    "card_bytes",
    "day",
    "element_card",
    "paused_card",
    "results_card",
    "review_card",
    "superseded_card",
    "welcome_card",
]
