"""Rounds: opening one, following it, closing it, and the chair's priorities.

The timed parts (the automatic reminder, closing at the deadline, posting the summary) are items
on the agenda (dialogs/boards/agenda.py), done once by whichever bot process claims them; each is
safe to do again, so a crash mid-way only delays it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from frameworks import Framework

from ..cards import Notice
from ..messages import Card, Reply, Text
from ..payloads import whole_number
from ..rounds import Response, RoundSettings, RoundSummary, round_summary_card, summarise
from ..state import Assessment, Who
from ..store import StoreUnavailable
from ..text import clean, length
from . import cards as board_cards
from . import membership
from .context import (
    TAMPERED,
    DeskContext,
    Handler,
    Refusal,
    clerk_of,
    iso,
    member_of,
    parse_iso,
)
from .model import (
    CHAIR,
    CLERK,
    CLOSED,
    IN_PROGRESS,
    NOT_STARTED,
    OPEN,
    RESPONDED,
    UNREACHABLE,
    Board,
    CardRef,
    Member,
    Plan,
    Progress,
    Round,
)
from .payloads import MIN_RESPONSES_MAX
from .ports import TeamsError
from .store import card_ref_value

if TYPE_CHECKING:
    from .desk import Desk

log = logging.getLogger("trustboard.rounds")

SUMMARY_BACKSTOP = timedelta(minutes=2)  # if posting the summary is cut short, retry after this


# ---- reading a round -----------------------------------------------------------------------


def who_of(board: Board, member: Member) -> Who:
    return Who(board.tenant, member.key, member.name)


async def answers_of(desk: Desk, board: Board, rnd: Round) -> dict[str, Assessment]:
    """Each invited trustee's answers in the round, by member key (none if not started)."""
    whos = [who_of(board, m) for m in rnd.invited]
    found = await desk.store.in_scope_many(whos, rnd.scope)
    return {m.key: a for m, a in zip(rnd.invited, found, strict=True) if a is not None}


async def ratings_of(desk: Desk, board: Board, rnd: Round) -> list[tuple[int, str]]:
    """Every rating given in the round, as (element, rating), with nothing of who gave it."""
    answers = await answers_of(desk, board, rnd)
    return [
        (n, a.rating)
        for assessment in answers.values()
        for n, a in assessment.answers.items()
        if a.rating and assessment.covers(n)
    ]


def batches(rnd: Round) -> list[str]:
    """The delivery batches of a round: the invitations (with those of people who joined the team
    while it was open) and every reminder."""
    return [
        rnd.id,
        f"{rnd.id}.late",
        f"{rnd.id}.auto",
        *(f"{rnd.id}.r{n}" for n in range(1, rnd.reminders + 1)),
    ]


async def progress_of(desk: Desk, board: Board, rnd: Round) -> list[Progress]:
    answers = await answers_of(desk, board, rnd)
    unreachable = await desk.mailer.unreachable(board.tenant, board.id, batches(rnd))
    found = []
    for member in rnd.invited:
        assessment = answers.get(member.key)
        left = rnd.left.get(member.key)
        if assessment is not None and assessment.finished:
            found.append(Progress(member, RESPONDED, assessment.rated_count(), left=left))
        elif assessment is not None:
            found.append(Progress(member, IN_PROGRESS, assessment.rated_count(), left=left))
        elif member.teams_id in unreachable:
            reason = unreachable[member.teams_id]
            found.append(Progress(member, UNREACHABLE, reason=reason, left=left))
        else:
            found.append(Progress(member, NOT_STARTED, left=left))
    return found


async def summary_of(
    desk: Desk, board: Board, rnd: Round, attributed: bool, *, compare: bool = True
) -> RoundSummary:
    """The board's summary of a round; `attributed` only for the chair's and clerks' eyes.

    With `compare`, each element shows its change since the board's previous round on the same
    framework; that round is summed up without a comparison of its own, so reading one summary
    never walks back through the board's whole history."""
    framework = framework_of(desk, rnd)
    answers = await answers_of(desk, board, rnd)
    responses = [
        Response(m.key, m.name, answers[m.key].answers, answers[m.key].finished is not None)
        for m in rnd.invited
        if m.key in answers
    ]
    settings = RoundSettings(
        attributed=attributed and rnd.attributed, min_responses=rnd.min_responses
    )
    previous = await _previous_summary(desk, board, rnd) if compare else None
    invited = membership.counted(rnd, answers)
    return summarise(framework, rnd.elements, responses, invited, settings, previous=previous)


