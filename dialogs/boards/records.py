"""One board's records in the store: the board store's calls with the board already named.

`BoardRecords(store, tenant, board)` is how the round service and the handlers reach a board's
data, so `(tenant, board)` is said once, where the handle is made, and never mixed up between
two boards in one call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .model import Board, Member, Plan, Round
from .store import BoardStore, RoleChange


class BoardRecords:
    def __init__(self, store: BoardStore, tenant: str, board: str) -> None:
        self.store = store
        self.tenant = tenant
        self.board_id = board

    @classmethod
    def of(cls, store: BoardStore, board: Board) -> BoardRecords:
        return cls(store, board.tenant, board.id)

    # -- the board -------------------------------------------------------------------------------

    async def board(self) -> Board | None:
        return await self.store.board(self.tenant, self.board_id)

    async def ensure(self, now: str, fields: Mapping[str, str]) -> bool:
        return await self.store.ensure(self.tenant, self.board_id, now, fields)

    async def set_card(self, activity: str) -> None:
        await self.store.set_card(self.tenant, self.board_id, activity)

    async def claim_clerk(self, clerk: Member, roster: Iterable[Member]) -> bool:
        return await self.store.claim_clerk(self.tenant, self.board_id, clerk, roster)

    async def merge_roster(self, by: str, roster: Iterable[Member]) -> int | None:
        return await self.store.merge_roster(self.tenant, self.board_id, by, roster)

    async def set_roles(self, by: str, roles: Mapping[str, str]) -> RoleChange:
        return await self.store.set_roles(self.tenant, self.board_id, by, roles)

    async def add_members(self, people: Iterable[Member]) -> list[str]:
        return await self.store.add_members(self.tenant, self.board_id, people)

    async def remove_members(self, ids: Iterable[str]) -> list[Member]:
        return await self.store.remove_members(self.tenant, self.board_id, ids)

    async def detach(self, now: str) -> bool:
        return await self.store.detach(self.tenant, self.board_id, now)

    async def delete(self) -> int:
        return await self.store.delete_board(self.tenant, self.board_id)

    # -- its rounds ------------------------------------------------------------------------------

    async def round(self, round_id: str) -> Round | None:
        return await self.store.round(self.tenant, self.board_id, round_id)

    async def rounds(self) -> list[str]:
        return await self.store.rounds(self.tenant, self.board_id)

    async def open_round(self) -> Round | None:
        round_id = await self.store.open_round_id(self.tenant, self.board_id)
        return await self.round(round_id) if round_id else None

    async def start_round(self, rnd: Round) -> str | None:
        return await self.store.open_round(self.tenant, self.board_id, rnd)

    async def while_open(self, round_id: str, fields: Mapping[str, str]) -> bool:
        return await self.store.while_open(self.tenant, self.board_id, round_id, fields)

    async def update_round(self, round_id: str, fields: Mapping[str, str]) -> None:
        await self.store.update_round(self.tenant, self.board_id, round_id, fields)

    async def close_round(self, round_id: str, now: str, by: str, todo: Iterable[str] = ()) -> bool:
        return await self.store.close_round(self.tenant, self.board_id, round_id, now, by, todo)

    async def steps_turn(self, round_id: str, token: str) -> bool:
        return await self.store.steps_turn(self.tenant, self.board_id, round_id, token)

    async def end_steps_turn(self, round_id: str, token: str) -> None:
        await self.store.end_steps_turn(self.tenant, self.board_id, round_id, token)

    async def done(self, round_id: str, steps: Iterable[str]) -> None:
        await self.store.done(self.tenant, self.board_id, round_id, steps)

    async def count_resume(self, round_id: str) -> int:
        return await self.store.count_resume(self.tenant, self.board_id, round_id)

    async def mark_open(self, round_id: str, field: str, value: str) -> bool:
        return await self.store.mark_open(self.tenant, self.board_id, round_id, field, value)

    async def unmark(self, round_id: str, field: str) -> None:
        await self.store.unmark(self.tenant, self.board_id, round_id, field)

    async def mark_once(self, round_id: str, field: str, value: str) -> bool:
        return await self.store.mark_once(self.tenant, self.board_id, round_id, field, value)

    async def invite_late(self, round_id: str, member: Member) -> bool:
        return await self.store.invite_late(self.tenant, self.board_id, round_id, member)

    async def count_reminder(self, round_id: str, seen: int) -> int | None:
        return await self.store.count_reminder(self.tenant, self.board_id, round_id, seen)

    async def save_plan(
        self, round_id: str, version: int, plan: Mapping[int, Plan], published: str | None
    ) -> int | None:
        return await self.store.save_plan(
            self.tenant, self.board_id, round_id, version, plan, published
        )

    async def delete_round(self, round_id: str) -> None:
        await self.store.delete_round(self.tenant, self.board_id, round_id)

    # -- the clerk's live round card -------------------------------------------------------------

    async def card_stale(self, round_id: str) -> None:
        await self.store.card_stale(self.tenant, self.board_id, round_id)

    async def take_card_stale(self, round_id: str) -> bool:
        return await self.store.take_card_stale(self.tenant, self.board_id, round_id)

    async def card_turn(self, round_id: str, token: str) -> bool:
        return await self.store.card_turn(self.tenant, self.board_id, round_id, token)

    async def end_card_turn(self, round_id: str, token: str) -> None:
        await self.store.end_card_turn(self.tenant, self.board_id, round_id, token)
