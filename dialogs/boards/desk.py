"""The board desk: setting a board up, its roles, and its rounds, one handler per card verb.

Clerks set the board up and run rounds; the chair agrees the priorities; trustees answer through
the walkthrough (dialogs/engine.py), which asks the desk whether they may join a round. Every
handler finds the board from the turn's own tenant and checks the person's role on the server:
a card's data is untrusted input, and a tampered or stale one changes nothing and says why.

    bot added to a team ──► set-up card ──board.setup──► board card (the clicker is the clerk)
    board card ──roles.show / roles.save──► roles (clerks only)
    board card ──round.new──► choose framework ──round.form──► form ──round.open──► round card
    round card ──round.remind / round.extend / round.status──► round card (updated in place)
    round card ──round.close (or the deadline)──► summary to the channel and to the chair
    chair's plan card ──plan.save / plan.publish──► agreed priorities in the channel
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from frameworks import Framework

from .. import clock
from ..cards import Notice
from ..engine import Joined
from ..failures import failure
from ..messages import Card, Place, Reply, Text, Turn
from ..payloads import Tampered
from ..refusals import NOT_SAVED, TAMPERED, UNKNOWN_BUTTON, Refusal
from ..state import Assessment, RoundLink, Who
from ..store import Store, StoreUnavailable
from . import board_steps, data_steps, joiners, membership, round_steps
from . import cards as board_cards
from .board_service import BoardService
from .context import DeskContext, Handler
from .links import SharedLinks
from .model import CLERK, Board, Member
from .payloads import BOARD, OnBoard
from .ports import Mailer, Outcome, Teams, TeamsError
from .records import BoardRecords
from .round_service import RoundService
from .rules import RoundRules
from .store import BoardStore

log = logging.getLogger("trustboard.boards")

VERBS: dict[str, Handler] = {
    **board_steps.VERBS,
    **round_steps.VERBS,
    **data_steps.VERBS,
    **joiners.VERBS,
}
# What a clerk can still do once the bot has been removed from the board's team: finish the open
# round privately, and take the board's data away or delete it.
DETACHED_VERBS = {
    "board.show",
    "round.status",
    "round.close",
    "summary.show",
    "plan.save",
    "data.show",
    "data.export",
    "data.delete",
}
DETACHED = (
    "I've been removed from this board's team, so I can't do that and nothing was changed. "
    "You can still close an open round (its summary comes to you privately), export the "
    "board's data or delete it. Add me back to the team to carry on as before."
)
PREFIXES = {verb.split(".")[0] for verb in VERBS}
CHANNEL_WORDS = {"board", "set up", "setup", "help", "hi", "hello", "menu", "round", "rounds"}
IN_PRIVATE = (
    "I run each trustee's self-assessment in a private chat, so your answers stay yours: open a "
    "chat with me (select my name, then Chat) and type start. Here in the channel, mention me "
    "with board to see the board's card."
)
GROUP_CHAT = (
    "I work with a board in its team's channel, and with each trustee in a 1:1 chat. Add me to "
    "the board's team to set it up."
)


def _board_fields(place: Place) -> dict[str, str]:
    return {
        "name": place.team_name,
        "service_url": place.service_url,
        # A reply in a channel thread has ";messageid=…" after the channel's id.
        "channel": place.conversation.split(";")[0] if place.kind == "channel" else "",
    }


class Desk:
    def __init__(
        self,
        boards: BoardStore,
        store: Store,
        frameworks: Mapping[str, Framework],
        teams: Teams,
        mailer: Mailer,
        agenda: Any,
        mode: str = "execute",
        rules: RoundRules | None = None,
        links: SharedLinks | None = None,
    ) -> None:
        self.boards = boards
        self.store = store
        self.frameworks = dict(frameworks)
        self.teams = teams
        self.mailer = mailer
        self.agenda = agenda
        self.mode = mode
        self.rules = rules or RoundRules()
        clock.use_zone(self.rules.timezone)  # one desk a process, built from the settings
        self.board_service = BoardService(boards, self.frameworks, teams, mode, self.rules)
        self.rounds = RoundService(
            boards,
            store,
            self.frameworks,
            teams,
            mailer,
            agenda,
            self.board_service,
            mode=mode,
            rules=self.rules,
            links=links,
            roster=lambda board, now: membership.refresh(self, board, now),
        )

    @property
    def links(self) -> SharedLinks | None:
        return self.rounds.links

    # -- entry points ------------------------------------------------------------------------------

    def handles(self, turn: Turn) -> bool:
        """Board verbs, and anything said in a team's channel or a group chat."""
        if turn.action is not None:
            return turn.action.verb.split(".")[0] in PREFIXES
        return turn.place is not None and not turn.place.personal

    async def handle(self, turn: Turn) -> Reply:
        try:
            if turn.action is None:
                return await self._typed(turn)
            handler = VERBS.get(turn.action.verb)
            if handler is None:
                raise Refusal(UNKNOWN_BUTTON)
            ctx = await self._context(turn)
            if ctx.board.detached and turn.action.verb not in DETACHED_VERBS:
                raise Refusal(DETACHED)
            return await handler(ctx)
        except Refusal as refusal:
            return refusal.reply
        except Tampered:
            return Refusal(TAMPERED).reply
        except StoreUnavailable as exc:
            log.warning("store unavailable: %s", failure(exc))
            return Refusal(NOT_SAVED).reply
        except TeamsError as exc:
            log.warning("Teams refused a call: %s", exc.brief())
            return Reply(
                send=[Text("Teams did not answer me just now, so please try again in a moment.")]
            )

    async def added(self, turn: Turn) -> None:
        """The bot was added to a team: remember the board and post its set-up card there."""
        place = turn.place
        if place is None or not place.team:
            return
        tenant, board_id = turn.who.tenant, place.team
        await membership.reattach(self, tenant, board_id)
        await self.boards.ensure(tenant, board_id, clock.iso(turn.now), _board_fields(place))
        board = await self.boards.board(tenant, board_id)
        if board is None:
            return
        board = await self._named(board, place, turn)
        if board.set_up:
            card = await self.board_card(board)
        else:
            card = board_cards.setup_card(board.name or "this board", board.id, self.mode)
        posted = await self.teams.post(place.service_url, board.channel, card)
        await self.boards.set_card(tenant, board_id, posted.activity)

    async def team_event(self, event: membership.TeamEvent) -> None:
        """Someone joined or left the team, it was renamed, or the bot was removed or added back:
        the board follows at once (see dialogs/boards/membership.py)."""
        await membership.apply(self, event)

    async def _typed(self, turn: Turn) -> Reply:
        place = turn.place
        if place is None or place.personal:
            return await self._my_boards(turn)
        if not place.team:
            return Reply(send=[Text(GROUP_CHAT)])
        if " ".join(turn.text.lower().split()).strip(" .!?") not in CHANNEL_WORDS:
            return Reply(send=[Text(IN_PRIVATE)])
        tenant = turn.who.tenant
        await self.boards.ensure(tenant, place.team, clock.iso(turn.now), _board_fields(place))
        board = await self.boards.board(tenant, place.team)
        if board is None:
            raise StoreUnavailable("board vanished")
        board = await self._named(board, place, turn)
        if not board.set_up:
            return Reply(send=[board_cards.setup_card(board.name, board.id, self.mode)])
        return await self._live_card(board, place)

    async def _live_card(self, board: Board, place: Place) -> Reply:
        """Asked for in the channel: the board card is posted afresh and becomes the one kept
        up to date; the one before says where it went, so no stale buttons are left about."""
        card = await self.board_card(board)
        if not board.channel:
            return Reply(send=[card])
        posted = await self.teams.post(place.service_url, board.channel, card)
        await self.boards.set_card(board.tenant, board.id, posted.activity)
        if board.card and board.card != posted.activity:
            try:
                await self.teams.update(
                    place.service_url, board.channel, board.card, board_cards.moved_card()
                )
            except TeamsError as exc:
                log.info("the earlier board card was not retired: %s", exc.brief())
        return Reply()

    async def _named(self, board: Board, place: Place, turn: Turn) -> Board:
        """A board first met without its team's name (an @mention carries none) asks Teams, so
        trustees' invitations name their board rather than "this board"."""
        if board.name or not place.team:
            return board
        try:
            name = await self.teams.team_name(place.service_url, place.team)
        except TeamsError as exc:
            log.info("could not read the team's name: %s", exc.brief())
            return board
        if not name:
            return board
        await self.boards.ensure(board.tenant, board.id, clock.iso(turn.now), {"name": name})
        return await self.boards.board(board.tenant, board.id) or board

    async def _my_boards(self, turn: Turn) -> Reply:
        """In a 1:1 chat, "board": the boards this person clerks, to run them from here."""
        found = []
        for board_id in await self.boards.tenant_boards(turn.who.tenant):
            board = await self.boards.board(turn.who.tenant, board_id)
            if board and board.role(turn.who.user) == CLERK:
                found.append(await self.board_card(board, viewer=board.member(turn.who.user)))
        if not found:
            return Reply(
                send=[
                    Text(
                        "You are not the clerk of a board I know. A board is set up from its "
                        "team's channel: add me to the team, then choose Set up this board."
                    )
                ]
            )
        return Reply(send=list(found))

    async def _context(self, turn: Turn) -> DeskContext:
        assert turn.action is not None
        data = turn.action.data
        payload = BOARD[turn.action.verb].unpack(data)  # Tampered: answered in `handle`
        assert isinstance(payload, OnBoard)
        board_id = payload.board
        place = turn.place
        if place is not None and place.team and place.team != board_id:
            raise Refusal(TAMPERED)  # a card of one team's board clicked in another's channel
        board = await self.boards.board(turn.who.tenant, board_id)
        if board is None:
            raise Refusal(
                "I can't find that board, so nothing was changed. Boards are set up from their "
                "team's channel."
            )
        if place is not None and place.team == board_id:
            await self.boards.ensure(
                turn.who.tenant, board_id, clock.iso(turn.now), _board_fields(place)
            )
        return DeskContext(turn, data, board, self.board_service, self.rounds, payload)

    async def _open_round(self, board: Board) -> Any:
        return await BoardRecords.of(self.boards, board).open_round()

    async def board_card(
        self, board: Board, notice: Notice | None = None, viewer: Member | None = None
    ) -> Card:
        return await self.board_service.card(board, notice, viewer)

    async def refresh_board_card(self, board: Board) -> None:
        await self.board_service.refresh_card(board)

    async def delete_board(self, board: Board) -> int:
        return await self.rounds.delete_board(board)

    # -- the walkthrough's side (dialogs.engine.Rounds) -----------------------------------------

    async def join(self, who: Who, board_id: str, round_id: str) -> Joined | str:
        board = await self.boards.board(who.tenant, board_id)
        rnd = await self.boards.round(who.tenant, board_id, round_id) if board else None
        if board is None or rnd is None:
            return "I can't find that round, so nothing was changed. Your clerk can tell you more."
        if rnd.invitee(who.user) is None:
            return (
                "That round is for the trustees who were invited when it opened, and you are not "
                "among them, so nothing was changed. If you should be, please ask your clerk."
            )
        gone = membership.may_answer(board, rnd, who.user)
        if gone is not None:
            return gone
        existing = await self.store.in_scope(who, rnd.scope)
        if not rnd.is_open and existing is None:
            return f"That round closed on {board_cards.day(rnd.closed)}, before you started it."
        link = RoundLink(board_id, round_id, board.name, rnd.deadline)
        return Joined(rnd.framework, rnd.version, rnd.elements, link)

    async def progressed(self, who: Who, assessment: Assessment) -> None:
        link = assessment.round
        if link is not None:
            self.refresh_round_card_soon(who.tenant, link.board, link.round)

    # -- the clerk's round card, kept current, and timed work ------------------------------------

    def refresh_round_card_soon(self, tenant: str, board: str, round_id: str) -> None:
        self.rounds.refresh_round_card_soon(tenant, board, round_id)

    async def refresh_round_card(self, tenant: str, board_id: str, round_id: str) -> None:
        await self.rounds.refresh_round_card(tenant, board_id, round_id)

    async def settle(self) -> None:
        """Wait for pending card refreshes (tests, and a clean shutdown)."""
        await self.rounds.settle()

    async def due(self, item: str) -> None:
        """An agenda item came due: a round's reminder, its closing, or its summary; or the end
        of a detached board's retention."""
        if membership.is_forget_item(item):
            await membership.due(self, item)
            return
        await self.rounds.due(item)

    async def delivered(self, tenant: str, board: str, batch: str, outcome: Outcome) -> None:
        """A message from the outbox was settled: the summary posted (or refused) shows on the
        clerk's card, as does an unreachable trustee."""
        await self.rounds.delivered(tenant, board, batch, outcome)
