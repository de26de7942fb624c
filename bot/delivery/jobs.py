"""What a delivery job is and what became of it.

Where jobs live in Redis, and what a job id is: dialogs/store/keys.py. Jobs of one board share the
board's hash tag, so every update of a job is one atomic script in one Redis Cluster slot, and
deleting the board deletes its delivery records.
Times are Redis server time in milliseconds, so processes with skewed clocks agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialogs.store.keys import job_id_for

QUEUED = "queued"
RETRYING = "retrying"
DELIVERED = "delivered"
UNREACHABLE = "unreachable"
FAILED = "failed"
FINAL_STATES = frozenset({DELIVERED, UNREACHABLE, FAILED})

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
    """One personal message to one trustee; `message` is an Activity as plain JSON."""

    tenant_id: str
    service_url: str
    recipient: Recipient
    board_id: str
    round_id: str
    message: dict[str, Any] = field(default_factory=dict)

    @property
    def job_id(self) -> str:
        return job_id_for(self.tenant_id, self.board_id, self.round_id, self.recipient.id)

    def problems(self) -> list[str]:
        """Why this job cannot be queued; empty when it can."""
        found = []
        for name in ("tenant_id", "board_id", "round_id"):
            if not getattr(self, name):
                found.append(f"{name} is empty")
        if not self.recipient.id:
            found.append("recipient.id (the Teams user id) is empty")
        if not self.service_url.startswith(("https://", "http://")):
            found.append("service_url must be an http(s) URL")
        if not isinstance(self.message, dict):
            found.append("message must be a JSON object (an Activity)")
            return found
        if self.message.get("type", "message") != "message":
            found.append("message must be an Activity of type 'message'")
        if not self.message.get("text") and not self.message.get("attachments"):
            found.append("message has neither text nor attachments")
        if len(json.dumps(self.message).encode()) > MAX_MESSAGE_BYTES:
            found.append(f"message is larger than {MAX_MESSAGE_BYTES} bytes")
        return found


@dataclass(frozen=True)
class JobStatus:
    """What became of a job, as the round logic sees it."""

    job_id: str
    state: str  # queued, retrying, delivered, unreachable, failed
    round_id: str
    recipient: Recipient
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


def from_ms(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)
