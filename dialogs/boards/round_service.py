"""Rounds: opening one, reminding, extending, closing it, its summary and the chair's plan.

`RoundService` is what the round handlers (round_steps.py), the agenda and the download links
call. Its dependencies are explicit: the board store, the assessment store, the frameworks, the
Teams and mailer ports, the agenda, the rules, the links and the clock. Each operation reads a
round's answers once (reading.py) and hands that reading to whatever renders it.

The timed parts (the automatic reminder, closing at the deadline, posting the summary) are items
on the agenda (agenda.py, agenda_items.py), done once by whichever bot process claims them; each
is safe to do again, so a crash mid-way only delays it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from frameworks import Framework

from .. import clock
from ..cards import Notice
from ..failures import failure
from ..messages import Card, Place, Text
from ..refusals import Refusal
from ..rounds import RoundSummary, round_summary_card
from ..store import Store, StoreUnavailable
from . import agenda_items, data, evidence, membership, papers, posting
from . import cards as board_cards
from .agenda_items import CLOSE, PURGE, REMIND, RESUME
from .agenda_items import SUMMARY as SUMMARY_ITEM
from .board_service import BoardService
from .forms import RoundForm, message_problem
from .links import SharedLinks
from .model import CLOSED, OPEN, Board, CardRef, Member, Plan, Round
from .payloads import SummaryShow
from .ports import SETS_BATCH, TRUSTEES, BoardSets, Mailer, Outcome, Teams, TeamsError
from .reading import Reader, RoundReading, batches, who_of
from .records import BoardRecords
from .rules import RoundRules
from .store import BoardStore, card_ref_value

log = logging.getLogger("trustboard.rounds")

RESUME_AFTER = timedelta(minutes=2)  # when the agenda carries on an operation cut short
RESUME_TRIES = 30  # times the agenda takes up a round's steps before leaving them (an hour)

# The steps an operation leaves on its round (todo:<step>), done in this order.
SCHEDULE = "schedule"  # the deadline and the automatic reminder on the agenda
INVITE = "invite"  # each trustee's invitation, queued
REMINDER = "remind:"  # remind:<n>, the clerk's n-th reminder, queued
DEADLINES = "deadlines"  # each trustee's copy of a new deadline
LOCK = "lock"  # a closed round's answers locked
AGENDA = "agenda"  # a closed round's deadline and reminder off the agenda, its deletion on
SUMMARY = "summary"  # the summary in the channel, the chair's copy
PUBLISH = "publish"  # the agreed priorities in the channel
NOTICE = "notice"  # the channel told that the round is open
CARD = "card"  # the board card (and a closed round's card) brought up to date
# Every channel post is queued in the outbox, one job per batch: a step done again after being
# cut short queues nothing twice, so each step is marked done only once it has been done.
ORDER = (SCHEDULE, INVITE, REMINDER, DEADLINES, LOCK, AGENDA, SUMMARY, PUBLISH, NOTICE, CARD)
OPENING = (SCHEDULE, INVITE, CARD, NOTICE)
EXTENDING = (SCHEDULE, DEADLINES, CARD)
CLOSING = (LOCK, AGENDA, SUMMARY, CARD)


def _step_order(step: str) -> tuple[int, str]:
    kind = REMINDER if step.startswith(REMINDER) else step
    return (ORDER.index(kind) if kind in ORDER else len(ORDER), step)


def _needs_answers(step: str, rnd: Round) -> bool:
    """Whether a step works from the round's answers (a closed round's card shows its summary)."""
    if step == CARD:
        return not rnd.is_open
    return step in (DEADLINES, LOCK, SUMMARY, PUBLISH) or step.startswith(REMINDER)


def todo_fields(steps: Sequence[str]) -> dict[str, str]:
    return {f"todo:{step}": "1" for step in steps}


def already_open(rnd: Round) -> str:
    return (
        f"A round is already open until {board_cards.day(rnd.deadline)}. A board runs one "
        "round at a time: close it (from its round card) before opening another. Nothing "
        "was changed."
    )


@dataclass(frozen=True)
class Ran:
    """What an operation's steps came to: the round's reading, and each step's outcome."""

    reading: RoundReading
    outcomes: Mapping[str, int | bool]


REFRESH_DELAY = 1.0  # seconds: answers arriving together make one update of the clerk's card


# Read the team's roster from Teams and catch up with changes whose events were missed.
RosterRefresh = Callable[[Board, datetime], Awaitable[Board]]


async def _ready(reading: RoundReading) -> RoundReading:
    return reading


async def _roster_as_is(board: Board, now: datetime) -> Board:
    return board


@dataclass(frozen=True)
class Shown:
    """Where the clerk's round card went: `card` replaces the card they clicked; `elsewhere`,
    when they asked from the channel, is the board card telling them it is in their 1:1 chat."""

    card: Card | None = None
    elsewhere: Card | None = None


@dataclass(frozen=True)
class Download:
    body: str = ""
    content_type: str = ""
    filename: str | None = None  # None: shown in the browser (the board paper)
    missing: str | None = None  # why there is nothing to give


LINK_NOT_VALID = Download(
    missing="This link has expired or is not valid: ask for a new one in Teams."
)
DATA_GONE = Download(missing="There is nothing here any more: the board's data may be deleted.")


