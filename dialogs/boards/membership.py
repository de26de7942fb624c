"""The board kept in step with its team, as Teams reports changes to it.

Teams tells the bot when people join or leave the team (a conversationUpdate with eventType
teamMemberAdded or teamMemberRemoved), when the team is renamed (teamRenamed), and when the bot
itself is removed or added back (installationUpdate with action remove or add; the bot in
membersRemoved or membersAdded). bot/turns.py turns each into a `TeamEvent` and `apply` brings
the board up to date at once. An event can be missed (the bot was down, Teams did not send it),
so the roster is read from Teams again whenever a round opens or closes (`refresh`).

What a change means while a round is open:
- someone who leaves has no role any more and is sent nothing more; if they were invited, their
  answers so far are locked and still count, the round card says they left, and they are no
  longer counted among those who could respond;
- if the chair leaves, each clerk is told in their 1:1 chat and asked to name a new chair; until
  then the chair's copy of the summary and the plan go to the clerks;
- someone who joins shows on the round card as joined after the round opened, with a button for
  the clerk to invite them (dialogs/boards/joiners.py).

A detached board (the bot removed from its team) posts nothing more to its channel and sends no
more reminders. Its clerks are told in their 1:1 chats (where Teams still lets the bot reach
them) and can close the round, whose summary then comes to them and the chair privately, export
the board's data or delete it. Its data is deleted `RoundRules.detached_retention_days` after the
bot was removed, unless the bot is added back first, which reattaches the board with its history.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote, unquote

from ..cards import Notice
from ..clock import iso, parse_iso
from ..messages import Card
from ..state import Who
from ..store import Store
from .agenda_items import REMIND, item
from .model import CHAIR, Board, Member, Round
from .ports import CLERKS, Mailer, RosterMember, Teams, TeamsError
from .records import BoardRecords
from .rules import RoundRules
from .store import BoardStore

log = logging.getLogger("trustboard.boards")

JOINED = "joined"  # people added to the team
LEFT = "left"  # people removed from the team (or deleted from the tenant)
RENAMED = "renamed"  # the team has a new name
BOT_REMOVED = "bot_removed"  # the app uninstalled from the team, or the bot removed from it
BOT_ADDED = "bot_added"  # the app installed in the team again
FORGET = "forget-board"  # the agenda item deleting a detached board's data
NEW_MEMBER = "A new member"


class DeskSide(Protocol):
    """What keeping a board in step with its team needs (the desk, desk.py, is it)."""

    boards: BoardStore
    store: Store
    teams: Teams
    mailer: Mailer
    agenda: Any
    rules: RoundRules

    async def board_card(
        self, board: Board, notice: Notice | None = None, viewer: Member | None = None
    ) -> Card: ...

    async def refresh_board_card(self, board: Board) -> None: ...

    async def refresh_round_card(self, tenant: str, board_id: str, round_id: str) -> None: ...

    async def delete_board(self, board: Board) -> int: ...


def _records(desk: DeskSide, board: Board) -> BoardRecords:
    return BoardRecords.of(desk.boards, board)


@dataclass(frozen=True)
class TeamEvent:
    """A change to a team, as Teams reported it, in plain terms."""

    kind: str  # JOINED, LEFT, RENAMED, BOT_REMOVED or BOT_ADDED
    tenant: str
    team: str  # the Teams team id
    now: datetime
    service_url: str = ""
    people: tuple[RosterMember, ...] = ()  # who joined or left (names only if Teams gave them)
    name: str = ""  # the team's new name


async def apply(desk: DeskSide, event: TeamEvent) -> None:
    if event.kind == BOT_ADDED:
        await reattach(desk, event.tenant, event.team)
        return
    board = await desk.boards.board(event.tenant, event.team)
    if board is None:
        return  # a team whose board was never set up, or was deleted: nothing to keep in step
    now = iso(event.now)
    if event.kind == RENAMED:
        await renamed(desk, board, event.name, now)
    elif event.kind == BOT_REMOVED:
        await detach(desk, board, now)
    elif not board.set_up:
        return  # setting the board up reads the whole roster
    elif event.kind == JOINED:
        await joined(desk, board, event.people, event.service_url, now)
    elif event.kind == LEFT:
        await left(desk, board, event.people, now)


# ---- people joining and leaving --------------------------------------------------------------


async def joined(
    desk: DeskSide, board: Board, people: Sequence[RosterMember], service_url: str, now: str
) -> None:
    newcomers = await _named(desk, board, people, service_url)
    added = await _records(desk, board).add_members(newcomers)
    if added:
        await _joined_round(desk, board, added, now)
        await desk.refresh_board_card(board)


async def left(desk: DeskSide, board: Board, people: Sequence[RosterMember], now: str) -> None:
    ids = [i for p in people for i in (p.aad_object_id, p.teams_id) if i]
    gone = await _records(desk, board).remove_members(ids)
    await _departed(desk, board, gone, now)


async def refresh(desk: DeskSide, board: Board, now: datetime) -> Board:
    """Read the roster from Teams and catch up with any change whose event was missed. A board
    whose roster cannot be read now is left as it is: the next event or refresh catches up."""
    if board.detached or not board.set_up:
        return board
    try:
        found = await desk.teams.roster(board.service_url, board.id)
    except TeamsError as exc:
        log.info("could not read the team's roster: %s", exc.brief())
        return board
    if not found:
        return board  # a team always has members: an empty answer is a glitch, not a walk-out
    keys = {m.key for m in found} | {m.teams_id for m in found}
    gone_ids = [m.key for m in board.members if m.key not in keys and m.teams_id not in keys]
    gone = await _records(desk, board).remove_members(gone_ids)
    added = await _records(desk, board).add_members([_member(m) for m in found])
    await _joined_round(desk, board, added, iso(now))
    await _departed(desk, board, gone, iso(now))
    if added and not gone:
        await desk.refresh_board_card(board)
    return await _records(desk, board).board() or board


async def _named(
    desk: DeskSide, board: Board, people: Sequence[RosterMember], service_url: str
) -> list[Member]:
    """Members for the people who joined. Teams' event carries ids only, so their names (and
    Entra ids, which key a member) come from the roster; without it they are still added."""
    known: dict[str, RosterMember] = {}
    if any(not p.name or not p.aad_object_id for p in people):
        try:
            roster = await desk.teams.roster(service_url or board.service_url, board.id)
            known = {m.teams_id: m for m in roster}
        except TeamsError as exc:
            log.info("could not read the names of people who joined: %s", exc.brief())
    found = []
    for person in people:
        listed = known.get(person.teams_id)
        found.append(
            _member(
                RosterMember(
                    teams_id=person.teams_id,
                    aad_object_id=person.aad_object_id or (listed.aad_object_id if listed else ""),
                    name=person.name or (listed.name if listed else ""),
                )
            )
        )
    return found


def _member(found: RosterMember) -> Member:
    return Member(key=found.key, teams_id=found.teams_id, name=found.name or NEW_MEMBER)


async def _joined_round(desk: DeskSide, board: Board, keys: Iterable[str], now: str) -> None:
    keys = list(keys)
    rnd = await _open_round(desk, board) if keys else None
    if rnd is None:
        return
    for key in keys:
        if key in rnd.left:
            # Back in the team: a current invitee again (answers locked when they left stay so).
            await _records(desk, board).unmark(rnd.id, f"left:{key}")
        elif rnd.invitee(key) is None:
            await _records(desk, board).mark_open(rnd.id, f"joined:{key}", now)
    await desk.refresh_round_card(board.tenant, board.id, rnd.id)


async def _departed(desk: DeskSide, board: Board, gone: Sequence[Member], now: str) -> None:
    if not gone:
        return
    rnd = await _open_round(desk, board)
    if rnd is not None:
        for member in gone:
            if rnd.invitee(member.key) is not None:
                await _records(desk, board).mark_open(rnd.id, f"left:{member.key}", now)
                await _lock_answers(desk, board, rnd, member, now)
            else:
                await _records(desk, board).unmark(rnd.id, f"joined:{member.key}")
        await desk.refresh_round_card(board.tenant, board.id, rnd.id)
    fresh = await _records(desk, board).board() or board
    chair = next((m for m in gone if m.role == CHAIR), None)
    if chair is not None and fresh.chair is None:
        await _chair_left(desk, fresh, chair, now)
    await desk.refresh_board_card(fresh)


async def _lock_answers(desk: DeskSide, board: Board, rnd: Round, member: Member, now: str) -> None:
    """Their answers so far stay in the round, as given, and can no longer change."""
    who = Who(board.tenant, member.key, member.name)
    assessment = await desk.store.in_scope(who, rnd.scope)
    if assessment is not None:
        await desk.store.lock(who, assessment, now)


async def _chair_left(desk: DeskSide, board: Board, chair: Member, now: str) -> None:
    text = (
        f"{chair.name} has left the board's team, so the board has no chair. Please name a new "
        "chair: choose Manage roles. Until then, the chair's copy of a round's summary and its "
        "plan come to the clerks."
    )
    # The clerks' view of the card: its Manage roles is theirs to press.
    clerk = board.clerks[0] if board.clerks else None
    card = await desk.board_card(board, Notice(text, "warning"), clerk)
    await _to_clerks(desk, board, f"chair-left.{_stamp(now)}", card)


async def _to_clerks(desk: DeskSide, board: Board, batch: str, card: Card) -> None:
    """Through the delivery outbox: paced, retried, and once per clerk however often asked."""
    recipients = [(m.teams_id, m.name) for m in board.clerks if m.teams_id]
    if recipients:
        await desk.mailer.queue(
            board.tenant, board.id, batch, board.service_url, recipients, card, audience=CLERKS
        )


def counted(rnd: Round, answered: Iterable[str]) -> int:
    """Trustees the response rate is out of: those still invited, and anyone who left having
    answered (their answers count). Someone who left before answering is not counted."""
    answered = set(answered)
    return sum(1 for m in rnd.invited if m.key not in rnd.left or m.key in answered)


def joined_after(board: Board, rnd: Round) -> list[Member]:
    """Trustees who joined the team while the round was open and have not been invited."""
    found = [board.member(key) for key in rnd.joined]
    return [m for m in found if m and m.is_trustee and m.teams_id and not rnd.invitee(m.key)]


def may_answer(board: Board, rnd: Round, key: str) -> str | None:
    """Why an invited trustee can no longer answer the round (None if they still can)."""
    if rnd.is_open and board.member(key) is None:
        return (
            "You are no longer a member of the board's team, so you can't answer its round any "
            "more and nothing was changed. Any answers you gave before you left still count."
        )
    return None


async def _open_round(desk: DeskSide, board: Board) -> Round | None:
    rnd = await _records(desk, board).open_round()
    return rnd if rnd is not None and rnd.is_open else None


# ---- the team renamed ------------------------------------------------------------------------


async def renamed(desk: DeskSide, board: Board, name: str, now: str) -> None:
    name = " ".join(name.split())
    if not name or name == board.name:
        return
    await _records(desk, board).ensure(now, {"name": name})
    await desk.refresh_board_card(board)


# ---- the bot removed from the team, and added back ---------------------------------------------


async def detach(desk: DeskSide, board: Board, now: str) -> None:
    if not await _records(desk, board).detach(now):
        return  # already detached: Teams reports a removal twice
    log.info("the bot was removed from a board's team: the board is detached")
    days = desk.rules.detached_retention_days
    await desk.agenda.schedule(forget_item(board.tenant, board.id, now), forget_at(now, days))
    fresh = await _records(desk, board).board() or board
    await _to_clerks(desk, fresh, f"detached.{_stamp(now)}", await desk.board_card(fresh))


async def reattach(desk: DeskSide, tenant: str, board_id: str) -> bool:
    """The bot is back in the team: the board carries on with everything it had."""
    was = await desk.boards.reattach(tenant, board_id)
    if was is None:
        return False
    log.info("the bot was added back to a board's team: the board is attached again")
    await desk.agenda.cancel(forget_item(tenant, board_id, was))
    board = await desk.boards.board(tenant, board_id)
    rnd = await _open_round(desk, board) if board else None
    if board is not None and rnd is not None and rnd.remind_at:
        # The automatic reminder was held while detached; it goes when due (at once if past).
        due_at = parse_iso(rnd.remind_at)
        await desk.agenda.schedule(item(REMIND, board.tenant, board.id, rnd.id), due_at)
    return True


def forget_at(detached: str, days: int) -> datetime:
    return parse_iso(detached) + timedelta(days=days)


def forget_item(tenant: str, board: str, detached: str) -> str:
    return f"{FORGET}|{quote(tenant, safe='')}|{quote(board, safe='')}|{_stamp(detached)}"


def is_forget_item(value: str) -> bool:
    return value.startswith(f"{FORGET}|")


async def due(desk: DeskSide, value: str) -> None:
    """A detached board's retention ran out: delete its data, unless the bot came back (or was
    removed again later, which starts its own count)."""
    parts = value.split("|")
    if len(parts) != 4:
        log.warning("agenda item not understood: %s", value)
        return
    tenant, board_id, stamp = unquote(parts[1]), unquote(parts[2]), parts[3]
    board = await desk.boards.board(tenant, board_id)
    if board is None or board.detached is None or _stamp(board.detached) != stamp:
        return
    await desk.delete_board(board)
    log.info("a detached board's data was deleted at the end of its retention period")


def _stamp(moment: str) -> str:
    return "".join(ch for ch in moment if ch.isdigit())
