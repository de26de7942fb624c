"""What a delivery job is and what became of it.

Where jobs live in Redis, and what a job id is: dialogs/store/keys.py. Jobs of one board share the
board's hash tag, so every update of a job is one atomic script in one Redis Cluster slot, and
deleting the board deletes its delivery records.
Times are Redis server time in milliseconds, so processes with skewed clocks agree.

A job is one of three kinds:
- personal: to one person's 1:1 chat (created if need be), e.g. a trustee's invitation;
- channel: into a conversation the bot is in already (`conversation`: the board's channel);
- role: to whoever holds a role on the board when it is sent (`audience`, e.g. the chair, or the
  clerks while there is no chair). The worker asks the board (its `Gate`) who that is and
  queues one personal job for each of them, which is what is then sent.
A personal or channel job with an `audience` is sent only if the board still says, at that
moment, that the recipient may have it (see gate.py); otherwise it is dropped, not sent.
A job carries one message or several (`more`), posted in order; each one posted is recorded on
the job hash (`part:<n>`), so a retry after a crash posts only those that were not.
A job's address, hashed into its id with its batch, is the recipient's Teams user id, or
`#<conversation>` for a channel post, or `@<audience>` for a role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from dialogs.store.keys import job_id_for

QUEUED = "queued"
RETRYING = "retrying"
DELIVERED = "delivered"
UNREACHABLE = "unreachable"
FAILED = "failed"
DROPPED = "dropped"  # not sent: the recipient was no longer entitled to it when its turn came
FORWARDED = "forwarded"  # a role job, handed on as one personal job to each holder of the role
FINAL_STATES = frozenset({DELIVERED, UNREACHABLE, FAILED, DROPPED, FORWARDED})

PERSONAL = "personal"
CHANNEL = "channel"
ROLE = "role"

MAX_MESSAGE_BYTES = 40_000  # Teams refuses far smaller cards (about 28 KB); this catches mistakes


@dataclass(frozen=True)
class Recipient:
    id: str  # the Teams user id (29:…), which create-conversation needs
    aad_object_id: str = ""
    name: str = ""

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "aadObjectId": self.aad_object_id, "name": self.name})

    @classmethod
    def from_json(cls, raw: str) -> Recipient:
        data = json.loads(raw)
        return cls(data["id"], data.get("aadObjectId", ""), data.get("name", ""))


@dataclass(frozen=True)
class Job:
    """One message (or a few, in order) for one person, one conversation or one role on a board;
    each message is an Activity as plain JSON. `round_id` names the batch it belongs to."""

    tenant_id: str
    service_url: str
    recipient: Recipient
    board_id: str
    round_id: str
    message: dict[str, Any] = field(default_factory=dict)
    conversation: str = ""  # a channel post: post here, not in a 1:1 chat
    audience: str = ""  # who may have it, asked of the board when it is sent ("" = anyone)
    more: tuple[dict[str, Any], ...] = ()  # further messages, posted after `message`, in order
    parent: str = ""  # the role job this personal job was handed on from

    @property
    def kind(self) -> str:
        if self.conversation:
            return CHANNEL
        return PERSONAL if self.recipient.id else ROLE

    @property
    def address(self) -> str:
        """What the job is for: a Teams user id, `#<conversation>` or `@<audience>`."""
        if self.conversation:
            return f"#{self.conversation}"
        return self.recipient.id or f"@{self.audience}"

    @property
    def job_id(self) -> str:
        return job_id_for(self.tenant_id, self.board_id, self.round_id, self.address)

    @property
    def parts(self) -> tuple[dict[str, Any], ...]:
        return (self.message, *self.more)

    def part(self, index: int) -> Job:
        """The same job with only its `index`th message, as a sender posts it."""
        return replace(self, message=self.parts[index], more=())

    def handed_to(self, recipient: Recipient) -> Job:
        """The personal job a role job becomes for one holder of the role."""
        return replace(self, recipient=recipient, parent=self.job_id)

    def problems(self, checked: set[int] | None = None) -> list[str]:
        """Why this job cannot be queued; empty when it can. `checked`: the id()s of messages
        already found fine (many jobs of a batch share one), which are not measured again."""
        found = []
        for name in ("tenant_id", "board_id", "round_id"):
            if not getattr(self, name):
                found.append(f"{name} is empty")
        if not self.recipient.id and not self.conversation and not self.audience:
            found.append("recipient.id (the Teams user id) is empty")
        if self.conversation and self.recipient.id:
            found.append("a channel post has no personal recipient")
        if not self.service_url.startswith(("https://", "http://")):
            found.append("service_url must be an http(s) URL")
        if not all(isinstance(part, dict) for part in self.parts):
            found.append("message must be a JSON object (an Activity)")
            return found
        for part in self.parts:
            if checked is not None and id(part) in checked:
                continue
            wrong = _message_problems(part)
            if not wrong and checked is not None:
                checked.add(id(part))
            found += wrong
        return found


def _message_problems(message: dict[str, Any]) -> list[str]:
    found = []
    if message.get("type", "message") != "message":
        found.append("message must be an Activity of type 'message'")
    if not message.get("text") and not message.get("attachments"):
        found.append("message has neither text nor attachments")
    if len(json.dumps(message).encode()) > MAX_MESSAGE_BYTES:
        found.append(f"message is larger than {MAX_MESSAGE_BYTES} bytes")
    return found


@dataclass(frozen=True)
class JobStatus:
    """What became of a job, as the round logic sees it."""

    job_id: str
    state: str  # queued, retrying, delivered, unreachable, failed, dropped, forwarded
    round_id: str
    recipient: Recipient
    conversation: str = ""  # for a channel post: where it goes
    audience: str = ""
    parent: str = ""
    attempts: int = 0
    next_at: datetime | None = None  # when retrying: when the next attempt is due
    activity_id: str | None = None  # when delivered
    conversation_id: str | None = None  # when delivered
    reason: str | None = None  # when unreachable or failed: plain English for the clerk
    error: str | None = None  # the last connector error, for operators
    updated: datetime | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def kind(self) -> str:
        if self.conversation:
            return CHANNEL
        return PERSONAL if self.recipient.id else ROLE


def from_ms(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)
