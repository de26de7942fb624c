"""The rules a board's rounds run by, from the settings (ROUND_* and BOARD_* variables)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .. import clock


@dataclass(frozen=True)
class RoundRules:
    reminder_before: timedelta = timedelta(hours=48)
    timezone: str = clock.DEFAULT_ZONE  # deadlines are set and dates shown in this zone
    longest: timedelta = timedelta(days=366)  # the latest deadline a round may have
    retention_days: int | None = 730  # a closed round is deleted this long after; None: kept
    detached_retention_days: int = 30  # a board the bot was removed from is deleted this long after
