"""The question a worker asks just before it sends: may this still go, and to whom?

Who may receive a board's message is decided when it is sent, not when it was queued: a chair
removed from the board between the two receives nothing attributed, and a message for "the
chair" goes to whoever holds that role then. The worker asks a `Gate` (the bot wires in one that
reads the board; see bot/mailer.py) and never decides this itself.

- `check(job)`: None to send it; otherwise why not, in plain English (the job is then dropped).
  Asked of personal and channel jobs that have an `audience`, before each message is posted.
- `recipients(job)`: who holds the role of a role job now; the worker queues one personal job
  for each of them (with the same audience, so each is checked again when it is sent).
"""

from __future__ import annotations

from typing import Protocol

from .jobs import Job, Recipient

NOBODY = "Not sent: nobody on the board holds that role now."


class Gate(Protocol):
    async def check(self, job: Job) -> str | None: ...

    async def recipients(self, job: Job) -> list[Recipient]: ...


class OpenGate:
    """Everything may go; a role has nobody. For tests and tools that have no board."""

    async def check(self, job: Job) -> str | None:
        return None

    async def recipients(self, job: Job) -> list[Recipient]:
        return []
