"""The walkthrough: one trustee's self-assessment, declared as a table of steps.

Each step takes the turn's context and returns the reply; the next step is whatever button or
command the trustee uses next. Buttons always name the assessment and element they belong to,
so a click on an old card acts on that card's element, never on another.

    start ──► element n ──rate──► next unrated element ──► … ──► review ──finish──► heat map
                 │  ▲                                              │  ▲
                 │  └──back / goto────────────────────────────────┘  │
                 ├──skip──► next unrated element (or the review)      │
                 ├──pause──► paused ──resume──► element n / review ───┘
                 └──review──► review
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from frameworks import Element, Framework

from . import cards, clock, privacy
from .cards import Notice
from .commands import Command, match_framework, parse
from .failures import failure
from .messages import Action, Card, Reply, Text, Turn
from .payloads import WALKTHROUGH, Goto, OnAssessment, OnElement, Rate, Start, Tampered, in_scope
from .refusals import NOT_SAVED, TAMPERED, UNKNOWN_BUTTON, Refusal
from .state import ROUND_SCOPE, Answer, Assessment, RoundLink, Who, round_scope
from .store import Store, StoreUnavailable
from .text import clean, escape_markdown, length

log = logging.getLogger("trustboard.engine")

HELP = (
    "Here is what I understand:\n"
    "- start (or start governance, start strong trusts): begin or resume a self-assessment\n"
    "- resume: carry on where you left off\n"
    "- R, AR, AG or G, optionally followed by your evidence: rate the element on screen\n"
    "- back, skip, pause, review, go to 5: move around\n"
    "- finish: finish and see your heat map\n"
    "- status: what you have in progress\n"
    "- results: your latest heat map and priorities\n"
    "- my data: everything I keep about you; forget me: delete it"
)


FRESH_CARD = " Type resume to get a fresh card."


def say(text: str) -> Refusal:
    return Refusal(text)


@dataclass
class Context:
    engine: Walkthrough
    turn: Turn
    from_card: bool
    assessment_id: str | None = None
    number: int | None = None
    rating: str | None = None
    evidence: str | None = None  # None: not given, keep what is saved
    framework_id: str | None = None
    board_id: str | None = None  # a board round's invitation names its board and round
    round_id: str | None = None
    loaded: Assessment | None = None  # the assessment this turn acted on, once found

    @property
    def who(self) -> Who:
        return self.turn.who

    @property
    def now(self) -> str:
        return clock.iso(self.turn.now)

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def mode(self) -> str:
        return self.engine.mode

    def show(self, card: Card, *extra: Card | Text) -> Reply:
        """A card answering a button replaces that button's card; otherwise it is a new message."""
        if self.from_card:
            return Reply(replace=card, send=list(extra))
        return Reply(send=[card, *extra])


Step = Callable[[Context], Awaitable[Reply]]


@dataclass(frozen=True)
class Joined:
    """A trustee's place in a board round, as the board side vouches for it."""

    framework: str
    version: str
    elements: tuple[int, ...]
    link: RoundLink


class Rounds(Protocol):
    """The board side, as the walkthrough needs it (dialogs/boards implements it)."""

    async def join(self, who: Who, board: str, round_id: str) -> Joined | str:
        """The trustee's place in the round, or why they have none (a sentence to show)."""
        ...

    async def progressed(self, who: Who, assessment: Assessment) -> None:
        """A trustee started or finished a round's answers: the clerk's card may change."""
        ...


