"""Time, one way everywhere: moments are stored as ISO 8601 in UTC ("2025-03-01T09:30:00Z"), and
days are set and read in the board's time zone (ROUND_TIMEZONE, Europe/London unless configured).

A deadline is the end of its day in that zone, and every date a person reads is that zone's
date, so a deadline of 31 March in New York (04:59:59 UTC on 1 April) reads "31 March".
The zone is configured once per process, from the settings, before any turn is handled.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Europe/London"
END_OF_DAY = time(23, 59, 59)

_zone = ZoneInfo(DEFAULT_ZONE)


def use_zone(name: str) -> str:
    """Set the zone deadlines and dates are in; returns the zone it replaces."""
    global _zone
    before = _zone.key
    _zone = ZoneInfo(name)
    return before


def zone() -> ZoneInfo:
    return _zone


def zone_label() -> str:
    """How a card names the zone: "UK time", "New York time", "UTC"."""
    if _zone.key in ("Europe/London", "GB"):
        return "UK time"
    if _zone.key in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
        return "UTC"
    place = _zone.key.rsplit("/", 1)[-1].replace("_", " ")
    return f"{place} time"


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A moment as stored: UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    """A stored moment back (or a bare date, as midnight UTC)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_date(value: str | datetime) -> date:
    """The day a stored moment falls on in the board's zone (a bare date is that date)."""
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    moment = parse_iso(value) if isinstance(value, str) else value
    return moment.astimezone(_zone).date()


def today(moment: datetime) -> date:
    return local_date(moment)


def end_of_day(day: date) -> datetime:
    """A deadline is the end of its day where the board is."""
    return datetime.combine(day, END_OF_DAY, _zone)


def day(value: str | None) -> str:
    """A stored moment as a person reads its day: "1 March 2025" ("" for none)."""
    if not value:
        return ""
    found = local_date(value)
    return f"{found.day} {found:%B %Y}"
