"""The round verbs: one thin handler each, over the round service (round_service.py).

A handler checks who may do it, reads the card's data (forms.py), calls the service once and
shows what came back. The table at the end is the whole of it.
"""

from __future__ import annotations

from dataclasses import replace

from frameworks import Framework

from .. import clock
from ..cards import Notice
from ..messages import Reply
from ..refusals import Refusal
from . import cards as board_cards
from . import evidence, forms, plans
from .context import DeskContext, Handler, clerk_of, member_of
from .forms import RoundForm
from .model import CHAIR, CLERK, Plan, Round
from .payloads import (
    PLAN_PAGES_MAX,
    OnRound,
    PlanPublish,
    PlanSave,
    RoundExtend,
    RoundOpen,
    RoundRemind,
)
from .payloads import RoundForm as RoundFormPayload
from .reading import RoundReading

ROUND_GONE = "I can't find that round on this board, so nothing was changed."


async def _round(ctx: DeskContext) -> Round:
    rnd = await ctx.records.round(ctx.read(OnRound).round)
    if rnd is None:
        raise Refusal(ROUND_GONE)
    return rnd


async def _card(ctx: DeskContext, reading: RoundReading, notice: Notice | None = None) -> Reply:
    return ctx.show(await ctx.rounds.round_card(reading, notice))


async def show_to_clerk(ctx: DeskContext, reading: RoundReading, notice: Notice | None) -> Reply:
    shown = await ctx.rounds.show_round_card(
        ctx.board, reading, notice, ctx.place, clicked=ctx.turn.action is not None
    )
    if shown.card is not None:
        return ctx.show(shown.card)
    if shown.elsewhere is not None:
        return ctx.show(shown.elsewhere)
    return Reply()


# ---- opening a round -------------------------------------------------------------------------