class Walkthrough:
    def __init__(
        self,
        store: Store,
        frameworks: Mapping[str, Framework],
        mode: str = "execute",
        rounds: Rounds | None = None,
        on_forget: Callable[[Who, str], Awaitable[None]] | None = None,
        durable: bool = True,
    ):
        self.store = store
        # False on the embedded store: cards then promise nothing past this process's life.
        self.durable = durable
        self.frameworks = dict(frameworks)
        self.mode = mode
        self.rounds = rounds
        # What else `forget me` clears (what they shared with sets, the chat the outbox
        # remembers), given who and their Teams id ("" where the turn has none).
        self.on_forget = on_forget

    async def handle(self, turn: Turn) -> Reply:
        try:
            context, verb = self._read(turn)
            step = STEPS.get(verb)
            if step is None:
                raise _unknown(turn)
            reply = await step(context)
            reply.live_card = context.loaded.card if context.loaded else None
            return reply
        except Refusal as refusal:
            return refusal.reply
        except Tampered:
            return _tampered().reply
        except StoreUnavailable as exc:
            log.warning("store unavailable: %s", failure(exc))
            return Refusal(NOT_SAVED).reply

    async def welcome(self, who: Who, notice: Notice | None = None) -> Card:
        profile = await self.store.profile(who)
        status: dict[str, tuple[Assessment | None, Assessment | None]] = {}
        for fw in self.frameworks.values():
            open_id, last_id = profile.open.get(fw.id), profile.last.get(fw.id)
            status[fw.id] = (
                await self.store.assessment(who, open_id) if open_id else None,
                await self.store.assessment(who, last_id) if last_id else None,
            )
        in_rounds = [i for scope, i in profile.open.items() if scope.startswith(ROUND_SCOPE)]
        found = await asyncio.gather(*(self.store.assessment(who, i) for i in in_rounds))
        rounds = [a for a in found if a and a.is_open]
        return cards.welcome_card(
            list(self.frameworks.values()), status, self.mode, notice, rounds=rounds
        )

    def _read(self, turn: Turn) -> tuple[Context, str]:
        if turn.action is not None:
            return _from_action(self, turn, turn.action), turn.action.verb
        command = parse(turn.text, list(self.frameworks.values()))
        context = Context(
            self,
            turn,
            from_card=False,
            number=command.number,
            rating=command.rating,
            framework_id=command.framework,
        )
        if command.evidence is not None:
            context.evidence = clean(command.evidence)
        return context, command.verb


def _from_action(engine: Walkthrough, turn: Turn, action: Action) -> Context:
    """A button's typed payload read into the turn's context; data that does not decode
    raises `Tampered`, answered in `handle`."""
    context = Context(engine, turn, from_card=True)
    kind = WALKTHROUGH.get(action.verb)
    if kind is None:
        return context  # no such step: `handle` says the button is not one it knows
    payload = kind.unpack(action.data)
    if isinstance(payload, OnAssessment):
        context.assessment_id = payload.assessment
    if isinstance(payload, OnElement):
        context.number = payload.number
        context.evidence = clean(payload.evidence) if payload.evidence is not None else None
    if isinstance(payload, Rate):
        context.rating = payload.rating
    if isinstance(payload, Goto):
        context.number = payload.target
    if isinstance(payload, Start):
        context.framework_id = payload.framework
        context.board_id, context.round_id = payload.board, payload.round
    return context


def _tampered() -> Refusal:
    return say(TAMPERED + FRESH_CARD)


def _unknown(turn: Turn) -> Refusal:
    if turn.action is not None:
        return say(UNKNOWN_BUTTON + FRESH_CARD)
    return say(
        "Sorry, I didn't catch that. To rate the element on screen, type R, AR, AG or G, "
        "optionally followed by your evidence. Type help to see everything I understand."
    )


# ---- finding what a turn is about -------------------------------------------------------------


async def _target(ctx: Context, *, allow_done: bool = False) -> tuple[Assessment, Framework]:
    """The assessment a turn acts on: the card's own, or for typed text the one in progress."""
    if ctx.from_card and ctx.assessment_id:
        assessment = await ctx.store.assessment(ctx.who, ctx.assessment_id)
        if assessment is None:
            raise say(
                "I can't find the self-assessment that card belongs to, so nothing was "
                "changed. Type status to see yours."
            )
    else:
        assessment = await _active(ctx)
        if assessment is None:
            closed = await _closed_round(ctx)
            if closed is not None:
                raise say(_round_closed(closed))
            raise say("You have no self-assessment in progress. Type start to begin one.")
    framework = ctx.engine.frameworks.get(assessment.framework)
    if framework is None:
        raise say(
            "That self-assessment uses a framework I no longer have. Type start to begin a new one."
        )
    ctx.loaded = assessment
    if assessment.status == "closed" and not allow_done:
        raise say(_round_closed(assessment))
    if not _editable(assessment) and not allow_done:
        raise say(
            f"That card belongs to a self-assessment you finished on "
            f"{cards.day(assessment.finished)}, so nothing was changed. Type results to "
            "see its heat map, or start to begin a new one."
        )
    return assessment, framework


