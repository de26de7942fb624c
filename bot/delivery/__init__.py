"""Proactive delivery of personal messages through a durable Redis queue, paced for Teams.

The queue and the worker know nothing of the Bot Framework; `teams_sender` is the one module here
that does, so import it explicitly where the real sender is wanted.
"""

from .gate import Gate, OpenGate
from .jobs import Job, JobStatus, Recipient
from .pacing import Pace
from .queue import Outbox
from .sender import Sender, Sent
from .worker import Retry, Timing, Worker

__all__ = [
    "Gate",
    "Job",
    "JobStatus",
    "OpenGate",
    "Outbox",
    "Pace",
    "Recipient",
    "Retry",
    "Sender",
    "Sent",
    "Timing",
    "Worker",
]