async def _previous_summary(desk: Desk, board: Board, rnd: Round) -> RoundSummary | None:
    if not rnd.previous:
        return None
    before = await desk.boards.round(board.tenant, board.id, rnd.previous)
    if before is None or before.framework != rnd.framework:
        return None
    return await summary_of(desk, board, before, attributed=False, compare=False)


def framework_of(desk: Desk, rnd: Round) -> Framework:
    framework = desk.frameworks.get(rnd.framework)
    if framework is None:
        raise Refusal("That round uses a framework I no longer have.")
    return framework


async def round_card_for(
    desk: Desk, board: Board, rnd: Round, notice: Notice | None = None
) -> Card:
    framework = framework_of(desk, rnd)
    progress = await progress_of(desk, board, rnd)
    followup: tuple[int, ...] = ()
    if not rnd.is_open:
        summary = await summary_of(desk, board, rnd, attributed=False)
        followup = tuple(p.summary.element.number for p in summary.priorities)
    return board_cards.round_card(
        board,
        rnd,
        framework,
        progress,
        desk.mode,
        notice=notice,
        followup=followup,
        joined=membership.joined_after(board, rnd) if rnd.is_open else (),
    )


async def _round(ctx: DeskContext) -> Round:
    round_id = ctx.data.get("r")
    if not isinstance(round_id, str):
        raise Refusal(TAMPERED)
    rnd = await ctx.desk.boards.round(ctx.board.tenant, ctx.board.id, round_id)
    if rnd is None:
        raise Refusal("I can't find that round on this board, so nothing was changed.")
    return rnd


# ---- time ------------------------------------------------------------------------------------


def zone(desk: Desk) -> ZoneInfo:
    return ZoneInfo(desk.rules.timezone)


def today(desk: Desk, now: datetime) -> date:
    return now.astimezone(zone(desk)).date()


def end_of(desk: Desk, day: date) -> datetime:
    """A deadline is the end of its day where the board is."""
    return datetime.combine(day, time(23, 59, 59), zone(desk))


def _day(value: Any) -> date:
    if not isinstance(value, str):
        raise Refusal("Please choose a deadline date.")
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise Refusal(
            "That deadline isn't a date I can read: choose one from the calendar."
        ) from None


def remind_at(desk: Desk, deadline: datetime, now: datetime) -> str | None:
    """The automatic reminder, if there is still time for one before the deadline."""
    moment = deadline - desk.rules.reminder_before
    return iso(moment) if moment > now else None


def item(kind: str, board: Board, round_id: str) -> str:
    return f"{kind}|{quote(board.tenant, safe='')}|{quote(board.id, safe='')}|{round_id}"


def parse_item(value: str) -> tuple[str, str, str, str] | None:
    parts = value.split("|")
    if len(parts) != 4:
        return None
    return parts[0], unquote(parts[1]), unquote(parts[2]), parts[3]


# ---- opening a round -------------------------------------------------------------------------


