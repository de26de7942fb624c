"""The board's own card in its channel, and its roster from Teams: what every board part shares."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from frameworks import Framework

from .. import clock
from ..cards import Notice
from ..messages import Card, Place
from . import cards as board_cards
from . import membership
from .detached_card import detached_card
from .model import CHAIR, CLERK, TRUSTEE, Board, Member
from .ports import RosterMember, Teams, TeamsError
from .records import BoardRecords
from .rules import RoundRules
from .store import BoardStore

log = logging.getLogger("trustboard.boards")


def member_of_roster(found: RosterMember) -> Member:
    return Member(key=found.key, teams_id=found.teams_id, name=found.name or "A member")


class BoardService:
    def __init__(
        self,
        boards: BoardStore,
        frameworks: Mapping[str, Framework],
        teams: Teams,
        mode: str,
        rules: RoundRules,
    ) -> None:
        self.boards = boards
        self.frameworks = frameworks
        self.teams = teams
        self.mode = mode
        self.rules = rules

    def records(self, board: Board) -> BoardRecords:
        return BoardRecords.of(self.boards, board)

    async def card(
        self, board: Board, notice: Notice | None = None, viewer: Member | None = None
    ) -> Card:
        """The board card as `viewer` sees it (their role's buttons); with no viewer, as posted
        in the channel for everyone, Teams refreshing it for the clerks and the chair."""
        rnd = await self.records(board).open_round()
        if board.detached:
            days = self.rules.detached_retention_days
            forget_on = clock.iso(membership.forget_at(board.detached, days))
            return detached_card(board, rnd, self.frameworks, self.mode, forget_on, notice)
        view = viewer.role if viewer is not None and viewer.role in (CLERK, CHAIR) else TRUSTEE
        return board_cards.board_card(
            board,
            rnd,
            self.frameworks,
            self.mode,
            notice=notice,
            view=view,
            refresh_ids=_runners(board),
        )

    async def refresh_card(self, board: Board) -> None:
        """Everyone in the channel sees the board as it is now."""
        fresh = await self.records(board).board() or board
        if not fresh.card or fresh.detached:
            return  # detached: the bot is no longer in the team, and updates nothing there
        try:
            await self.teams.update(
                fresh.service_url, fresh.channel, fresh.card, await self.card(fresh)
            )
        except TeamsError as exc:
            log.info("could not update the board card: %s", exc.brief())

    async def roster(self, board: Board, place: Place | None) -> list[Member]:
        service_url = place.service_url if place else board.service_url
        found = await self.teams.roster(service_url, board.id)
        return [member_of_roster(m) for m in found]


def _runners(board: Board) -> list[str]:
    """Whose view of the board card has buttons: its clerks, then its chair (at most 60)."""
    clerks = [m.teams_id for m in board.clerks if m.teams_id]
    chair = [board.chair.teams_id] if board.chair and board.chair.teams_id else []
    return [*clerks, *chair][:60]