def _round_closed(assessment: Assessment) -> str:
    name = cards.board_name(assessment)
    whose = f"{name}'s round" if name else "The board's round"
    closed = assessment.locked or assessment.updated
    return (
        f"{whose} closed on {cards.day(closed)}, so its answers can no longer be changed and "
        "nothing was changed. Type results to see yours."
    )


async def _closed_round(ctx: Context) -> Assessment | None:
    """With nothing in progress: the trustee's latest answers, if a round's closing locked them
    (a typed rating is then about that round, and "nothing in progress" would puzzle)."""
    profile = await ctx.store.profile(ctx.who)
    found = await asyncio.gather(*(ctx.store.assessment(ctx.who, i) for i in profile.last.values()))
    latest = max(
        (a for a in found if a),
        key=lambda a: a.locked or a.finished or a.updated,
        default=None,
    )
    return latest if latest is not None and latest.status == "closed" else None


def _editable(assessment: Assessment) -> bool:
    """Open, or a round's answers the trustee finished: changeable until the round closes."""
    return assessment.is_open or (assessment.status == "done" and assessment.round is not None)


async def _active(ctx: Context) -> Assessment | None:
    """The open assessment the trustee touched most recently."""
    profile = await ctx.store.profile(ctx.who)
    found = await asyncio.gather(*(ctx.store.assessment(ctx.who, i) for i in profile.open.values()))
    opened = [a for a in found if a and a.is_open]
    return max(opened, key=lambda a: a.updated, default=None)


def _element(ctx: Context, assessment: Assessment, framework: Framework) -> Element:
    number = ctx.number if ctx.from_card else assessment.cursor
    if number == 0 or number is None:
        raise say(
            "You're on the review of your answers. Type go to and an element number "
            "(for example go to 5) to open one."
        )
    return _scoped(assessment, framework, number)


def _scoped(assessment: Assessment, framework: Framework, number: int) -> Element:
    """The element a card's button names, if this assessment asks about it; a forged one
    outside it is refused, and nothing is changed."""
    element = in_scope(framework, assessment, number)
    if element is not None:
        return element
    if framework.element(number) is None:
        raise say(
            f"{framework.short_title} has elements 1 to {len(framework.elements)}; there is "
            f"no element {number}. Nothing was changed."
        )
    raise say(_not_covered(assessment, number))


def _not_covered(assessment: Assessment, number: int) -> str:
    listed = ", ".join(str(n) for n in assessment.elements or ())
    return (
        f"Element {number} is not part of this round, so nothing was changed. The round "
        f"covers elements {listed}."
    )


def _next_unrated(
    framework: Framework,
    answers: Mapping[int, Answer],
    after: int,
    covered: tuple[int, ...] | None = None,
) -> int:
    """The next element without a rating after `after`, wrapping round; 0 when all are rated."""
    numbers = list(covered) if covered is not None else [e.number for e in framework.elements]
    later = [n for n in numbers if n > after] + [n for n in numbers if n < after]
    return next((n for n in later if not answers.get(n, Answer()).rating), 0)


def _screen(
    ctx: Context, assessment: Assessment, framework: Framework, notice: Notice | None = None
) -> Card:
    element = framework.element(assessment.cursor)
    if element is None:
        return cards.review_card(framework, assessment, ctx.mode, notice)
    return cards.element_card(framework, assessment, element, ctx.mode, notice)


def _evidence_ok(
    ctx: Context, assessment: Assessment, framework: Framework, element: Element
) -> None:
    """Over-long evidence: nothing is saved, and the card comes back holding the whole text."""
    if ctx.evidence is None or length(ctx.evidence) <= cards.EVIDENCE_MAX:
        return
    notice = Notice(
        f"Your note is {length(ctx.evidence):,} characters; the limit is "
        f"{cards.EVIDENCE_MAX:,}. Nothing has been saved yet: your text is below, so "
        "shorten it and choose your rating again.",
        "attention",
    )
    raise Refusal(
        ctx.show(
            cards.element_card(
                framework, assessment, element, ctx.mode, notice, evidence=ctx.evidence
            )
        )
    )