async def round_new(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    await ctx.rounds.none_open(ctx.board)
    frameworks = list(ctx.rounds.frameworks.values())
    return ctx.show(board_cards.choose_framework_card(ctx.board, frameworks, ctx.mode))


async def round_form(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    await ctx.rounds.none_open(ctx.board)
    asked = ctx.read(RoundFormPayload)
    framework = ctx.rounds.framework(asked.framework)
    chosen = forms.chosen_elements(framework, asked.elements)
    today = clock_today(ctx)
    last = await ctx.rounds.last_priorities(ctx.board, framework)
    card = board_cards.round_form_card(
        ctx.board, framework, ctx.mode, today=today, elements=chosen, last_priorities=last
    )
    return ctx.show(card)


async def round_open(ctx: DeskContext) -> Reply:
    clerk = clerk_of(ctx)
    asked = ctx.read(RoundOpen)
    framework = ctx.rounds.framework(asked.framework)
    form = forms.read_round_form(asked, framework)
    if not form.problems and form.deadline_day is not None:
        try:
            ctx.rounds.check_open(ctx.board, form, form.deadline_day, ctx.turn.now)
        except Refusal as refusal:
            form.problems.append(refusal.text)
    if form.problems or form.deadline_day is None or not form.elements:
        return _form_again(ctx, framework, form)
    reading = await ctx.rounds.open(
        ctx.board, clerk, framework, form, form.deadline_day, ctx.turn.now
    )
    notice = Notice(
        f"Round opened. I'm sending each of the {len(reading.round.invited)} trustees a personal "
        "invitation now; the round card shows who has responded and updates as answers arrive."
    )
    return await show_to_clerk(ctx, reading, notice)


def clock_today(ctx: DeskContext) -> str:
    return clock.today(ctx.turn.now).isoformat()


def _form_again(ctx: DeskContext, framework: Framework, form: RoundForm) -> Reply:
    """The form back with what the clerk typed, and what to change: nothing they typed is lost."""
    problems = " ".join(form.problems) or "Please check the form."
    card = board_cards.round_form_card(
        ctx.board,
        framework,
        ctx.mode,
        today=clock_today(ctx),
        elements=form.elements,
        deadline=form.deadline,
        attributed=form.attributed,
        issues_to_team=form.issues_to_team,
        min_responses=form.min_responses,
        message=form.message,
        notice=Notice(problems + " Nothing has been opened yet.", "attention"),
    )
    return ctx.show(card)


# ---- following a round -------------------------------------------------------------------------


async def round_status(ctx: DeskContext) -> Reply:
    member = member_of(ctx)
    if member.role not in (CLERK, CHAIR):
        raise Refusal(
            "A round's progress is for the clerk and the chair. Your own answers are in your "
            "chat with me: type status there. Nothing was changed."
        )
    reading = await ctx.rounds.read(ctx.board, await _round(ctx))
    if member.role == CHAIR:  # the chair follows the round; running it is the clerks'
        return ctx.show(await ctx.rounds.round_card(reading, can_run=False))
    return await show_to_clerk(ctx, reading, None)


async def round_remind(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    rnd = await _round(ctx)
    if not rnd.is_open:
        raise Refusal("That round has closed, so no reminder was sent.")
    seen = ctx.read(RoundRemind).sent
    sent, reading = await ctx.rounds.remind(ctx.board, rnd, seen)
    if sent is None:
        notice = Notice(
            "A reminder went out from this card already (perhaps a second click), so I did not "
            "send another. Here is the round as it is now.",
            "warning",
        )
        return await _card(ctx, reading, notice)
    text = f"Reminder on its way to {sent} trustee{'s' if sent != 1 else ''} who have not finished."
    return await _card(ctx, reading, Notice(text))


async def round_extend(ctx: DeskContext) -> Reply:
    clerk_of(ctx)
    rnd = await _round(ctx)
    if not rnd.is_open:
        raise Refusal("That round has closed, so its deadline was not changed.")
    try:
        day = forms.deadline_day(ctx.read(RoundExtend).deadline)
        if not ctx.rounds.extending_again(rnd, day):
            ctx.rounds.check_extension(rnd, day, ctx.turn.now)
    except Refusal as refusal:
        notice = Notice(refusal.text + " Nothing was changed.", "attention")
        return await _card(ctx, await ctx.rounds.read(ctx.board, rnd), notice)
    reading = await ctx.rounds.extend(ctx.board, rnd, day, ctx.turn.now)
    notice = Notice(f"Deadline moved to {board_cards.day(reading.round.deadline)}.")
    return await _card(ctx, reading, notice)


async def round_close(ctx: DeskContext) -> Reply:
    clerk = clerk_of(ctx)
    rnd = await _round(ctx)
    if not rnd.is_open and not rnd.todo:
        notice = Notice("That round had already closed.", "accent")
        return await _card(ctx, await ctx.rounds.read(ctx.board, rnd), notice)
    reading = await ctx.rounds.close(ctx.board, rnd, clerk.key, ctx.turn.now)
    if reading is None:
        fresh = await ctx.records.round(rnd.id) or rnd
        notice = Notice(
            "That round had already closed (a moment ago), so nothing more was done.", "accent"
        )
        return await _card(ctx, await ctx.rounds.read(ctx.board, fresh), notice)
    done = (
        "Round closed. I'm no longer in the board's team, so nothing went to its channel: the "
        "summary is on its way to your chat with me, and to the chair's."
        if ctx.board.detached
        else "Round closed. The board's summary is queued for the channel, and the chair's copy "
        "for their chat; this card says when each has gone."
    )
    notice = Notice(done, "good")
    return await _card(ctx, reading, notice)


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
    reading = await ctx.rounds.read(ctx.board, rnd)
    shown = evidence.sees_key_issues(member, rnd)
    told = None if in_private or shown else Notice(evidence.NOT_FOR_YOU, "accent")
    card = await ctx.rounds.summary_card(
        reading, attributed=attributed, key_issues=shown, notice=told
    )
    papers = await ctx.rounds.paper_links(ctx.board, rnd) if in_private else None
    extra = [papers] if papers is not None and member.role in (CLERK, CHAIR) else []
    if _may_plan(ctx) and in_private:
        return Reply(send=[card, await ctx.rounds.plan_card(reading), *extra])
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
    asked = ctx.read(PlanSave)
    reading = await ctx.rounds.read(ctx.board, rnd)
    numbers = [p.summary.element.number for p in reading.summary(True).priorities]
    plan, too_long = forms.read_plan(asked, rnd, numbers)
    page = min(asked.page or 0, PLAN_PAGES_MAX)
    if too_long:
        notice = Notice(too_long + " Nothing was saved: please shorten it.", "attention")
        edited = reading.with_round(_with_plan(rnd, plan))
        return ctx.show(await ctx.rounds.plan_card(edited, notice, page))
    empty = plans.unplanned(plan, reading.summary(True)) if publish else []
    if empty and not (isinstance(asked, PlanPublish) and asked.empty == len(empty)):
        # Nothing is saved yet: the card comes back with the chair's text, asking to confirm.
        edited = reading.with_round(_with_plan(rnd, plan))
        notice = plans.confirm_notice(empty)
        return ctx.show(await ctx.rounds.plan_card(edited, notice, page, confirm_empty=len(empty)))
    fresh, saved = await ctx.rounds.save_plan(reading, asked.version, plan, publish, ctx.turn.now)
    notice = plans.saved_notice(rnd, publish, saved)
    return ctx.show(await ctx.rounds.plan_card(fresh, notice, page))


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
