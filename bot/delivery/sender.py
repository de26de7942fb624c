"""The seam between the queue and whatever posts to Teams, with no Bot Framework types in it.

A sender either returns `Sent` or raises `TeamsError` (the board port's one Teams error type)
carrying the HTTP status (None for a connection error or a timeout), the service's error code and
any Retry-After. The worker decides from those alone what happens next, so the same decisions
hold for the real and a fake sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from dialogs.boards.ports import TeamsError

from .jobs import Job

ASK_TO_OPEN = "ask them to open a chat with trustboard"
REASON_BLOCKED = (
    "Not reachable: they have blocked or removed trustboard in Teams; "
    f"{ASK_TO_OPEN} (or to unblock it)."
)
REASON_NOT_IN_ROSTER = (
    "Not reachable: trustboard is not installed for them (they may have left the team); "
    f"check they are in the board's team and {ASK_TO_OPEN}."
)
REASON_DISABLED = (
    "Not reachable: your Teams administrator has turned trustboard off for them; "
    "ask your IT team to allow trustboard for this person."
)
REASON_FORBIDDEN = f"Not reachable: they may have blocked the bot or left the team; {ASK_TO_OPEN}."
REASON_NOT_FOUND = (
    "Not reachable: Teams could not find them or a chat with them (they may have left the "
    f"organisation or the team); check they are still a member and {ASK_TO_OPEN}."
)

CHANNEL_NOT_IN_TEAM = (
    "Not posted: Teams says trustboard is no longer in the board's team (it may have been "
    "removed from it); ask the team's owner to add trustboard to the team again."
)
CHANNEL_NOT_FOUND = (
    "Not posted: Teams could not find the board's channel (it may have been deleted); mention "
    "trustboard with board in the channel the board uses now."
)


@dataclass(frozen=True)
class Sent:
    conversation_id: str
    activity_id: str


class Sender(Protocol):
    async def open_chat(self, job: Job) -> str:
        """Open (or find) the bot's 1:1 chat with `job.recipient`: one request. Its id; raise
        TeamsError if refused."""
        ...

    async def send(self, job: Job, chat: str = "") -> Sent:
        """Post `job.message` into `job.conversation`, or into `chat` (the recipient's 1:1 chat,
        open already): one request. With neither, the chat is opened first. Raise TeamsError if
        refused."""
        ...


def unreachable_reason(error: TeamsError, *, channel: bool = False) -> str:
    """What a clerk can do about a 403 or 404, from the codes Teams uses."""
    if channel:
        return CHANNEL_NOT_FOUND if error.status == 404 else CHANNEL_NOT_IN_TEAM
    text = f"{error.code} {error}".lower()
    if error.status == 404:
        return REASON_NOT_FOUND
    if "blocked" in text or "messagewritesblocked" in text:
        return REASON_BLOCKED
    if "roster" in text:
        return REASON_NOT_IN_ROSTER
    if "disabled" in text:
        return REASON_DISABLED
    return REASON_FORBIDDEN


def failed_reason(error: TeamsError, attempts: int) -> str:
    """Plain English for a job that will not be tried again."""
    if error.retryable:
        return (
            f"Not delivered: Teams did not accept the message after {attempts} attempts "
            f"({error.summary()}); try sending again later."
        )
    if error.status == 401:
        return (
            "Not delivered: Teams refused trustboard's credentials (HTTP 401); "
            "ask your IT team to check the bot's app id and password."
        )
    return f"Not delivered: Teams refused the message ({error.summary()})."


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