def _draft(ctx: Context, assessment: Assessment, element: Element) -> dict[str, str]:
    """Evidence typed before pressing Back, Skip, Pause or Review is kept, not lost."""
    if ctx.evidence is None or ctx.evidence == assessment.answer(element.number).evidence:
        return {}
    return {f"e:{element.number}": ctx.evidence, f"t:{element.number}": ctx.now}


async def _save(ctx: Context, assessment: Assessment, fields: dict[str, str]) -> None:
    if not await ctx.store.update(ctx.who, assessment.id, {**fields, "updated": ctx.now}):
        raise say(
            "That self-assessment was finished in the meantime (perhaps on another "
            "device), so nothing was changed. Type results to see its heat map."
        )


def _with(
    assessment: Assessment,
    number: int,
    cursor: int,
    rating: str | None = None,
    evidence: str | None = None,
) -> Assessment:
    old = assessment.answer(number)
    answer = Answer(rating or old.rating, old.evidence if evidence is None else evidence, old.at)
    return replace(assessment, answers={**assessment.answers, number: answer}, cursor=cursor)


# ---- the steps --------------------------------------------------------------------------------


async def start(ctx: Context) -> Reply:
    if ctx.round_id and ctx.board_id:
        return await _start_round(ctx, ctx.board_id, ctx.round_id)
    frameworks = ctx.engine.frameworks
    fw = frameworks.get(ctx.framework_id or "")
    if fw is None:
        notice = (
            Notice("I don't know that framework: choose one below.", "warning")
            if ctx.framework_id
            else None
        )
        return ctx.show(await ctx.engine.welcome(ctx.who, notice))
    assessment_id = await ctx.store.open_assessment(ctx.who, fw.id, fw.version, ctx.now)
    assessment = await ctx.store.assessment(ctx.who, assessment_id)
    if assessment is None:
        raise StoreUnavailable("assessment vanished after creation")
    total = len(fw.elements)
    if assessment.started == ctx.now and not assessment.answers:
        notice = Notice(
            f"Self-assessment started: {fw.title}, {total} elements. Each answer is "
            f"saved as you go, and you can pause at any time.{_kept(ctx)}",
            "accent",
        )
    else:
        notice = Notice(
            f"Welcome back: {assessment.rated_count()} of {total} rated. Picking up "
            "where you left off.",
            "accent",
        )
    return ctx.show(_screen(ctx, assessment, fw, notice))


def _kept(ctx: Context) -> str:
    """On the embedded store, what "saved" is worth: until the bot stops."""
    return "" if ctx.engine.durable else f" {cards.NOT_KEPT}"


async def _start_round(ctx: Context, board: str, round_id: str) -> Reply:
    """Open (or return to) the trustee's answers in a board round they were invited to."""
    if ctx.engine.rounds is None:
        raise say("Board rounds are not available here.")
    joined = await ctx.engine.rounds.join(ctx.who, board, round_id)
    if isinstance(joined, str):
        raise say(joined)
    fw = ctx.engine.frameworks.get(joined.framework)
    if fw is None:
        raise say("That round uses a framework I no longer have. Please tell your clerk.")
    scope = round_scope(round_id)
    existing = await ctx.store.in_scope(ctx.who, scope)
    if existing is not None:
        ctx.loaded = existing
        if existing.status == "closed":
            return ctx.show(cards.results_card(fw, existing, ctx.mode))
        notice = Notice(
            f"Welcome back: {existing.rated_count()} of {len(joined.elements)} rated.", "accent"
        )
        return ctx.show(_screen(ctx, existing, fw, notice))
    link = joined.link
    extra = {
        "elements": ",".join(str(n) for n in joined.elements),
        "round": link.round,
        "board": link.board,
        "board_name": link.board_name,
        "deadline": link.deadline,
        **({"kind": "review"} if link.review else {}),
    }
    assessment_id = await ctx.store.open_assessment(
        ctx.who,
        fw.id,
        joined.version,
        ctx.now,
        scope=scope,
        extra=extra,
        cursor=joined.elements[0],
    )
    assessment = await ctx.store.assessment(ctx.who, assessment_id)
    if assessment is None:
        raise StoreUnavailable("assessment vanished after creation")
    ctx.loaded = assessment
    await _progressed(ctx, assessment)
    notice = Notice(
        f"Board round started: {fw.title}, {len(joined.elements)} elements. Each answer is "
        f"saved as you go, and you can pause at any time.{_kept(ctx)}",
        "accent",
    )
    return ctx.show(_screen(ctx, assessment, fw, notice))


