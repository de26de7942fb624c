"""Board-wide rounds: every trustee answers the same walkthrough; the board sees the summary."""

from .cards import round_summary_card
from .summary import (
    BoardDomainRow,
    BoardPriority,
    ElementSummary,
    Evidence,
    Response,
    RoundSettings,
    RoundSummary,
    board_rating,
    summarise,
    views_differ,
)

__all__ = [
    "BoardDomainRow",
    "BoardPriority",
    "ElementSummary",
    "Evidence",
    "Response",
    "RoundSettings",
    "RoundSummary",
    "board_rating",
    "round_summary_card",
    "summarise",
    "views_differ",
]
