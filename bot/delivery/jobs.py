"""What a delivery job is, what became of it, and where it lives in Redis.

Key layout (prefix `p`, default `tb`; ids percent-encoded as in dialogs/store/keys.py):

    p:{t:<tenant>:b:<board>}:dq:job:<digest>   hash    one job: its payload (tenant, board, round,
                                                       service_url, recipient JSON, message JSON)
                                                       and its outcome (state, attempts, next_at,
                                                       reason, error, activity_id, conversation_id,
                                                       enqueued, updated), plus the lease of the
                                                       attempt in flight (owner, lease) and
                                                       `streamed` once it is on the stream
    p:{t:<tenant>:b:<board>}:dq:round:<round>  zset    job ids of one round by enqueue time (ms)
    p:{dq}:stream                              stream  work items {job: <job id>}; group "senders"
    p:{dq}:due                                 zset    job id -> time (ms) a retry is due
    p:{dq:t:<tenant>}:rate                     zset    sliding log of the tenant's recent sends
    p:{dq:t:<tenant>}:rate:u:<user>            zset    sliding log of recent sends to one person
    p:{dq:t:<tenant>}:hold                     string  present (with a TTL) while Teams has
                                                       throttled the tenant (429 Retry-After)

Jobs of one board share the board's hash tag, so every update of a job is one atomic script in one
Redis Cluster slot. The stream and the due set share `{dq}`, so promoting a due retry onto the
stream is atomic too; a tenant's rate logs and hold share `{dq:t:<tenant>}`, so one script checks
them all.
Times are Redis server time in milliseconds, so processes with skewed clocks agree.

A job id is `<tenant>/<board>/<digest>`, the first two percent-encoded (so neither holds a `/`),
the digest a hash of (round id, recipient's Teams user id): enqueueing the same person for the
same round twice names the same job.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from dialogs.store.keys import key_part

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


def job_id_for(tenant_id: str, board_id: str, round_id: str, recipient_id: str) -> str:
    digest = hashlib.sha256(f"{round_id}\0{recipient_id}".encode()).hexdigest()[:32]
    return f"{key_part(tenant_id)}/{key_part(board_id)}/{digest}"


def split_job_id(job_id: str) -> tuple[str, str, str]:
    """(tenant, board, digest) of a job id; ValueError if it is not one."""
    parts = job_id.split("/")
    if len(parts) != 3 or not all(parts) or len(parts[2]) != 32:
        raise ValueError(f"not a delivery job id: {job_id!r}")
    return unquote(parts[0]), unquote(parts[1]), parts[2]


class DeliveryKeys:
    def __init__(self, prefix: str = "tb") -> None:
        self.prefix = prefix
        self.stream = f"{prefix}:{{dq}}:stream"
        self.due = f"{prefix}:{{dq}}:due"

    def board(self, tenant_id: str, board_id: str) -> str:
        return f"{self.prefix}:{{t:{key_part(tenant_id)}:b:{key_part(board_id)}}}"

    def job(self, job_id: str) -> str:
        tenant_id, board_id, digest = split_job_id(job_id)
        return f"{self.board(tenant_id, board_id)}:dq:job:{digest}"

    def round(self, tenant_id: str, board_id: str, round_id: str) -> str:
        return f"{self.board(tenant_id, board_id)}:dq:round:{key_part(round_id)}"

    def tenant_rate(self, tenant_id: str) -> str:
        return f"{self.prefix}:{{dq:t:{key_part(tenant_id)}}}:rate"

    def recipient_rate(self, tenant_id: str, recipient_id: str) -> str:
        return f"{self.tenant_rate(tenant_id)}:u:{key_part(recipient_id)}"

    def tenant_hold(self, tenant_id: str) -> str:
        return f"{self.prefix}:{{dq:t:{key_part(tenant_id)}}}:hold"


def from_ms(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)
