"""The board desk's `Mailer`: personal messages go through the delivery outbox (Redis Streams)."""

from __future__ import annotations

from functools import partial

from dialogs.messages import Card
from dialogs.store.store import stored

from . import teams
from .delivery import Job, Outbox, Recipient
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
        message: Card,
    ) -> None:
        body = teams.message(message)
        for teams_id, name in recipients:
            job = Job(
                tenant_id=tenant,
                service_url=service_url,
                recipient=Recipient(id=teams_id, name=name),
                board_id=board,
                round_id=batch,
                message=body,
            )
            await stored(partial(self.outbox.enqueue, job))

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