class RoundService:
    def __init__(
        self,
        boards: BoardStore,
        store: Store,
        frameworks: Mapping[str, Framework],
        teams: Teams,
        mailer: Mailer,
        agenda: Any,
        board_cards: BoardService,
        *,
        mode: str = "execute",
        rules: RoundRules | None = None,
        links: SharedLinks | None = None,
        now: Callable[[], datetime] = clock.now,
        roster: RosterRefresh = _roster_as_is,
    ) -> None:
        self.boards = boards
        self.store = store
        self.frameworks = frameworks
        self.teams = teams
        self.mailer = mailer
        self.agenda = agenda
        self.board_cards = board_cards
        self.mode = mode
        self.rules = rules or RoundRules()
        self.links = links
        self.now = now
        self.roster = roster
        self.reader = Reader(store, frameworks, mailer)
        self.sets: BoardSets | None = None  # learning sets a board may be in (dialogs/sets)
        # Refreshes not begun yet, by round (a burst of answers joins the one waiting), and
        # every refresh task until it ends, begun or not (what settle() waits for).
        self._refreshing: dict[tuple[str, str, str], asyncio.Task[None]] = {}
        self._refreshes: set[asyncio.Task[None]] = set()

    def records(self, board: Board) -> BoardRecords:
        return BoardRecords.of(self.boards, board)

    def framework_of(self, rnd: Round) -> Framework:
        return self.reader.framework_of(rnd)

    async def read(self, board: Board, rnd: Round, *, compare: bool = True) -> RoundReading:
        return await self.reader.read(self.records(board), board, rnd, compare=compare)

    def _item(self, kind: str, board: Board, round_id: str) -> str:
        return agenda_items.item(kind, board.tenant, board.id, round_id)

    # ---- cards ---------------------------------------------------------------------------------

    async def round_card(
        self, reading: RoundReading, notice: Notice | None = None, *, can_run: bool = True
    ) -> Card:
        """The round card; `can_run` False for the chair, who sees no clerk's buttons."""
        board, rnd = reading.board, reading.round
        progress = reading.progress(await self.reader.unreachable(board, rnd))
        followup: tuple[int, ...] = ()
        if not rnd.is_open:
            followup = tuple(p.summary.element.number for p in reading.summary(False).priorities)
        return board_cards.round_card(
            board,
            rnd,
            reading.framework,
            progress,
            self.mode,
            notice=notice,
            followup=followup,
            can_run=can_run,
            minutes=None if rnd.is_open else board_cards.round_minutes(rnd, reading.summary(False)),
            joined=membership.joined_after(board, rnd) if rnd.is_open else (),
            note=None if rnd.is_open else await self._summary_note(board, rnd),
        )

    async def _summary_note(self, board: Board, rnd: Round) -> str:
        found = await posting.summary_posting(self.mailer, board, rnd)
        return posting.summary_note(board, rnd, found)

    async def summary_card(
        self,
        reading: RoundReading,
        attributed: bool,
        *,
        key_issues: bool | None = None,
        notice: Notice | None = None,
    ) -> Card:
        """The round's summary: `attributed`, the chair's and clerks' private copy (names where
        the round is attributed, the round for the minutes); else the channel's, with the key
        issues only where `key_issues` (by default as the round's settings give the whole team;
        dialogs/boards/evidence.py), Teams refreshing it with them for the board's members."""
        rnd = reading.round
        previous = reading.previous.round if reading.previous else None
        if previous is None and rnd.previous:
            previous = await self.records(reading.board).round(rnd.previous)
        summary = reading.summary(attributed)
        return round_summary_card(
            summary,
            reading.board.name,
            rnd.closed or rnd.deadline,
            self.mode,
            previous.closed if previous else None,
            # The private copies (the chair's, the clerks') carry the round for the minutes.
            minutes=board_cards.round_minutes(rnd, summary) if attributed else None,
            notice=notice,
            **({} if attributed else self._channel_view(reading, key_issues)),
        )

    def _channel_view(self, reading: RoundReading, key_issues: bool | None) -> dict[str, Any]:
        board, rnd = reading.board, reading.round
        if rnd.issues_to_team:
            return {}
        show = SummaryShow(board=board.id, round=rnd.id)
        refresh = None
        if self.mode == "execute":
            # Teams asks again for each of these people's view of the card, and shows them the
            # card the desk answers with (the key issues); everyone else sees it as posted.
            ask = board_cards.action("Key issues", show, self.mode)
            ask.pop("fallback", None)
            refresh = {"action": ask, "userIds": evidence.refresh_ids(board)}
        return {
            "key_issues": bool(key_issues),
            "hidden_note": evidence.HIDDEN_NOTE,
            "refresh": refresh,
            "actions_list": []
            if key_issues
            else [board_cards.action("Show the key issues", show, self.mode)],
        }

    async def plan_card(
        self,
        reading: RoundReading,
        notice: Notice | None = None,
        page: int = 0,
        confirm_empty: int | None = None,
    ) -> Card:
        summary = reading.summary(True)
        return board_cards.plan_card(
            reading.board,
            reading.round,
            summary,
            self.mode,
            notice=notice,
            page=page,
            confirm_empty=confirm_empty,
            peer_weaker=await self.peer_weaker(reading.board, summary),
        )

    async def peer_weaker(self, board: Board, summary: RoundSummary) -> frozenset[int]:
        """Elements a finished peer review rated two or more steps weaker than this round's
        board rating (none while the board has no sets)."""
        if self.sets is None:
            return frozenset()
        results = await self.sets.peer_results(board, summary.framework.id)
        return frozenset(papers.peer_weaker(summary, results))

    async def paper_links(self, board: Board, rnd: Round) -> Text | None:
        """Links to the round's printable board paper and its ratings as CSV, valid for an hour;
        none while the link secret cannot be read (Show the summary asks again)."""
        if self.links is None:
            return None
        try:
            paper = await self.links.url("paper", board.tenant, board.id, rnd.id)
            ratings = await self.links.url("ratings", board.tenant, board.id, rnd.id)
        except StoreUnavailable:
            log.warning("no board-paper links: the link secret could not be read")
            return None
        return Text(
            f"For the board's papers: [the board paper, to print]({paper}) and [the ratings as "
            f"CSV]({ratings}). Neither names anyone. The links work for an hour; ask for the "
            "summary again (Show the summary) for fresh ones."
        )

    async def show_round_card(
        self,
        board: Board,
        reading: RoundReading,
        notice: Notice | None,
        place: Place | None,
        clicked: bool,
    ) -> Shown:
        """The round card where the clerk is: in their 1:1 chat it replaces the card they clicked
        and becomes the card kept up to date; from a channel it goes to their 1:1 chat, so the
        team does not see who has answered."""
        card = await self.round_card(reading, notice)
        rnd = reading.round
        if place is not None and place.personal:
            if place.reply_to and clicked:
                await self._keep_clerk_card(board, rnd, CardRef(place.conversation, place.reply_to))
                return Shown(card=card)
            posted = await self.teams.post(place.service_url, place.conversation, card)
            await self._keep_clerk_card(board, rnd, CardRef(posted.conversation, posted.activity))
            return Shown()
        sender = place.sender_id if place else ""
        if not sender:
            raise Refusal("I couldn't open a chat with you to show the round's progress.")
        posted = await self.teams.personal(board.service_url, board.tenant, sender, card)
        await self._keep_clerk_card(board, rnd, CardRef(posted.conversation, posted.activity))
        elsewhere = Notice(
            (notice.text + " " if notice else "")
            + "The round card is in your 1:1 chat with me, so only you see it.",
            "accent",
        )
        clicker = next((m for m in board.members if m.teams_id == sender), None)
        return Shown(elsewhere=await self.board_cards.card(board, elsewhere, viewer=clicker))

    async def _keep_clerk_card(self, board: Board, rnd: Round, ref: CardRef) -> None:
        await self.records(board).update_round(rnd.id, {"clerk_card": card_ref_value(ref)})

    # ---- opening -------------------------------------------------------------------------------

    async def none_open(self, board: Board) -> None:
        rnd = await self.records(board).open_round()
        if rnd is not None:
            raise Refusal(already_open(rnd))

    def framework(self, value: Any) -> Framework:
        framework = self.frameworks.get(value) if isinstance(value, str) else None
        if framework is None:
            raise Refusal("I don't know that framework, so nothing was changed.")
        return framework

    def check_deadline(self, day: date, now: datetime) -> None:
        if clock.end_of_day(day) - now > self.rules.longest:
            raise Refusal("The deadline has to be within a year.")

    def check_open(self, board: Board, form: RoundForm, day: date, now: datetime) -> None:
        if day < clock.today(now):
            raise Refusal("The deadline has to be today or later.")
        self.check_deadline(day, now)
        problem = message_problem(form.message)
        if problem:
            raise Refusal(problem)
        if not board.trustees:
            raise Refusal(
                "The board has no trustees yet: choose Manage roles on the board card first."
            )

    def _remind_at(self, deadline: datetime, now: datetime) -> str | None:
        """The automatic reminder, if there is still time for one before the deadline."""
        moment = deadline - self.rules.reminder_before
        return clock.iso(moment) if moment > now else None

    async def open(
        self,
        board: Board,
        clerk: Member,
        framework: Framework,
        form: RoundForm,
        day: date,
        now: datetime,
    ) -> RoundReading:
        """Open a round and invite its trustees. One script opens it, with its steps to do
        (agenda, invitations, the board card, the channel's notice); the clerk asking again
        for the same round, or the agenda, carries on any cut short."""
        records = self.records(board)
        deadline = clock.end_of_day(day)
        current = await records.open_round()
        if current is not None:
            if self._same_round(current, clerk, framework, deadline):
                return await self.resume(board, current)  # asked again: carried on, if need be
            raise Refusal(already_open(current))
        # Whoever joined or left the team since the last event Teams sent (or that was missed).
        board = await self.roster(board, now)
        rnd = Round(
            id=secrets.token_hex(6),
            framework=framework.id,
            version=framework.version,
            elements=form.elements or (),
            deadline=clock.iso(deadline),
            attributed=form.attributed,
            issues_to_team=form.issues_to_team,
            min_responses=form.min_responses,
            message=form.message,
            status=OPEN,
            opened=clock.iso(now),
            opened_by=clerk.key,
            invited=tuple(m for m in board.trustees if m.teams_id),
            remind_at=self._remind_at(deadline, now),
            previous=await self._previous_round(records, framework),
            todo=OPENING,
        )
        await self._resume_later(board, rnd.id, now)
        if await records.start_round(rnd):
            raise Refusal("Another round was opened a moment ago, so nothing was changed.")
        return await self.resume(board, rnd)

    @staticmethod
    def _same_round(rnd: Round, clerk: Member, framework: Framework, deadline: datetime) -> bool:
        """The round this clerk is opening again: theirs, on that framework, to that deadline."""
        return (
            rnd.opened_by == clerk.key
            and rnd.framework == framework.id
            and rnd.deadline == clock.iso(deadline)
        )

    async def last_priorities(self, board: Board, framework: Framework) -> tuple[int, ...]:
        """The priorities of the board's last closed round on this framework, if it had any."""
        records = self.records(board)
        found = await self._previous_round(records, framework)
        rnd = await records.round(found) if found else None
        if rnd is None:
            return ()
        reading = await self.read(board, rnd, compare=False)
        return tuple(p.summary.element.number for p in reading.summary(False).priorities)

    async def _previous_round(self, records: BoardRecords, framework: Framework) -> str | None:
        for round_id in reversed(await records.rounds()):
            rnd = await records.round(round_id)
            if rnd and rnd.framework == framework.id and rnd.status == CLOSED:
                return rnd.id
        return None

    def _opened_text(self, rnd: Round, framework: Framework) -> Text:
        return Text(
            f"A self-assessment round on {framework.title} is open until "
            f"{board_cards.day(rnd.deadline)}. Trustees: I've sent each of you a personal message "
            "in your chat with me; your answers are saved as you go."
        )

    async def _tell_channel(self, board: Board, batch: str, message: Card | Text) -> bool:
        """Queue a post in the board's channel: sent once, retried until Teams takes it. False
        when nothing can go there (detached: the bot is no longer in the team)."""
        return await posting.to_channel(self.mailer, board, batch, message)

    async def _invite(
        self,
        board: Board,
        rnd: Round,
        *,
        reminder: bool,
        batch: str,
        to: Sequence[Member],
        reading: RoundReading | None = None,
    ) -> int:
        """Queue the invitation (or reminder) for each of `to`. A reminder says how far each
        trustee has got, so one card goes to everyone who has rated as many elements: the batch
        still sends each person one message, whichever card is theirs."""
        framework = self.framework_of(rnd)
        groups: dict[int, list[tuple[str, str]]] = {}
        for member in to:
            if member.teams_id:
                answers = reading.answers.get(member.key) if reading and reminder else None
                rated = answers.rated_count() if answers else 0
                groups.setdefault(rated, []).append((member.teams_id, member.name))
        for rated, recipients in sorted(groups.items()):
            card = board_cards.invitation_card(
                board, rnd, framework, self.mode, reminder=reminder, rated=rated
            )
            await self.mailer.queue(
                board.tenant,
                board.id,
                batch,
                board.service_url,
                recipients,
                card,
                audience=TRUSTEES,
            )
        return sum(len(recipients) for recipients in groups.values())

    async def invite_late(self, board: Board, rnd: Round, member: Member) -> RoundReading | None:
        """Invite someone who joined the team while the round was open; None if it has closed."""
        records = self.records(board)
        if not await records.invite_late(rnd.id, member):
            return None
        fresh = await records.round(rnd.id) or rnd
        # One batch for everyone invited late: the outbox sends each person its invitation once.
        await self._invite(board, fresh, reminder=False, batch=f"{rnd.id}.late", to=[member])
        return await self.read(board, fresh)

    # ---- reminding and extending ---------------------------------------------------------------

    async def remind(self, board: Board, rnd: Round, seen: int) -> tuple[int | None, RoundReading]:
        """A reminder to everyone who has not finished: how many it went to (None when this card
        had sent one already), and the round as it is now."""
        records = self.records(board)
        await self._resume_later(board, rnd.id, self.now())
        number = await records.count_reminder(rnd.id, seen)
        fresh = await records.round(rnd.id) or rnd
        if number is None:
            if not fresh.todo:
                await self._nothing_to_resume(board, rnd.id)
            return None, await self.read(board, fresh)
        ran = await self._run(RoundReading(board, fresh, self.framework_of(fresh), {}))
        return int(ran.outcomes.get(f"{REMINDER}{number}", 0)), ran.reading

    async def remind_automatically(self, board: Board, rnd: Round) -> None:
        """The one automatic reminder: its batch name makes it once per trustee, whoever sends,
        and the agenda takes it up again until the round says it went."""
        if not rnd.is_open:
            return
        reading = await self.read(board, rnd, compare=False)
        to = reading.not_finished(await self.reader.unreachable(board, rnd))
        batch = f"{rnd.id}.auto"
        await self._invite(board, rnd, reminder=True, batch=batch, to=to, reading=reading)
        await self.records(board).while_open(rnd.id, {"remind_at": ""})

    def check_extension(self, rnd: Round, day: date, now: datetime) -> None:
        current = clock.local_date(rnd.deadline)
        if day <= current:
            raise Refusal(
                "The new deadline has to be after the current one "
                f"({board_cards.day(rnd.deadline)})."
            )
        self.check_deadline(day, now)

    def extending_again(self, rnd: Round, day: date) -> bool:
        """The clerk asking again for the deadline they just set, while it is still being
        carried to the agenda and the trustees: that extension, carried on."""
        return bool(rnd.todo) and clock.local_date(rnd.deadline) == day

    async def extend(self, board: Board, rnd: Round, day: date, now: datetime) -> RoundReading:
        """A later deadline: one script sets it (and the reminder's time) with its steps to do
        (the agenda, each trustee's copy of the deadline, the board card)."""
        records = self.records(board)
        if self.extending_again(rnd, day):
            return await self.resume(board, rnd)
        deadline = clock.end_of_day(day)
        fields = {"deadline": clock.iso(deadline), **todo_fields(EXTENDING)}
        reminder = self._remind_at(deadline, now) if rnd.remind_at else None
        if reminder:
            fields["remind_at"] = reminder
        await self._resume_later(board, rnd.id, now)
        if not await records.while_open(rnd.id, fields):
            await self._nothing_to_resume(board, rnd.id)
            raise Refusal("That round closed a moment ago, so its deadline was not changed.")
        return await self.resume(board, await records.round(rnd.id) or rnd)

    # ---- closing -------------------------------------------------------------------------------

    async def close(
        self, board: Board, rnd: Round, by: str, now: datetime | None = None
    ) -> RoundReading | None:
        """Close a round (once, whoever races): one script closes it with its steps to do
        (lock the answers, the agenda, the summary, the cards), done here and carried on by
        whoever comes next if cut short. The reading of the closed round, or None if it had
        closed already with nothing left to do."""
        now = now or self.now()
        records = self.records(board)
        if not rnd.is_open:
            return await self.resume(board, rnd) if rnd.todo else None
        # Anyone who left the team unreported is not sent the summary, nor counted as invited.
        board = await self.roster(board, now)
        await self._resume_later(board, rnd.id, now)
        if not await records.close_round(rnd.id, clock.iso(now), by, CLOSING):
            fresh = await records.round(rnd.id)
            return await self.resume(board, fresh) if fresh and fresh.todo else None
        return await self.resume(board, await records.round(rnd.id) or rnd)

    async def read_locked(self, board: Board, rnd: Round) -> RoundReading:
        """A closed round's answers, locked (whoever finished or not) and read as locked."""
        now = rnd.closed or clock.iso(self.now())
        return await self.reader.read(self.records(board), board, rnd, locking=now)

    async def _post_summary(self, reading: RoundReading) -> bool:
        """The summary queued for the channel and the chair's copy for their chat, once each and
        neither waiting on the other; what became of them is followed up as the outbox reports
        (`delivered`), with the agenda's summary item as the backstop. Done once queued."""
        board, rnd = reading.board, reading.round
        queued = await posting.summary_posting(self.mailer, board, rnd)
        await self._follow_summary(board, rnd, lambda: _ready(reading))
        if queued.role is None and self.sets is not None:
            try:
                await self.sets.round_closed(board, rnd)
            except Exception as exc:
                # The summary is on its way; the chair can still share from the set's card.
                log.error(
                    "could not ask the chair about sharing with a learning set: %s", failure(exc)
                )
        return True

    async def follow_summary(self, board: Board, round_id: str) -> None:
        """Bring a closed round up to date with what became of its summary (posted, refused, or
        still to go); the answers are read only if a card has still to be made from them."""
        rnd = await self.records(board).round(round_id)
        if rnd is None or rnd.is_open:
            return
        read: list[RoundReading] = []

        async def reading() -> RoundReading:
            if not read:
                read.append(await self.read_locked(board, rnd))
            return read[0]

        await self._follow_summary(board, rnd, reading)
        self.refresh_round_card_soon(board.tenant, board.id, rnd.id)
        await self.board_cards.refresh_card(board)

    async def _follow_summary(
        self, board: Board, rnd: Round, reading: Callable[[], Awaitable[RoundReading]]
    ) -> None:
        async def record(where: CardRef) -> None:
            await self.records(board).update_round(rnd.id, {"summary_card": card_ref_value(where)})

        async def public() -> Card:
            return await self.summary_card(await reading(), attributed=False)

        async def private(agrees: bool) -> list[Card | Text]:
            return await self._copy(await reading(), agrees)

        found = await posting.advance_summary(
            self.mailer, board, rnd, public=public, private=private, record=record
        )
        backstop = self._item(SUMMARY_ITEM, board, rnd.id)
        if not found.settled:
            await self.agenda.schedule(backstop, self.now() + RESUME_AFTER)
            # Settled meanwhile? Its report may have looked before this was scheduled.
            found = await posting.summary_posting(self.mailer, board, rnd)
        if found.settled:
            await self.agenda.cancel(backstop)

    async def _copy(self, reading: RoundReading, agrees: bool) -> list[Card | Text]:
        """A private copy of the summary (attributed, if the round is) and the board-paper
        links; with the plan card for whoever agrees the priorities (the chair, or the clerks
        while there is none)."""
        papers = await self.paper_links(reading.board, reading.round)
        return [
            await self.summary_card(reading, attributed=True),
            *([await self.plan_card(reading)] if agrees else []),
            *([papers] if papers else []),
        ]

    async def delivered(self, tenant: str, board_id: str, batch: str, outcome: Outcome) -> None:
        """The outbox settled a message of this board: the round is brought up to date with it
        (the summary posted or refused, a channel post refused for good, a trustee out of
        reach). Hooks come at most once; the agenda's summary item covers one that is lost."""
        if batch.startswith(SETS_BATCH):
            return  # a learning set's or a peer review's: no round to bring up to date
        kind, round_id = posting.what(batch), posting.round_of(batch)
        records = BoardRecords(self.boards, tenant, board_id)
        if kind in (posting.SUMMARY, posting.CHAIR_COPY, posting.CLERK_COPY):
            board = await records.board()
            if board is not None and outcome.final and outcome.state != "forwarded":
                await self.follow_summary(board, round_id)
        elif outcome.channel:
            board = await records.board()
            text = posting.refused_post(board, batch, outcome) if board else None
            if board is not None and text:
                await posting.tell_clerks(self.mailer, board, batch, text)
        elif outcome.state in ("unreachable", "failed") and not kind.endswith(posting.TOLD):
            self.refresh_round_card_soon(tenant, board_id, round_id)

    # ---- the chair's priorities ----------------------------------------------------------------

    async def save_plan(
        self,
        reading: RoundReading,
        version: int,
        plan: Mapping[int, Plan],
        publish: bool,
        now: datetime,
    ) -> tuple[RoundReading, bool | None]:
        """Save the plan over `version`. Returns the round as it is now and, when it was saved,
        whether it is published (None: it changed meanwhile and nothing was saved; False when
        publishing: saved, but the channel post did not go). A publish is one script that saves
        the plan and leaves its post to do; asked again with the same plan, it carries it on."""
        board, rnd = reading.board, reading.round
        records = self.records(board)
        published = clock.iso(now) if publish else None
        if publish:
            await self._resume_later(board, rnd.id, now)
        saved = await records.save_plan(rnd.id, version, plan, published)
        fresh = reading.with_round(await records.round(rnd.id) or rnd)
        if saved is None:
            if publish and not fresh.round.todo:
                await self._nothing_to_resume(board, rnd.id)
            return fresh, None
        if not publish:
            return fresh, True
        ran = await self._run(fresh)
        return ran.reading, bool(ran.outcomes.get(PUBLISH, True))

    async def _published_post(self, board: Board, rnd: Round) -> CardRef | None:
        """Where the priorities were first posted in the channel, if an earlier publish went."""
        for version in range(rnd.plan_version - 1, 0, -1):
            batch = posting.published(rnd.id, version)
            for outcome in await self.mailer.outcomes(board.tenant, board.id, batch):
                if outcome.delivered and outcome.conversation and outcome.activity:
                    return CardRef(outcome.conversation, outcome.activity)
        return None

    # ---- steps that outlive a turn -------------------------------------------------------------

    async def _resume_later(self, board: Board, round_id: str, now: datetime) -> None:
        """Before an operation leaves steps to do: the agenda carries them on if it is cut short
        (it finds nothing to do if the operation finished, or never began)."""
        await self.agenda.schedule(self._item(RESUME, board, round_id), now + RESUME_AFTER)

    async def resume(self, board: Board, rnd: Round) -> RoundReading:
        """Do the round's steps still to do, in order, each marked done as it is; the reading
        they used. Every step is safe to do again, so whoever carries them on (the agenda, the
        clerk asking again) finishes what was cut short and repeats nothing a person sees."""
        ran = await self._run(RoundReading(board, rnd, self.framework_of(rnd), {}))
        return ran.reading

    async def _run(self, reading: RoundReading) -> Ran:
        """The round's steps, by one process at a time: another that finds them being done
        leaves them to it (two processes closing at once post one summary)."""
        board, rnd = reading.board, reading.round
        records = self.records(board)
        if not rnd.todo:
            return Ran(await self.read(board, rnd), {})
        token = secrets.token_hex(8)
        if not await records.steps_turn(rnd.id, token):
            return Ran(await self.read(board, await records.round(rnd.id) or rnd), {})
        # Read again under the lease: what the last holder left is what is still to do.
        fresh = await records.round(rnd.id) or rnd
        try:
            ran = await self._steps(reading.with_round(fresh))
        except BaseException:
            await self._end_steps_turn(records, rnd.id, token)
            raise
        await self._end_steps_turn(records, rnd.id, token)
        return ran

    async def _end_steps_turn(self, records: BoardRecords, round_id: str, token: str) -> None:
        """Let the next process do the round's steps; if the store will not take that now, the
        lease runs out on its own (a minute), and nothing is lost meanwhile."""
        try:
            await records.end_steps_turn(round_id, token)
        except StoreUnavailable:
            log.info("a round's steps lease was left to run out")

    async def _steps(self, reading: RoundReading) -> Ran:
        board, rnd = reading.board, reading.round
        records = self.records(board)
        outcomes: dict[str, int | bool] = {}
        read = False
        for step in sorted(rnd.todo, key=_step_order):
            if not read and _needs_answers(step, rnd):
                reading, read = await self._reading_for(reading), True
            done, outcomes[step] = await self._step(reading, step)
            if done:
                await records.done(rnd.id, [step])
        fresh = await records.round(rnd.id) or rnd
        if rnd.todo and not fresh.todo:
            await self._nothing_to_resume(board, rnd.id)
        reading = reading.with_round(fresh) if read else await self.read(board, fresh)
        return Ran(reading, outcomes)

    async def _nothing_to_resume(self, board: Board, round_id: str) -> None:
        """Every step done: the agenda need not look again (if it does, it finds nothing)."""
        try:
            await self.agenda.cancel(self._item(RESUME, board, round_id))
        except StoreUnavailable:
            log.info("the agenda's look at a finished round stays; it will find nothing to do")

    async def _reading_for(self, reading: RoundReading) -> RoundReading:
        board, rnd = reading.board, reading.round
        if not rnd.is_open:
            return await self.read_locked(board, rnd)
        return await self.read(board, rnd)

    async def _step(self, reading: RoundReading, step: str) -> tuple[bool, int | bool]:
        """One step of an operation: whether it is done, and what it came to (how many a
        reminder went to, whether a post went)."""
        board, rnd = reading.board, reading.round
        if step == SCHEDULE:  # the deadline and the automatic reminder on the agenda
            await self.agenda.schedule(
                self._item(CLOSE, board, rnd.id), clock.parse_iso(rnd.deadline)
            )
            if rnd.remind_at:
                remind_at = clock.parse_iso(rnd.remind_at)
                await self.agenda.schedule(self._item(REMIND, board, rnd.id), remind_at)
        elif step == INVITE:
            await self._invite(board, rnd, reminder=False, batch=rnd.id, to=rnd.invited)
        elif step.startswith(REMINDER):
            number = int(step.removeprefix(REMINDER))
            to = reading.not_finished(await self.reader.unreachable(board, rnd))
            batch = f"{rnd.id}.r{number}"
            sent = await self._invite(
                board, rnd, reminder=True, batch=batch, to=to, reading=reading
            )
            return True, sent
        elif step == DEADLINES:  # each trustee's copy of the round's deadline
            for member in rnd.invited:
                assessment = reading.answers.get(member.key)
                link = assessment.round if assessment else None
                if assessment is not None and link is not None and link.deadline != rnd.deadline:
                    await self.store.set_fields(
                        who_of(board, member), assessment.id, {"deadline": rnd.deadline}
                    )
        elif step == NOTICE:
            opened = posting.batch(rnd.id, posting.OPENED)
            await self._tell_channel(board, opened, self._opened_text(rnd, reading.framework))
        elif step == LOCK:
            pass  # the reading this step needs locked the answers
        elif step == AGENDA:  # a closed round: no deadline or reminder; deleted in due course
            for kind in (CLOSE, REMIND, SUMMARY_ITEM):
                await self.agenda.cancel(self._item(kind, board, rnd.id))
            if self.rules.retention_days and rnd.closed:
                purge_at = clock.parse_iso(rnd.closed) + timedelta(days=self.rules.retention_days)
                await self.agenda.schedule(self._item(PURGE, board, rnd.id), purge_at)
        elif step == SUMMARY:
            posted = await self._post_summary(reading)
            return posted, posted
        elif step == PUBLISH:
            card = board_cards.published_card(
                board, rnd, reading.summary(False), rnd.published or ""
            )
            earlier = await self._published_post(board, rnd)
            if earlier is not None and posting.channel_refusal(board) is None:
                # Published before: the channel's post is brought up to date, not repeated.
                try:
                    await self.teams.update(
                        board.service_url, earlier.conversation, earlier.activity, card
                    )
                    return True, True
                except TeamsError as exc:
                    if not exc.unreachable:
                        log.info("priorities not updated yet (%s); tried again", exc.brief())
                        return False, False  # the agenda carries the step on
                    log.info("the published priorities are gone (%s): posted anew", exc.brief())
            batch = posting.published(rnd.id, rnd.plan_version)
            return True, await self._tell_channel(board, batch, card)
        elif step == CARD:
            await self.board_cards.refresh_card(board)
            if not rnd.is_open:
                fresh = await self.records(board).round(rnd.id) or rnd
                await self.refresh_round_card(
                    board.tenant, board.id, rnd.id, reading.with_round(fresh)
                )
        return True, True

    # ---- timed work ----------------------------------------------------------------------------

    async def due(self, value: str) -> None:
        """One agenda item: the automatic reminder, closing at the deadline, the summary, or
        deleting a closed round after the retention period."""
        found = agenda_items.parse(value)
        if found is None:
            log.warning("agenda item not understood: %s", value)
            return
        records = BoardRecords(self.boards, found.tenant, found.board)
        board = await records.board()
        rnd = await records.round(found.round) if board else None
        if board is None or rnd is None:
            return
        if found.kind == REMIND:
            if board.detached:
                return  # held while the bot is out of the team: reattaching schedules it again
            await self.remind_automatically(board, rnd)
        elif found.kind == CLOSE:
            await self.close(board, rnd, "deadline")
        elif found.kind == RESUME:
            await self._resume_due(board, rnd)
        elif found.kind == SUMMARY_ITEM:  # until the summary has gone (or is refused for good)
            if rnd.todo:
                await self._resume_due(board, rnd)
            elif not rnd.is_open:
                await self.follow_summary(board, rnd.id)
        elif found.kind == PURGE and not rnd.is_open:
            await self.delete_round(board, rnd)

    async def _resume_due(self, board: Board, rnd: Round) -> None:
        """The agenda taking up a round's steps still to do; it comes back while some are left
        (a summary Teams did not take), a while apart, up to RESUME_TRIES times."""
        if not rnd.todo:
            return
        records = self.records(board)
        if await records.count_resume(rnd.id) > RESUME_TRIES:
            log.warning("a round's steps were tried %d times; leaving them", RESUME_TRIES)
            return
        await self._resume_later(board, rnd.id, self.now())
        await self.resume(board, rnd)

    async def delete_round(self, board: Board, rnd: Round) -> None:
        """A round and every trustee's answers in it."""
        answers = await self.reader.answers(board, rnd)
        for member in rnd.invited:
            if member.key in answers:
                await self.store.delete_assessment(who_of(board, member), answers[member.key])
        for kind in agenda_items.KINDS:
            await self.agenda.cancel(self._item(kind, board, rnd.id))
        await self.mailer.forget(board.tenant, board.id, [*batches(rnd), *posting.batches(rnd)])
        await self.records(board).delete_round(rnd.id)

    async def delete_board(self, board: Board) -> int:
        """Everything of a board: rounds, trustees' answers in them, members, delivery records,
        and what it shared with learning sets."""
        if self.sets is not None:
            await self.sets.board_deleted(board)
        records = self.records(board)
        for round_id in await records.rounds():
            rnd = await records.round(round_id)
            if rnd is not None:
                await self.delete_round(board, rnd)
        return await records.delete()

    # ---- downloads -----------------------------------------------------------------------------

    async def download(self, token: str) -> Download:
        """What a signed link opens: a board's data for its clerk, or a round's board paper or
        ratings for its chair and clerks; or why there is nothing to give."""
        grant = await self.links.open(token) if self.links else None
        if grant is None:
            return LINK_NOT_VALID
        records = BoardRecords(self.boards, grant.tenant, grant.board)
        board = await records.board()
        if board is None:
            return DATA_GONE
        if grant.kind == "export":
            found = await data.export(self.reader, records, board)
            found["learning_sets"] = await self.sets.board_export(board) if self.sets else []
            return Download(data.export_json(found), "application/json", EXPORT_NAME)
        if grant.kind == "comparison":
            page = await self.sets.comparison_page(board, grant.round) if self.sets else None
            return DATA_GONE if page is None else Download(page, "text/html")
        rnd = await records.round(grant.round) if grant.round else None
        if rnd is None or rnd.is_open:
            return DATA_GONE
        reading = await self.read(board, rnd)
        summary = reading.summary(False)
        if grant.kind == "paper":
            peer = await self.sets.peer_results(board, rnd.framework) if self.sets else []
            return Download(papers.paper_html(board, rnd, summary, peer=peer), "text/html")
        csv_text = papers.ratings_csv(rnd, summary, reading.ratings())
        return Download(csv_text, "text/csv", f"trustboard-ratings-{rnd.id}.csv")

    # ---- the clerk's round card, kept current --------------------------------------------------

    def refresh_round_card_soon(self, tenant: str, board: str, round_id: str) -> None:
        """Update the clerk's card shortly; a burst of answers makes one update, not many."""
        key = (tenant, board, round_id)
        if key in self._refreshing:
            return
        task = asyncio.create_task(self._refresh_later(key))
        self._refreshing[key] = task
        self._refreshes.add(task)
        task.add_done_callback(self._refreshes.discard)

    async def _refresh_later(self, key: tuple[str, str, str]) -> None:
        this = asyncio.current_task()
        try:
            await asyncio.sleep(REFRESH_DELAY)
            # Answers from now on are not in the reading about to be made: they ask anew.
            self._forget_waiting(key, this)
            await self.refresh_round_card(*key)
        except StoreUnavailable:
            log.warning("could not refresh a round card: the store is unavailable")
        except Exception as exc:
            log.error("could not refresh a round card: %s", failure(exc))
        finally:
            self._forget_waiting(key, this)

    def _forget_waiting(self, key: tuple[str, str, str], task: asyncio.Task[Any] | None) -> None:
        """No longer the refresh a burst joins; a later one asked for meanwhile stays."""
        if self._refreshing.get(key) is task:
            del self._refreshing[key]

    async def settle(self) -> None:
        """Wait for card refreshes, waiting or under way, to end (tests, and a clean shutdown)."""
        while self._refreshes:
            await asyncio.gather(*self._refreshes, return_exceptions=True)

    async def refresh_round_card(
        self, tenant: str, board_id: str, round_id: str, reading: RoundReading | None = None
    ) -> None:
        """Bring the clerk's card up to date, however many processes ask at once.

        Each update replaces the whole card, so two racing (an older reading landing after a newer
        one) could leave it behind. So: mark the card stale; one process at a time holds the turn
        to update it, and keeps updating while the mark comes back, reading the round afresh each
        time; a process that finds the turn taken leaves its mark for the holder. A `reading` of
        a closed round (its answers locked, so final) is used for the first update.
        """
        records = BoardRecords(self.boards, tenant, board_id)
        await records.card_stale(round_id)
        token = secrets.token_hex(8)
        while await records.card_turn(round_id, token):
            try:
                while await records.take_card_stale(round_id):
                    await self._update_round_card(records, round_id, reading)
                    reading = None
            finally:
                await records.end_card_turn(round_id, token)
            if not await records.take_card_stale(round_id):
                return
            # Marked again between our last look and letting go: take the turn again.
            await records.card_stale(round_id)

    async def _update_round_card(
        self, records: BoardRecords, round_id: str, reading: RoundReading | None
    ) -> None:
        board = await records.board()
        rnd = await records.round(round_id) if board else None
        if board is None or rnd is None or rnd.clerk_card is None:
            return
        if reading is not None and not rnd.is_open:
            reading = replace(reading.with_round(rnd), board=board)
        else:
            # A closed round's card needs its priorities, not the change since the round before.
            reading = await self.read(board, rnd, compare=rnd.is_open)
        card = await self.round_card(reading)
        try:
            await self.teams.update(
                board.service_url, rnd.clerk_card.conversation, rnd.clerk_card.activity, card
            )
        except TeamsError as exc:
            log.info("could not update a round card: %s", exc.brief())


EXPORT_NAME = "trustboard-board-data.json"