async def round_new(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    await _none_open(ctx)
    frameworks = list(ctx.desk.frameworks.values())
    return ctx.show(board_cards.choose_framework_card(ctx.board, frameworks, ctx.mode))


async def _none_open(ctx: DeskContext) -> None:
    open_id = await ctx.desk.boards.open_round_id(ctx.board.tenant, ctx.board.id)
    rnd = await ctx.desk.boards.round(ctx.board.tenant, ctx.board.id, open_id) if open_id else None
    if rnd is not None:
        raise Refusal(
            f"A round is already open until {board_cards.day(rnd.deadline)}. A board runs one "
            "round at a time: close it (from its round card) before opening another. Nothing "
            "was changed."
        )


def _framework(ctx: DeskContext) -> Framework:
    fw = ctx.data.get("fw")
    framework = ctx.desk.frameworks.get(fw) if isinstance(fw, str) else None
    if framework is None:
        raise Refusal("I don't know that framework, so nothing was changed.")
    return framework


async def round_form(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    await _none_open(ctx)
    framework = _framework(ctx)
    chosen = ctx.data.get("els")
    elements = None
    if chosen is not None:
        elements = _elements(
            framework, ",".join(str(n) for n in chosen) if isinstance(chosen, list) else chosen
        )
    return ctx.show(
        board_cards.round_form_card(
            ctx.board,
            framework,
            ctx.mode,
            today=today(ctx.desk, ctx.turn.now).isoformat(),
            elements=elements,
        )
    )


def _elements(framework: Framework, value: Any) -> tuple[int, ...]:
    if not isinstance(value, str):
        raise Refusal(TAMPERED)
    parts = [p for p in value.split(",") if p.strip()]
    if not parts:
        raise Refusal("Choose at least one element for the round.")
    try:
        numbers = {whole_number(p, 1, 999) for p in parts}
    except ValueError:
        raise Refusal(TAMPERED) from None
    if not all(framework.element(n) for n in numbers):
        raise Refusal(TAMPERED)
    return tuple(sorted(numbers))


MIN_PROBLEM = "The fewest responses must be a whole number from 1 to 20."


def _min_responses(value: Any) -> int:
    try:
        return whole_number(value, 1, MIN_RESPONSES_MAX)
    except ValueError:
        raise Refusal(MIN_PROBLEM) from None


@dataclass
class Form:
    """The round form as the clerk filled it in: each field read on its own, so one refused
    field never costs them the others."""

    elements: tuple[int, ...] | None = None
    attributed: bool = False
    min_responses: int = 3
    message: str = ""
    deadline: str | None = None  # as typed (YYYY-MM-DD), if it was a date at all
    deadline_day: date | None = None
    problems: list[str] = field(default_factory=list)


def _read_form(ctx: DeskContext, framework: Framework) -> Form:
    data, form = ctx.data, Form()
    visibility = data.get("visibility", "anonymous")
    message = data.get("message", "")
    if visibility not in ("anonymous", "attributed") or not isinstance(message, str):
        raise Refusal(TAMPERED)
    form.attributed = visibility == "attributed"
    form.message = clean(message)
    readers = (
        ("elements", lambda: _elements(framework, data.get("elements", ""))),
        ("min_responses", lambda: _min_responses(data.get("min", "3"))),
        ("deadline_day", lambda: _day(data.get("deadline"))),
    )
    for name, read in readers:
        try:
            setattr(form, name, read())
        except Refusal as refusal:
            if refusal.text == TAMPERED:
                raise
            form.problems.append(refusal.text)
    if form.elements is None:
        form.elements = ()  # the clerk chose none: show none chosen, not all
    if form.deadline_day is not None:
        form.deadline = form.deadline_day.isoformat()
    return form


async def round_open(ctx: DeskContext) -> Reply:
    clerk = clerk_of(ctx)
    framework = _framework(ctx)
    form = _read_form(ctx, framework)
    if not form.problems and form.deadline_day is not None:
        try:
            _check_open(ctx, form, form.deadline_day)
        except Refusal as refusal:
            form.problems.append(refusal.text)
    if form.problems or form.deadline_day is None or not form.elements:
        return _form_again(ctx, framework, form)
    await _none_open(ctx)
    return await _open(ctx, clerk, framework, form, form.deadline_day)


def _check_open(ctx: DeskContext, form: Form, deadline_day: date) -> None:
    first = today(ctx.desk, ctx.turn.now)
    if deadline_day < first:
        raise Refusal("The deadline has to be today or later.")
    if end_of(ctx.desk, deadline_day) - ctx.turn.now > ctx.desk.rules.longest:
        raise Refusal("The deadline has to be within a year.")
    if length(form.message) > board_cards.MESSAGE_MAX:
        raise Refusal(
            f"Your message is {length(form.message):,} characters; the limit is "
            f"{board_cards.MESSAGE_MAX:,}. Please shorten it."
        )
    if not ctx.board.trustees:
        raise Refusal("The board has no trustees yet: choose Manage roles on the board card first.")


def _form_again(ctx: DeskContext, framework: Framework, form: Form) -> Reply:
    """The form back with what the clerk typed, and what to change: nothing they typed is lost."""
    problems = " ".join(form.problems) or "Please check the form."
    card = board_cards.round_form_card(
        ctx.board,
        framework,
        ctx.mode,
        today=today(ctx.desk, ctx.turn.now).isoformat(),
        elements=form.elements,
        deadline=form.deadline,
        attributed=form.attributed,
        min_responses=form.min_responses,
        message=form.message,
        notice=Notice(problems + " Nothing has been opened yet.", "attention"),
    )
    return ctx.show(card)


async def _open(
    ctx: DeskContext,
    clerk: Member,
    framework: Framework,
    form: Form,
    deadline_day: date,
) -> Reply:
    # Whoever joined or left the team since the last event Teams sent (or that was missed).
    board = ctx.board = await membership.refresh(ctx.desk, ctx.board, ctx.turn.now)
    desk = ctx.desk
    deadline = end_of(desk, deadline_day)
    rnd = Round(
        id=secrets.token_hex(6),
        framework=framework.id,
        version=framework.version,
        elements=form.elements or (),
        deadline=iso(deadline),
        attributed=form.attributed,
        min_responses=form.min_responses,
        message=form.message,
        status=OPEN,
        opened=ctx.now,
        opened_by=clerk.key,
        invited=tuple(m for m in board.trustees if m.teams_id),
        remind_at=remind_at(desk, deadline, ctx.turn.now),
        previous=await _previous_round(ctx, framework),
    )
    current = await desk.boards.open_round(board.tenant, board.id, rnd)
    if current:
        raise Refusal("Another round was opened a moment ago, so nothing was changed.")
    await desk.agenda.schedule(item("close", board, rnd.id), deadline)
    if rnd.remind_at:
        await desk.agenda.schedule(item("remind", board, rnd.id), parse_iso(rnd.remind_at))
    await _invite(desk, board, rnd, reminder=False, batch=rnd.id, to=rnd.invited)
    await desk.refresh_board_card(board)
    await _tell_channel(desk, board, _opened_text(board, rnd, framework))
    notice = Notice(
        f"Round opened. I'm sending each of the {len(rnd.invited)} trustees a personal "
        "invitation now; this card shows who has responded and updates as answers arrive."
    )
    return await _show_round_card(ctx, rnd, notice)


async def _previous_round(ctx: DeskContext, framework: Framework) -> str | None:
    ids = await ctx.desk.boards.rounds(ctx.board.tenant, ctx.board.id)
    for round_id in reversed(ids):
        rnd = await ctx.desk.boards.round(ctx.board.tenant, ctx.board.id, round_id)
        if rnd and rnd.framework == framework.id and rnd.status == CLOSED:
            return rnd.id
    return None


def _opened_text(board: Board, rnd: Round, framework: Framework) -> Text:
    return Text(
        f"A self-assessment round on {framework.title} is open until "
        f"{board_cards.day(rnd.deadline)}. Trustees: I've sent each of you a personal message "
        "in your chat with me; your answers are saved as you go."
    )


async def _tell_channel(desk: Desk, board: Board, message: Card | Text) -> CardRef | None:
    if not board.channel or board.detached:
        return None  # detached: the bot is no longer in the team, and posts nothing there
    try:
        posted = await desk.teams.post(board.service_url, board.channel, message)
    except TeamsError as exc:
        log.warning("could not post to the board's channel: %s", exc)
        return None
    return CardRef(posted.conversation, posted.activity)


async def _invite(
    desk: Desk, board: Board, rnd: Round, *, reminder: bool, batch: str, to: Sequence[Member]
) -> int:
    framework = framework_of(desk, rnd)
    card = board_cards.invitation_card(board, rnd, framework, desk.mode, reminder=reminder)
    recipients = [(m.teams_id, m.name) for m in to if m.teams_id]
    if recipients:
        await desk.mailer.queue(board.tenant, board.id, batch, board.service_url, recipients, card)
    return len(recipients)


async def _show_round_card(ctx: DeskContext, rnd: Round, notice: Notice | None) -> Reply:
    """The round card where the clerk is: in their 1:1 chat it replaces the card they clicked
    and becomes the card kept up to date; from a channel it goes to their 1:1 chat, so the
    team does not see who has answered."""
    desk, board, place = ctx.desk, ctx.board, ctx.place
    card = await round_card_for(desk, board, rnd, notice)
    if place is not None and place.personal:
        if place.reply_to and ctx.turn.action is not None:
            await _keep_clerk_card(ctx, rnd, CardRef(place.conversation, place.reply_to))
            return ctx.show(card)
        posted = await desk.teams.post(place.service_url, place.conversation, card)
        await _keep_clerk_card(ctx, rnd, CardRef(posted.conversation, posted.activity))
        return Reply()
    sender = place.sender_id if place else ""
    if not sender:
        raise Refusal("I couldn't open a chat with you to show the round's progress.")
    posted = await desk.teams.personal(board.service_url, board.tenant, sender, card)
    await _keep_clerk_card(ctx, rnd, CardRef(posted.conversation, posted.activity))
    return ctx.show(
        await desk.board_card(
            board,
            Notice(
                (notice.text + " " if notice else "")
                + "The round card is in your 1:1 chat with me, so only you see it.",
                "accent",
            ),
        )
    )


async def _keep_clerk_card(ctx: DeskContext, rnd: Round, ref: CardRef) -> None:
    await ctx.desk.boards.update_round(
        ctx.board.tenant, ctx.board.id, rnd.id, {"clerk_card": card_ref_value(ref)}
    )


# ---- following a round -------------------------------------------------------------------------


async def round_status(ctx: DeskContext) -> Reply:
    member = member_of(ctx)
    if member.role not in (CLERK, CHAIR):
        raise Refusal(
            "A round's progress is for the clerk and the chair. Your own answers are in your "
            "chat with me: type status there. Nothing was changed."
        )
    rnd = await _round(ctx)
    if member.role == CHAIR:
        return ctx.show(await round_card_for(ctx.desk, ctx.board, rnd))
    return await _show_round_card(ctx, rnd, None)


async def round_remind(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    rnd = await _round(ctx)
    if not rnd.is_open:
        raise Refusal("That round has closed, so no reminder was sent.")
    seen = _whole(ctx.data.get("sent"))
    number = await ctx.desk.boards.count_reminder(ctx.board.tenant, ctx.board.id, rnd.id, seen)
    if number is None:
        fresh = await ctx.desk.boards.round(ctx.board.tenant, ctx.board.id, rnd.id) or rnd
        notice = Notice(
            "A reminder went out from this card already (perhaps a second click), so I did not "
            "send another. Here is the round as it is now.",
            "warning",
        )
        return ctx.show(await round_card_for(ctx.desk, ctx.board, fresh, notice))
    to = await _not_finished(ctx.desk, ctx.board, rnd)
    sent = await _invite(
        ctx.desk, ctx.board, rnd, reminder=True, batch=f"{rnd.id}.r{number}", to=to
    )
    fresh = await ctx.desk.boards.round(ctx.board.tenant, ctx.board.id, rnd.id) or rnd
    text = f"Reminder on its way to {sent} trustee{'s' if sent != 1 else ''} who have not finished."
    return ctx.show(await round_card_for(ctx.desk, ctx.board, fresh, Notice(text)))


async def _not_finished(desk: Desk, board: Board, rnd: Round) -> list[Member]:
    """Who a reminder is for: not finished, and not known to be unreachable."""
    progress = await progress_of(desk, board, rnd)
    return [p.member for p in progress if p.state in (NOT_STARTED, IN_PROGRESS) and not p.left]


async def round_extend(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    rnd = await _round(ctx)
    desk, board = ctx.desk, ctx.board
    if not rnd.is_open:
        raise Refusal("That round has closed, so its deadline was not changed.")
    try:
        new_day = _day(ctx.data.get("deadline"))
        current = parse_iso(rnd.deadline).astimezone(zone(desk)).date()
        if new_day <= current:
            raise Refusal(
                "The new deadline has to be after the current one "
                f"({board_cards.day(rnd.deadline)})."
            )
        if end_of(desk, new_day) - ctx.turn.now > desk.rules.longest:
            raise Refusal("The deadline has to be within a year.")
    except Refusal as refusal:
        notice = Notice(refusal.text + " Nothing was changed.", "attention")
        return ctx.show(await round_card_for(desk, board, rnd, notice))
    deadline = end_of(desk, new_day)
    fields = {"deadline": iso(deadline)}
    reminder = remind_at(desk, deadline, ctx.turn.now) if rnd.remind_at else None
    if reminder:
        fields["remind_at"] = reminder
    if not await desk.boards.while_open(board.tenant, board.id, rnd.id, fields):
        raise Refusal("That round closed a moment ago, so its deadline was not changed.")
    await desk.agenda.schedule(item("close", board, rnd.id), deadline)
    if reminder:
        await desk.agenda.schedule(item("remind", board, rnd.id), parse_iso(reminder))
    await _new_deadline_for_trustees(desk, board, rnd, iso(deadline))
    await desk.refresh_board_card(board)
    fresh = await desk.boards.round(board.tenant, board.id, rnd.id) or rnd
    notice = Notice(f"Deadline moved to {board_cards.day(fresh.deadline)}.")
    return ctx.show(await round_card_for(desk, board, fresh, notice))


async def _new_deadline_for_trustees(desk: Desk, board: Board, rnd: Round, deadline: str) -> None:
    answers = await answers_of(desk, board, rnd)
    for member in rnd.invited:
        if member.key in answers:
            await desk.store.set_fields(
                who_of(board, member), answers[member.key].id, {"deadline": deadline}
            )


async def round_close(ctx: DeskContext) -> Reply:
    clerk = clerk_of(ctx)
    rnd = await _round(ctx)
    if not rnd.is_open:
        return ctx.show(
            await round_card_for(
                ctx.desk, ctx.board, rnd, Notice("That round had already closed.", "accent")
            )
        )
    closed = await close(ctx.desk, ctx.board, rnd, ctx.now, clerk.key)
    fresh = await ctx.desk.boards.round(ctx.board.tenant, ctx.board.id, rnd.id) or rnd
    done = (
        "Round closed. I'm no longer in the board's team, so nothing went to its channel: the "
        "summary is in your chat with me, and in the chair's."
        if ctx.board.detached
        else "Round closed. The board's summary is in the channel, and the chair has it in their "
        "chat to agree the priorities."
    )
    notice = Notice(
        done
        if closed
        else "That round had already closed (a moment ago), so nothing more was done.",
        "good" if closed else "accent",
    )
    return ctx.show(await round_card_for(ctx.desk, ctx.board, fresh, notice))


# ---- closing ---------------------------------------------------------------------------------


async def close(desk: Desk, board: Board, rnd: Round, now: str, by: str) -> bool:
    """Close a round (once, whoever races), lock its answers and post its summary."""
    # Anyone who left the team unreported is not sent the summary, nor counted as invited.
    board = await membership.refresh(desk, board, parse_iso(now))
    if not await desk.boards.close_round(board.tenant, board.id, rnd.id, now, by):
        return False
    await desk.agenda.schedule(item("summary", board, rnd.id), parse_iso(now) + SUMMARY_BACKSTOP)
    for agenda_item in ("close", "remind"):
        await desk.agenda.cancel(item(agenda_item, board, rnd.id))
    if desk.rules.retention_days:
        purge_at = parse_iso(now) + timedelta(days=desk.rules.retention_days)
        await desk.agenda.schedule(item("purge", board, rnd.id), purge_at)
    await post_summary(desk, board, rnd.id)
    return True


async def lock_answers(desk: Desk, board: Board, rnd: Round, now: str) -> None:
    answers = await answers_of(desk, board, rnd)
    for member in rnd.invited:
        if member.key in answers:
            await desk.store.lock(who_of(board, member), answers[member.key], now)


async def post_summary(desk: Desk, board: Board, round_id: str) -> None:
    """The summary to the channel and to the chair, unless it went already."""
    rnd = await desk.boards.round(board.tenant, board.id, round_id)
    if rnd is None or rnd.is_open:
        return
    await lock_answers(desk, board, rnd, rnd.closed or iso(datetime.now().astimezone()))
    if board.detached:
        # Nothing to the channel the bot has left: the chair and the clerks have it privately.
        stamp = rnd.closed or ""
        if await desk.boards.mark_once(board.tenant, board.id, rnd.id, "summary_private", stamp):
            await _to_chair(desk, board, rnd)
    elif rnd.summary_card is None:
        card = await summary_card(desk, board, rnd, attributed=False)
        posted = await _tell_channel(desk, board, card)
        if posted is None:
            return  # the agenda's backstop tries again
        await desk.boards.update_round(
            board.tenant, board.id, rnd.id, {"summary_card": card_ref_value(posted)}
        )
        await _to_chair(desk, board, rnd)
    await desk.agenda.cancel(item("summary", board, rnd.id))
    await desk.refresh_board_card(board)
    await desk.refresh_round_card(board.tenant, board.id, rnd.id)


async def summary_card(desk: Desk, board: Board, rnd: Round, attributed: bool) -> Card:
    summary = await summary_of(desk, board, rnd, attributed)
    previous = (
        await desk.boards.round(board.tenant, board.id, rnd.previous) if rnd.previous else None
    )
    return round_summary_card(
        summary,
        board.name,
        rnd.closed or rnd.deadline,
        desk.mode,
        previous.closed if previous else None,
    )


def chair_copy_to(board: Board) -> list[Member]:
    """Who gets the chair's copy (attributed summary, plan card, papers): the chair; with no
    chair (they left the team, say), the clerks; and the clerks too once the bot has left the
    team, since they can no longer see the summary in the channel."""
    chair = board.chair
    found = [chair] if chair else []
    if chair is None or board.detached:
        found += [m for m in board.clerks if m.key != (chair.key if chair else None)]
    return [m for m in found if m.teams_id]


async def _to_chair(desk: Desk, board: Board, rnd: Round) -> None:
    for member in chair_copy_to(board):
        try:
            await desk.teams.personal(
                board.service_url,
                board.tenant,
                member.teams_id,
                await summary_card(desk, board, rnd, attributed=True),
            )
            if member.role == CHAIR or board.chair is None:  # who may agree the priorities
                await desk.teams.personal(
                    board.service_url,
                    board.tenant,
                    member.teams_id,
                    await plan_card_for(desk, board, rnd),
                )
            papers = await paper_links(desk, board, rnd)
            if papers is not None:
                await desk.teams.personal(board.service_url, board.tenant, member.teams_id, papers)
        except TeamsError as exc:
            log.warning("could not send the chair's copy of a summary: %s", exc)


async def paper_links(desk: Desk, board: Board, rnd: Round) -> Text | None:
    """Links to the round's printable board paper and its ratings as CSV, valid for an hour;
    none while the link secret cannot be read (Show the summary asks again)."""
    if desk.links is None:
        return None
    try:
        paper = await desk.links.url("paper", board.tenant, board.id, rnd.id)
        ratings = await desk.links.url("ratings", board.tenant, board.id, rnd.id)
    except StoreUnavailable:
        log.warning("no board-paper links: the link secret could not be read")
        return None
    return Text(
        f"For the board's papers: [the board paper, to print]({paper}) and [the ratings as "
        f"CSV]({ratings}). Neither names anyone. The links work for an hour; ask for the "
        "summary again (Show the summary) for fresh ones."
    )


async def plan_card_for(desk: Desk, board: Board, rnd: Round, notice: Notice | None = None) -> Card:
    summary = await summary_of(desk, board, rnd, attributed=True)
    return board_cards.plan_card(board, rnd, summary, desk.mode, notice=notice)


async def remind_automatically(desk: Desk, board: Board, rnd: Round) -> None:
    """The one automatic reminder: the batch name makes it once per trustee, whoever sends it."""
    if not rnd.is_open:
        return
    to = await _not_finished(desk, board, rnd)
    await _invite(desk, board, rnd, reminder=True, batch=f"{rnd.id}.auto", to=to)
    await desk.boards.while_open(board.tenant, board.id, rnd.id, {"remind_at": ""})


async def due(desk: Desk, value: str) -> None:
    """One agenda item: the automatic reminder, closing at the deadline, or the summary."""
    parsed = parse_item(value)
    if parsed is None:
        log.warning("agenda item not understood: %s", value)
        return
    kind, tenant, board_id, round_id = parsed
    board = await desk.boards.board(tenant, board_id)
    rnd = await desk.boards.round(tenant, board_id, round_id) if board else None
    if board is None or rnd is None:
        return
    if kind == "remind":
        if board.detached:
            return  # held while the bot is out of the team: reattaching schedules it again
        await remind_automatically(desk, board, rnd)
    elif kind == "close":
        await close(desk, board, rnd, iso(datetime.now().astimezone()), "deadline")
    elif kind == "summary":
        await post_summary(desk, board, rnd.id)
    elif kind == "purge" and not rnd.is_open:
        from .data import delete_round  # data.py builds on this module

        await delete_round(desk, board, rnd)


# ---- the summary and the chair's priorities ----------------------------------------------------


def _may_plan(ctx: DeskContext) -> bool:
    """The chair agrees the priorities; with no chair named, a clerk can stand in."""
    role = ctx.role
    return role == CHAIR or (role == CLERK and ctx.board.chair is None)


async def summary_show(ctx: DeskContext) -> Reply:
    member = member_of(ctx)
    rnd = await _round(ctx)
    if rnd.is_open:
        raise Refusal("That round is still open: its summary comes when it closes.")
    in_private = ctx.place is not None and ctx.place.personal
    attributed = member.role in (CLERK, CHAIR) and in_private
    card = await summary_card(ctx.desk, ctx.board, rnd, attributed=attributed)
    papers = await paper_links(ctx.desk, ctx.board, rnd) if in_private else None
    extra = [papers] if papers is not None and member.role in (CLERK, CHAIR) else []
    if _may_plan(ctx) and in_private:
        return Reply(send=[card, await plan_card_for(ctx.desk, ctx.board, rnd), *extra])
    if extra:
        return Reply(send=[card, *extra])
    return ctx.show(card)  # in a channel: in place, for the one who asked, not a new post


async def plan_save(ctx: DeskContext) -> Reply:
    return await _plan(ctx, publish=False)


async def plan_publish(ctx: DeskContext) -> Reply:
    return await _plan(ctx, publish=True)


async def _plan(ctx: DeskContext, publish: bool) -> Reply:
    member_of(ctx)
    if not _may_plan(ctx):
        raise Refusal(
            "The chair agrees the board's priorities, so only they can change or publish them. "
            "Nothing was changed."
        )
    rnd = await _round(ctx)
    if rnd.is_open:
        raise Refusal("That round is still open: its priorities come when it closes.")
    version = _whole(ctx.data.get("v"))
    summary = await summary_of(ctx.desk, ctx.board, rnd, attributed=True)
    plan, too_long = _read_plan(ctx, rnd, summary)
    page = _plan_page(ctx)
    if too_long:
        notice = Notice(too_long + " Nothing was saved: please shorten it.", "attention")
        edited = _with_plan(rnd, plan)
        return ctx.show(_plan_card(ctx, edited, summary, notice, page))
    published = ctx.now if publish else None
    saved = await ctx.desk.boards.save_plan(
        ctx.board.tenant, ctx.board.id, rnd.id, version, plan, published
    )
    fresh = await ctx.desk.boards.round(ctx.board.tenant, ctx.board.id, rnd.id) or rnd
    if saved is None:
        notice = Notice(
            "These priorities were changed since this card was sent (perhaps on another "
            "device), so nothing was saved. Here they are as they are now.",
            "warning",
        )
        return ctx.show(_plan_card(ctx, fresh, summary, notice, page))
    if not publish:
        return ctx.show(_plan_card(ctx, fresh, summary, Notice("Draft saved."), page))
    anonymous = await summary_of(ctx.desk, ctx.board, fresh, attributed=False)
    card = board_cards.published_card(ctx.board, fresh, anonymous, ctx.now)
    if await _tell_channel(ctx.desk, ctx.board, card) is None:
        notice = Notice(
            "Saved, but Teams did not take the post to the channel: please publish again.",
            "warning",
        )
    else:
        notice = Notice("Published to the board's channel.")
    return ctx.show(_plan_card(ctx, fresh, summary, notice, page))


def _read_plan(
    ctx: DeskContext, rnd: Round, summary: RoundSummary
) -> tuple[dict[int, Plan], str | None]:
    numbers = [p.summary.element.number for p in summary.priorities]
    plan: dict[int, Plan] = {}
    too_long = None
    for n in numbers:
        # A long plan spreads over pages: what a page did not carry keeps its saved text.
        saved = rnd.plan.get(n, Plan())
        actions = ctx.data.get(f"actions.{n}", saved.actions)
        progress = ctx.data.get(f"progress.{n}", saved.progress)
        if not isinstance(actions, str) or not isinstance(progress, str):
            raise Refusal(TAMPERED)
        plan[n] = Plan(clean(actions), clean(progress))
        longest = max(length(plan[n].actions), length(plan[n].progress))
        if longest > board_cards.PLAN_MAX and too_long is None:
            too_long = (
                f"A box for element {n} holds {longest:,} characters; the limit is "
                f"{board_cards.PLAN_MAX:,}."
            )
    unknown = [k for k in ctx.data if k.startswith(("actions.", "progress."))]
    if any(k.split(".", 1)[1] not in {str(n) for n in numbers} for k in unknown):
        raise Refusal(TAMPERED)
    return plan, too_long


def _plan_card(
    ctx: DeskContext, rnd: Round, summary: RoundSummary, notice: Notice, page: int
) -> Card:
    return board_cards.plan_card(ctx.board, rnd, summary, ctx.mode, notice=notice, page=page)


def _plan_page(ctx: DeskContext) -> int:
    return min(_whole(ctx.data.get("page", 0)), 100)


def _whole(value: Any) -> int:
    """A number a button packed (a version, a count, a page): a whole number, or tampering."""
    try:
        return whole_number(value, 0, 10**9)
    except ValueError:
        raise Refusal(TAMPERED) from None


def _with_plan(rnd: Round, plan: dict[int, Plan]) -> Round:

    return replace(rnd, plan=plan)


VERBS: dict[str, Handler] = {
    "round.new": round_new,  # choose a framework for a new round (clerks)
    "round.form": round_form,  # the form: elements, deadline, anonymity, message (clerks)
    "round.open": round_open,  # open it and invite every trustee (clerks)
    "round.status": round_status,  # the round card: who has responded (clerks, chair)
    "round.remind": round_remind,  # remind everyone who has not finished (clerks)
    "round.extend": round_extend,  # a later deadline (clerks)
    "round.close": round_close,  # close now: summary to the channel and the chair (clerks)
    "summary.show": summary_show,  # the summary again (attributed for chair and clerks)
    "plan.save": plan_save,  # the chair's draft of the priorities
    "plan.publish": plan_publish,  # the agreed priorities, posted to the channel
}