async def _progressed(ctx: Context, assessment: Assessment) -> None:
    if ctx.engine.rounds is None or assessment.round is None:
        return
    try:
        await ctx.engine.rounds.progressed(ctx.who, assessment)
    except Exception as exc:
        # The trustee's answer is saved; the clerk's card catches up on its next refresh.
        log.error("could not report round progress: %s", failure(exc))


async def resume(ctx: Context) -> Reply:
    if ctx.from_card and ctx.assessment_id:
        assessment, fw = await _target(ctx)
        return ctx.show(_screen(ctx, assessment, fw))
    profile = await ctx.store.profile(ctx.who)
    if len(profile.open) > 1:
        notice = Notice("You have more than one self-assessment in progress: choose one.", "accent")
        return ctx.show(await ctx.engine.welcome(ctx.who, notice))
    if not profile.open:
        notice = Notice(
            "You have no self-assessment in progress. Choose a framework to start.", "accent"
        )
        return ctx.show(await ctx.engine.welcome(ctx.who, notice))
    assessment, fw = await _target(ctx)
    return ctx.show(_screen(ctx, assessment, fw))


async def rate(ctx: Context) -> Reply:
    assessment, fw = await _target(ctx)
    element = _element(ctx, assessment, fw)
    if ctx.rating not in {r.code for r in fw.ratings}:
        raise say(
            "That isn't a rating on this framework's scale (Red, Amber Red, Amber Green or "
            "Green), so nothing was changed."
        )
    _evidence_ok(ctx, assessment, fw, element)
    n = element.number
    evidence = assessment.answer(n).evidence if ctx.evidence is None else ctx.evidence
    answers = {**assessment.answers, n: Answer(ctx.rating, evidence, ctx.now)}
    cursor = _next_unrated(fw, answers, after=n, covered=assessment.elements)
    await _save(
        ctx,
        assessment,
        {f"r:{n}": ctx.rating, f"e:{n}": evidence, f"t:{n}": ctx.now, "cursor": str(cursor)},
    )
    updated = _with(assessment, n, cursor, ctx.rating, evidence)
    saved = f"Saved {n}. {element.title}: {fw.rating(ctx.rating).name}."
    if cursor == 0:
        saved += " Every element now has a rating: check your answers, then finish."
    saved += _back_to_skipped(fw, n, cursor)
    # Neutral, not green: "Saved …: Red." on a green banner would read as good news.
    return ctx.show(_screen(ctx, updated, fw, Notice(saved, "emphasis")))


def _back_to_skipped(framework: Framework, number: int, cursor: int) -> str:
    """Past the last element the walkthrough wraps round to one skipped earlier: say so."""
    element = framework.element(cursor) if 0 < cursor < number else None
    if element is None:
        return ""
    return f" You skipped {element.number}. {element.title}: here it is."


async def skip(ctx: Context) -> Reply:
    assessment, fw = await _target(ctx)
    element = _element(ctx, assessment, fw)
    _evidence_ok(ctx, assessment, fw, element)
    cursor = _next_unrated(
        fw, assessment.answers, after=element.number, covered=assessment.elements
    )
    await _save(ctx, assessment, {**_draft(ctx, assessment, element), "cursor": str(cursor)})
    updated = _with(assessment, element.number, cursor, evidence=ctx.evidence)
    notice = Notice(
        f"Skipped {element.number}. {element.title} for now: you can come back to it "
        f"from the review.{_back_to_skipped(fw, element.number, cursor)}",
        "accent",
    )
    return ctx.show(_screen(ctx, updated, fw, notice))


async def back(ctx: Context) -> Reply:
    assessment, fw = await _target(ctx)
    element = _element(ctx, assessment, fw)
    _evidence_ok(ctx, assessment, fw, element)
    cursor = _previous(assessment, element.number)
    await _save(ctx, assessment, {**_draft(ctx, assessment, element), "cursor": str(cursor)})
    return ctx.show(
        _screen(ctx, _with(assessment, element.number, cursor, evidence=ctx.evidence), fw)
    )


