"""The board desk's `Mailer` on the delivery outbox (Redis Streams), and the outbox's `Gate` on
the board: everything the bot sends on its own is queued here, and whether its recipient may
still have it is asked of the board (dialogs/boards/audience.py) when it is sent."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from dialogs.boards.audience import BoardAudience
from dialogs.boards.ports import CHANNEL, Outcome
from dialogs.messages import Card, Text
from dialogs.store.store import stored

from . import teams
from .delivery import Job, JobStatus, Outbox, Recipient
from .delivery.jobs import FAILED, UNREACHABLE


class OutboxMailer:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def queue(
        self,
        tenant: str,
        board: str,
        batch: str,
        service_url: str,
        recipients: list[tuple[str, str]],
        message: Card | Text,
        *,
        audience: str,
        more: Sequence[Card | Text] = (),
    ) -> None:
        body = teams.message(message)
        after = tuple(teams.message(m) for m in more)
        jobs = [
            Job(
                tenant_id=tenant,
                service_url=service_url,
                recipient=Recipient(id=teams_id, name=name),
                board_id=board,
                round_id=batch,
                message=body,
                audience=audience,
                more=after,
            )
            for teams_id, name in recipients
        ]
        # All at once: a round's invitations are queued inside the clerk's click.
        await stored(partial(self.outbox.enqueue_all, jobs))

    async def post(
        self,
        tenant: str,
        board: str,
        batch: str,
        service_url: str,
        channel: str,
        message: Card | Text,
    ) -> None:
        job = Job(
            tenant_id=tenant,
            service_url=service_url,
            recipient=Recipient(""),
            board_id=board,
            round_id=batch,
            message=teams.message(message),
            conversation=channel,
            audience=CHANNEL,
        )
        await self._enqueue(job)

    async def to_role(
        self,
        tenant: str,
        board: str,
        batch: str,
        service_url: str,
        audience: str,
        messages: Sequence[Card | Text],
    ) -> None:
        first, *more = (teams.message(m) for m in messages)
        job = Job(
            tenant_id=tenant,
            service_url=service_url,
            recipient=Recipient(""),
            board_id=board,
            round_id=batch,
            message=first,
            audience=audience,
            more=tuple(more),
        )
        await self._enqueue(job)

    async def _enqueue(self, job: Job) -> None:
        await stored(partial(self.outbox.enqueue, job))

    async def outcomes(self, tenant: str, board: str, batch: str) -> list[Outcome]:
        statuses = await stored(partial(self.outbox.round_status, tenant, board, batch))
        return [outcome(status) for status in statuses]

    async def retry_failed(self, tenant: str, board: str, batch: str) -> int:
        statuses = await stored(partial(self.outbox.round_status, tenant, board, batch))
        again = 0
        for status in statuses:
            if status.state == FAILED:
                again += await stored(partial(self.outbox.requeue, status.job_id))
        return again

    async def unreachable(self, tenant: str, board: str, batches: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for batch in batches:
            statuses = await stored(partial(self.outbox.round_status, tenant, board, batch))
            for status in statuses:
                if status.state in (UNREACHABLE, FAILED) and status.reason:
                    found[status.recipient.id] = status.reason
        return found

    async def forget(self, tenant: str, board: str, batches: list[str]) -> None:
        await stored(lambda: self.outbox.forget_rounds(tenant, board, batches))


def outcome(status: JobStatus) -> Outcome:
    """A job's status as the board logic reads it."""
    return Outcome(
        state=status.state,
        to=status.conversation or status.recipient.id,
        channel=bool(status.conversation),
        reason=status.reason,
        conversation=status.conversation_id,
        activity=status.activity_id,
    )


class BoardGate:
    """The delivery worker's `Gate`: it asks the board, as it is now, before each send."""

    def __init__(self, audience: BoardAudience) -> None:
        self.audience = audience

    async def check(self, job: Job) -> str | None:
        address = "" if job.conversation else job.recipient.id
        return await self.audience.refusal(job.tenant_id, job.board_id, job.audience, address)

    async def recipients(self, job: Job) -> list[Recipient]:
        found = await self.audience.holders(job.tenant_id, job.board_id, job.audience)
        return [Recipient(id=m.teams_id, aad_object_id=m.key, name=m.name) for m in found]