def _previous(assessment: Assessment, number: int) -> int:
    if assessment.elements is None:
        return max(1, number - 1)
    before = [n for n in assessment.elements if n < number]
    return before[-1] if before else number


async def pause(ctx: Context) -> Reply:
    assessment, fw = await _target(ctx)
    if ctx.from_card and ctx.number:
        element: Element | None = _scoped(assessment, fw, ctx.number)
    else:
        element = in_scope(fw, assessment, assessment.cursor)
    if element is not None:
        _evidence_ok(ctx, assessment, fw, element)
        await _save(
            ctx, assessment, {**_draft(ctx, assessment, element), "cursor": str(element.number)}
        )
        assessment = _with(assessment, element.number, element.number, evidence=ctx.evidence)
    return ctx.show(cards.paused_card(fw, assessment, element, ctx.mode, ctx.engine.durable))


async def goto(ctx: Context) -> Reply:
    assessment, fw = await _target(ctx)
    if fw.element(ctx.number or 0) is None:
        raise say(
            f"{fw.short_title} has elements 1 to {len(fw.elements)}. Type go to and one "
            "of those numbers."
        )
    element = _scoped(assessment, fw, ctx.number or 0)
    await _save(ctx, assessment, {"cursor": str(element.number)})
    return ctx.show(_screen(ctx, replace(assessment, cursor=element.number), fw))


async def review(ctx: Context) -> Reply:
    assessment, fw = await _target(ctx)
    fields: dict[str, str] = {"cursor": "0"}
    element = _scoped(assessment, fw, ctx.number) if ctx.from_card and ctx.number else None
    if element is not None:
        _evidence_ok(ctx, assessment, fw, element)
        fields.update(_draft(ctx, assessment, element))
        assessment = _with(assessment, element.number, 0, evidence=ctx.evidence)
    await _save(ctx, assessment, fields)
    return ctx.show(cards.review_card(fw, replace(assessment, cursor=0), ctx.mode))


async def finish(ctx: Context) -> Reply:
    assessment, fw = await _target(ctx, allow_done=True)
    if assessment.is_open:
        await ctx.store.finish(ctx.who, assessment, ctx.now)
        assessment = await ctx.store.assessment(ctx.who, assessment.id) or assessment
        await _progressed(ctx, assessment)
    if assessment.round is not None and assessment.round.review:
        notice = Notice(
            f"Thank you: your review is with {assessment.round.board_name}'s chair and clerks, "
            "beside the board's own ratings. Here it is as you gave it."
        )
    elif assessment.round is not None:
        notice = Notice(
            "Thank you: your answers are in the board's round. Here are your heat map and "
            "draft priorities; you can change your answers until the round closes."
        )
    else:
        notice = Notice(
            "Finished. Here are your heat map and draft priorities: a starting point for "
            "the board's conversation."
        )
    return ctx.show(cards.results_card(fw, assessment, ctx.mode, notice))


async def results(ctx: Context) -> Reply:
    if ctx.from_card and ctx.assessment_id:
        assessment, fw = await _target(ctx, allow_done=True)
        return ctx.show(cards.results_card(fw, assessment, ctx.mode))
    latest = await _latest(ctx)
    if latest is None:
        raise say("You have no results yet. Type start to begin a self-assessment.")
    framework = ctx.engine.frameworks.get(latest.framework)
    if framework is None:
        raise say("Your latest results use a framework I no longer have.")
    return ctx.show(cards.results_card(framework, latest, ctx.mode))


async def _latest(ctx: Context) -> Assessment | None:
    """The most recently finished assessment, else the one in progress (its heat map so far)."""
    profile = await ctx.store.profile(ctx.who)
    found = await asyncio.gather(*(ctx.store.assessment(ctx.who, i) for i in profile.last.values()))
    done = [a for a in found if a]
    if done:
        return max(done, key=lambda a: a.finished or "")
    return await _active(ctx)


async def status(ctx: Context) -> Reply:
    profile = await ctx.store.profile(ctx.who)
    ids = [*profile.open.values(), *profile.last.values()]
    found = await asyncio.gather(*(ctx.store.assessment(ctx.who, i) for i in ids))
    lines = [_status_line(ctx, a) for a in found if a and a.framework in ctx.engine.frameworks]
    if not lines:
        return Reply(send=[Text("You have no self-assessments yet. Type start to begin one.")])
    # What `resume` would do: carry on only where something is in progress.
    if any(a and a.is_open and a.framework in ctx.engine.frameworks for a in found):
        lines.append("Type resume to carry on, or results to see your latest heat map.")
    else:
        lines.append("Type results to see your latest heat map, or start to begin a new one.")
    return Reply(send=[Text("\n".join(lines))])


def _status_line(ctx: Context, assessment: Assessment) -> str:
    fw = ctx.engine.frameworks[assessment.framework]
    if assessment.round is not None:
        return _round_status_line(fw, assessment)
    total = len(fw.elements)
    if assessment.is_open:
        where = f"element {assessment.cursor}" if assessment.cursor else "the review"
        return (
            f"In progress: {fw.title}, {assessment.rated_count()} of {total} rated "
            f"(you were at {where})."
        )
    return f"Finished: {fw.title} on {cards.day(assessment.finished)}."


def _round_status_line(fw: Framework, assessment: Assessment) -> str:
    link = assessment.round
    board = f" ({escape_markdown(link.board_name)})" if link and link.board_name else ""
    if link is not None and link.review:
        sent = "sent" if assessment.status != "open" else "in progress"
        return f"Peer review of {escape_markdown(link.board_name)}'s board: {fw.title}, {sent}."
    total = len(assessment.elements or fw.elements)
    rated = f"{assessment.rated_count()} of {total} rated"
    if assessment.status == "closed":
        return f"Board round{board}: {fw.title}, closed; {rated}."
    due = f", answers due {cards.day(link.deadline)}" if link else ""
    if assessment.status == "done":
        return f"Board round{board}: {fw.title}, answers sent ({rated}){due}."
    return f"Board round{board}: {fw.title}, in progress ({rated}){due}."


async def my_data(ctx: Context) -> Reply:
    found = await privacy.assessments_of(ctx.store, ctx.who)
    return Reply(send=[Text(privacy.my_data_text(found, ctx.engine.frameworks))])


async def forget(ctx: Context) -> Reply:
    found = await privacy.assessments_of(ctx.store, ctx.who)
    return ctx.show(privacy.forget_card(found, ctx.mode))


async def forget_confirmed(ctx: Context) -> Reply:
    if not ctx.from_card:
        raise say("To delete your data, type forget me and confirm on the card.")
    if ctx.engine.on_forget is not None:
        place = ctx.turn.place
        await ctx.engine.on_forget(ctx.who, place.sender_id if place else "")
    await ctx.store.forget(ctx.who)
    return Reply(
        send=[
            Text(
                "Done: I have deleted everything I kept about you. If your board invites you "
                "to a round, you can start afresh."
            )
        ]
    )


async def help_(ctx: Context) -> Reply:
    return Reply(send=[await ctx.engine.welcome(ctx.who), Text(HELP)])


STEPS: dict[str, Step] = {
    "start": start,  # a framework: open or resume its assessment, show the element on screen
    "resume": resume,  # show the element (or review) where the trustee left off
    "rate": rate,  # save rating + evidence for the card's element, go to the next unrated
    "skip": skip,  # keep any draft evidence, go to the next unrated element
    "back": back,  # keep any draft evidence, go to the element before
    "pause": pause,  # keep any draft evidence, show how to pick up again
    "goto": goto,  # open any element (from the review, or "go to 5")
    "review": review,  # every answer on one card, ready to change or finish
    "finish": finish,  # close the assessment, show the heat map and draft priorities
    "results": results,  # the latest heat map and priorities
    "status": status,  # what is in progress and what is finished
    "help": help_,  # the frameworks and the commands
    "mydata": my_data,  # everything kept about this person
    "forget": forget,  # asks to confirm deleting it all
    privacy.FORGET_VERB: forget_confirmed,  # deletes it all
}

__all__ = ["HELP", "NOT_SAVED", "STEPS", "Command", "Walkthrough", "match_framework"]
