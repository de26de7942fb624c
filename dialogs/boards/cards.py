"""The board's cards: set-up, roles, opening and following a round, the trustee's invitation,
and the chair's priorities for improvement.

What each card says is worked out here; its layout lives in `dialogs/cards/templates/board_*`.
Names, board names, messages, evidence and plans are typed by people, so every one of them has a
budget in wire bytes (an emoji is 12), and every card stays under `MAX_CARD_BYTES` whatever was
typed. The chair's own plan text is the one thing never cut on the card that edits it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from frameworks import Framework

from .. import clock
from ..cards.build import Notice, action, clip, count, day, excerpt, rating_cell, wire_bytes
from ..cards.render import MAX_CARD_BYTES, CardTooLarge, card_bytes, render
from ..messages import Card
from ..payloads import Start
from ..rounds.minutes import HEADING as MINUTES_HEADING
from ..rounds.minutes import minutes
from ..rounds.summary import BoardPriority, Evidence, RoundSummary
from ..text import length
from .evidence import invitation_text
from .model import (
    CHAIR,
    CLERK,
    IN_PROGRESS,
    NOT_STARTED,
    RESPONDED,
    ROLE_NAMES,
    ROLES,
    TRUSTEE,
    UNREACHABLE,
    Board,
    Member,
    Plan,
    Progress,
    Round,
)
from .payloads import (
    ROLES_PAGE,
    BoardRefresh,
    BoardSetup,
    BoardShow,
    DataDelete,
    DataExport,
    DataShow,
    PlanPublish,
    PlanSave,
    RolesSave,
    RolesShow,
    RoundClose,
    RoundExtend,
    RoundForm,
    RoundInvite,
    RoundNew,
    RoundOpen,
    RoundRemind,
    RoundStatus,
    SummaryShow,
)

MESSAGE_MAX = 1000  # characters (UTF-16 units) of the clerk's message to trustees
PLAN_MAX = 500  # characters of each of the chair's two plan fields, per priority
PROGRESS_LINES = 60  # trustees listed on the round card before "and N more"

BOARD_MAX = 150  # wire bytes of a board's name in a heading
NAME_MAX = 100  # wire bytes of a person's name in a list
CLERKS_SHOWN = 5  # clerks named on the board card before "and N more"
DEADLINE_DAYS = 14  # a new round's deadline, unless the clerk picks another
EXTEND_DAYS = 7  # the date the extend box offers, past the current deadline
MIN_RESPONSES = (1, 20)  # the range a clerk may choose for a round's minimum
MARGIN = 200  # bytes kept free below the limit when text is cut to fit a measured room
# (name, reason) budgets in wire bytes for the round card's trustee lines, tried in turn:
# sixty lines of long names and long delivery errors must still fit.
PROGRESS_BUDGETS = ((NAME_MAX, 240), (60, 120), (40, 60))
# (notes per priority, wire bytes per note) for key issues, tried in turn until a card fits;
# the last shows only how many notes there are.
PLAN_ISSUES = ((3, 300), (3, 160), (2, 100), (1, 60), (0, 0))
CLOSE_NAMES = 12  # names listed in the close confirmation; the rest are counted
# Where the chair reads the notes the plan card has no room for: the board paper has them all.
MORE_NOTES = (
    "Every note is in full in the board paper: its link comes with the summary, and Show the "
    "summary on the round card gives a fresh one."
)
PUBLISHED_ISSUES = ((3, 300), (2, 200), (2, 120), (1, 80), (1, 40), (0, 0))
NONE_NOTED = "No evidence noted."
NOT_AGREED = "Not yet agreed"
ACTIONS_LABEL = "What the board will do"
PROGRESS_LABEL = "Progress wanted in 12 months"
TONE = (
    "It is diagnostic, not judgemental: there are no wrong answers, only your view of where the "
    "board is strong and where it should build capacity."
)
# The order trustees are listed in on the clerk's round card: those needing a look first.
ATTENTION = {UNREACHABLE: 0, NOT_STARTED: 1, IN_PROGRESS: 2, RESPONDED: 3}

T = TypeVar("T")


# -- set-up and the board's own card --------------------------------------------------------------


def setup_card(board_name: str, board_id: str, mode: str, notice: Notice | None = None) -> Card:
    """Posted in the team's channel when the bot is added: who trustboard is, and a button."""
    summary = "trustboard has joined: set up this board to start self-assessment rounds."
    content = render(
        "board_setup.json.j2",
        summary=summary,
        notice=notice,
        heading="Hello, I'm trustboard",
        subtitle=_board_name(board_name),
        intro=[
            "I'm a self-assessment companion for the Confederation of School Trusts' "
            "improvement-capacity frameworks. The aim is diagnostic, not judgemental: to find "
            "the board's strengths and where to build capacity.",
            "When a round opens, each trustee answers privately, in their own chat with me. The "
            "board then sees a heat map of everyone's ratings and its priorities for improvement.",
            "Whoever sets up the board becomes its clerk: they can then choose the chair and "
            "other clerks, and open rounds.",
        ],
        actions_list=[action("Set up this board", BoardSetup(board=board_id), mode, "positive")],
    )
    return Card(content, summary)


def board_card(
    board: Board,
    open_round: Round | None,
    frameworks: Mapping[str, Framework],
    mode: str,
    notice: Notice | None = None,
    *,
    view: str = CLERK,
    refresh_ids: Sequence[str] = (),
) -> Card:
    """The board's public card in its channel: who is who, and the open round if there is one.

    `view`: whose buttons it shows, a clerk's (every action), the chair's (the round's progress)
    or anyone else's (none). Posted in the channel it is everyone's, and Teams asks again for the
    view of each of `refresh_ids` (Universal Actions' refresh.userIds: the clerks and the chair),
    so each person sees the buttons their role allows; the server checks each press all the same.
    """
    name = _board_name(board.name)
    b = board.id
    buttons = []
    if view == CLERK:
        buttons.append(action("Manage roles", RolesShow(board=b, page=0), mode))
    if open_round and view in (CLERK, CHAIR):
        progress = RoundStatus(board=b, round=open_round.id)
        buttons.append(action("Round progress", progress, mode))
    elif view == CLERK:
        buttons.append(action("Open a round", RoundNew(board=b), mode))
    if view == CLERK:
        buttons.append(action("Refresh members", BoardRefresh(board=b), mode))
        buttons.append(action("Board data", DataShow(board=b), mode))
    if not buttons:
        # Where Teams does not refresh the card for them (a client without Universal Actions'
        # refresh), a clerk or the chair asks for their buttons; anyone else just sees this card.
        buttons.append(action("My options", BoardShow(board=b), mode))
    refresh = None
    if refresh_ids and mode == "execute":
        again = action("Board", BoardShow(board=b), mode)
        again.pop("fallback", None)
        refresh = {"action": again, "userIds": list(refresh_ids)[:60]}
    round_block = _open_round_block(open_round, frameworks) if open_round else None
    summary = (
        f"{name}: a self-assessment round is open, answers due {day(open_round.deadline)}."
        if open_round
        else f"{name}: no self-assessment round is open."
    )
    content = render(
        "board_public.json.j2",
        summary=summary,
        notice=notice,
        heading=name,
        people=_people(board),
        round=round_block,
        no_round="No self-assessment round is open at the moment.",
        footer="Only clerks can change roles or run rounds.",
        actions_list=buttons,
        refresh=refresh,
    )
    return Card(content, summary)


def moved_card() -> Card:
    """What an earlier board card in the channel says once a newer one is the live one."""
    text = "This card has moved on: the board's current card is the newest one in the channel."
    return Card(render("superseded.json.j2", summary=text, text=text), text)


def _people(board: Board) -> list[str]:
    clerks = [_name(m.name) for m in _by_name(board.clerks)]
    shown = ", ".join(clerks[:CLERKS_SHOWN])
    if len(clerks) > CLERKS_SHOWN:
        shown += f" and {len(clerks) - CLERKS_SHOWN} more"
    clerk_line = (
        f"{'Clerk' if len(clerks) == 1 else 'Clerks'}: {shown}"
        if clerks
        else "Clerk: not chosen yet"
    )
    chair = board.chair
    trustees = len(board.trustees)
    others = len(board.members) - trustees
    return [
        clerk_line,
        f"Chair: {_name(chair.name) if chair else 'not chosen yet'}",
        f"{count(trustees, 'trustee', 'trustees')}{' (the chair included)' if chair else ''} and "
        f"{count(others, 'other member', 'other members')}",
    ]


def _open_round_block(rnd: Round, frameworks: Mapping[str, Framework]) -> dict[str, str]:
    framework = frameworks.get(rnd.framework)
    return {
        "title": f"Round open: {framework.title if framework else rnd.framework}",
        "detail": _scope(rnd.elements, framework),
        "deadline": f"Answers due by the end of {day(rnd.deadline)} ({clock.zone_label()})",
        "trustees": "Trustees: look for my message in your chat with trustboard.",
    }


# -- roles ----------------------------------------------------------------------------------------


def roles_card(board: Board, page: int, mode: str, notice: Notice | None = None) -> Card:
    """For a clerk: each member's role, `ROLES_PAGE` at a time, sorted by name."""
    members = _by_name(board.members)
    pages = max(1, -(-len(members) // ROLES_PAGE))
    page = min(max(page, 0), pages - 1)  # a page that emptied as members left shows the last
    shown = members[page * ROLES_PAGE : (page + 1) * ROLES_PAGE]
    first = page * ROLES_PAGE + 1
    where = (
        f"Members {first}–{first + len(shown) - 1} of {len(members)}"
        if shown
        else "No members yet: press Refresh members on the board's card."
    )
    name = _board_name(board.name)
    summary = f"Roles on {name}: {where.lower() if shown else 'no members yet'}."
    content = render(
        "board_roles.json.j2",
        summary=summary,
        notice=notice,
        heading="Roles",
        subtitle=name,
        explain=(
            "Clerks run rounds and manage roles; keep at least one. The chair receives the "
            "summary and agrees the priorities for improvement. Trustees answer each round, the "
            "chair too. Choose Not a trustee for executives and observers: they are not invited. "
            "Save before turning the page, or the changes on this page are lost."
        ),
        range=where,
        rows=[
            {"name": _name(m.name), "id": f"role.{i}", "value": _role(m)}
            for i, m in enumerate(shown)
        ],
        choices=[{"title": ROLE_NAMES[code], "value": code} for code in ROLES],
        actions_list=_roles_actions(board, page, pages, shown, mode),
    )
    return Card(content, summary)


def _roles_actions(
    board: Board, page: int, pages: int, shown: Sequence[Member], mode: str
) -> list[dict[str, Any]]:
    b = board.id
    buttons = []
    if shown:
        keys = [m.key for m in shown]  # the server pairs role.<i> with keys[i]
        save = RolesSave(board=b, page=page, keys=keys)
        buttons.append(action("Save roles", save, mode, "positive"))
    if page > 0:
        buttons.append(action("Previous", RolesShow(board=b, page=page - 1), mode))
    if page < pages - 1:
        buttons.append(action("Next", RolesShow(board=b, page=page + 1), mode))
    buttons.append(action("Back to the board", BoardShow(board=b), mode))
    return buttons


def _role(member: Member) -> str:
    # A role the card cannot offer would fail the ChoiceSet; the store only writes known ones.
    return member.role if member.role in ROLES else TRUSTEE


# -- opening a round ------------------------------------------------------------------------------


def choose_framework_card(
    board: Board, frameworks: Sequence[Framework], mode: str, notice: Notice | None = None
) -> Card:
    """The first step of opening a round: which framework the board works through."""
    summary = "Open a round: choose a framework."
    blocks = [
        {
            "title": fw.title,
            "detail": f"{count(len(fw.elements), 'element', 'elements')} · {fw.publisher}"
            + (f", {fw.published}" if fw.published else ""),
            # Titled with the framework: a screen reader reads a button's title on its own.
            "actions": [
                action(f"Choose {fw.short_title}", RoundForm(board=board.id, framework=fw.id), mode)
            ],
        }
        for fw in frameworks
    ]
    content = render(
        "board_frameworks.json.j2",
        summary=summary,
        notice=notice,
        heading="Open a round: choose a framework",
        subtitle=_board_name(board.name),
        intro=[
            "Every trustee answers the same elements, privately. When the round closes, the "
            "board's heat map and draft priorities go to the channel and to the chair."
        ],
        frameworks=blocks,
        none_available="No frameworks are available yet.",
        actions_list=[action("Back to the board", BoardShow(board=board.id), mode)],
    )
    return Card(content, summary)


def round_form_card(
    board: Board,
    framework: Framework,
    mode: str,
    *,
    today: str,
    elements: tuple[int, ...] | None = None,
    deadline: str | None = None,
    attributed: bool = False,
    issues_to_team: bool = False,
    min_responses: int = 3,
    message: str = "",
    notice: Notice | None = None,
    last_priorities: tuple[int, ...] = (),
) -> Card:
    """The form a clerk fills in to open a round; `today` is "YYYY-MM-DD" (UK). `elements`
    None ticks every element, an empty tuple none; `last_priorities`, the priorities of the
    board's last closed round on this framework, are offered as a starting set."""
    if elements is None:
        chosen = [e.number for e in framework.elements]
    else:
        chosen = [n for n in elements if framework.element(n)]
    due = _date(deadline) if deadline else date.fromisoformat(today) + timedelta(DEADLINE_DAYS)
    summary = f"Open a round: {framework.title}."
    context = {
        "summary": summary,
        "notice": notice,
        "heading": "Open a round",
        "subtitle": f"{framework.title} · {_board_name(board.name)}",
        "intro": (
            "Choose what to ask, by when, and what the chair and clerks will see. Trustees get "
            "my message in their own chat with trustboard."
        ),
        "element_choices": [
            {"title": f"{e.number}. {e.title}", "value": str(e.number)} for e in framework.elements
        ],
        "elements_value": ",".join(str(n) for n in sorted(set(chosen))),
        "elements_hint": (
            "A learning set works on three or four elements; a full review takes them all."
        ),
        "element_starts": _element_starts(board, framework, chosen, last_priorities, mode),
        "today": today,
        "deadline": due.isoformat(),
        "deadline_hint": (
            f"The round closes at the end of that day ({clock.zone_label()}). Trustees who have "
            "not finished "
            "get one automatic reminder before it."
        ),
        "visibility": "attributed" if attributed else "anonymous",
        "visibility_choices": [
            {"title": "Anonymous: the chair sees evidence without names", "value": "anonymous"},
            {
                "title": "Attributed: the chair and clerks see who wrote what",
                "value": "attributed",
            },
        ],
        "issues": "team" if issues_to_team else "board",
        "issues_choices": [
            {
                "title": "Only the board's trustees, chair and clerks (recommended)",
                "value": "board",
            },
            {"title": "Everyone in the team, members who are not trustees too", "value": "team"},
        ],
        "issues_hint": (
            "Key issues are trustees' evidence, quoted without names. Trustees are told who will "
            "see it before they answer."
        ),
        "min_label": "Fewest responses before an element's breakdown is shown",
        "min_low": MIN_RESPONSES[0],
        "min_high": MIN_RESPONSES[1],
        "min_value": min_responses,
        "min_hint": (
            "Below it an element shows no ratings or evidence, so a small board cannot tell who "
            "rated what."
        ),
        "message_placeholder": f"Up to {MESSAGE_MAX:,} characters, sent with the invitation.",
        "message": message,
        # A message already over the limit comes back uncut (no maxLength a client could
        # enforce by cutting it), so the clerk can shorten it themselves.
        "message_max": MESSAGE_MAX if length(message) <= MESSAGE_MAX else None,
        "actions_list": [
            action(
                "Open the round",
                RoundOpen(board=board.id, framework=framework.id),
                mode,
                "positive",
            ),
            action("Back", RoundNew(board=board.id), mode),
        ],
    }
    return Card(_with_long_text(context, "board_round_form.json.j2", "message"), summary)


TOO_LONG_TO_SHOW = (
    "Your message is too long to show here whole, so the box holds its beginning: shorten it "
    f"to {MESSAGE_MAX:,} characters."
)


def _element_starts(
    board: Board,
    framework: Framework,
    chosen: Sequence[int],
    last_priorities: tuple[int, ...],
    mode: str,
) -> list[dict[str, Any]]:
    """Ways to set the ticks at once, so a learning set of three needs no thirteen unticks."""
    b, fw = board.id, framework.id
    total = len(framework.elements)
    buttons = []
    if chosen:
        buttons.append(action("Untick all", RoundForm(board=b, framework=fw, elements=()), mode))
    if len(chosen) < total:
        every = RoundForm(board=b, framework=fw, elements=None)
        buttons.append(action("Tick all", every, mode))
    if last_priorities and tuple(sorted(chosen)) != tuple(sorted(last_priorities)):
        last = RoundForm(board=b, framework=fw, elements=last_priorities)
        title = f"Last round's priorities ({len(last_priorities)})"
        buttons.append(action(title, last, mode))
    return buttons


def _with_long_text(context: dict[str, Any], template: str, key: str) -> dict[str, Any]:
    """The card, or, when what someone typed is far too long for it, with as much as fits."""
    try:
        return render(template, **context)
    except CardTooLarge:
        pass
    notice = Notice(TOO_LONG_TO_SHOW, "warning")
    context = {**context, "notice": notice}
    base = card_bytes(render(template, **{**context, key: ""}))
    return _within(
        lambda room: render(template, **{**context, key: clip(context[key], room)}),
        MAX_CARD_BYTES - base - MARGIN,
    )


# -- the clerk's round card -----------------------------------------------------------------------


def round_card(
    board: Board,
    rnd: Round,
    framework: Framework,
    progress: Sequence[Progress],
    mode: str,
    notice: Notice | None = None,
    *,
    followup: tuple[int, ...] = (),
    joined: Sequence[Member] = (),
    note: str | None = None,
    minutes: Sequence[str] | None = None,
    can_run: bool = True,
) -> Card:
    """The clerk's live view of a round: who has answered, and what the clerk can do about it.
    `note`, on a closed round: where its summary has got to (dialogs/boards/posting.py)."""
    name = _board_name(board.name)
    current = [p for p in progress if not p.left]  # those who left are told nothing more
    tally = {state: sum(1 for p in current if p.state == state) for state in ATTENTION}
    waiting = tally[IN_PROGRESS] + tally[NOT_STARTED]  # the unreachable cannot be reminded
    gone = len(progress) - len(current)
    counts = (
        f"Responded {tally[RESPONDED]} · In progress {tally[IN_PROGRESS]} · "
        f"Not started {tally[NOT_STARTED]} · Unreachable {tally[UNREACHABLE]} of "
        f"{count(len(current), 'trustee', 'trustees')}"
        + (f" · Left the team: {gone}" if gone else "")
    )
    summary = f"Round on {framework.short_title} for {name}: " + (
        f"{tally[RESPONDED]} of {len(current)} responded."
        if rnd.is_open
        else f"closed {day(rnd.closed)}."
    )
    context = {
        "summary": summary,
        "notice": notice,
        "heading": f"Round: {framework.title}",
        "subtitle": name,
        "status": _round_status(rnd),
        "about": _round_about(rnd, framework),
        "counts": counts,
        "is_open": rnd.is_open,
        "can_run": can_run,
        "remind": (
            action(
                f"Send a reminder ({waiting})",
                RoundRemind(board=board.id, round=rnd.id, sent=rnd.reminders),
                mode,
            )
            if rnd.is_open and waiting
            else None
        ),
        "extend_text": (
            f"The round will close at the end of the day you choose ({clock.zone_label()})."
        ),
        "extend_min": _date(rnd.deadline).isoformat(),
        "extend_value": (_date(rnd.deadline) + timedelta(EXTEND_DAYS)).isoformat(),
        "extend": action("Extend", RoundExtend(board=board.id, round=rnd.id), mode),
        "close_text": (
            "Closing now sends the summary to the board's channel and to the chair, and "
            "trustees can no longer change their answers. It cannot be undone."
        ),
        "close_who": _not_finished(current, len(rnd.elements)),
        "close": action("Close now", RoundClose(board=board.id, round=rnd.id), mode, "destructive"),
        "refresh": action("Refresh", RoundStatus(board=board.id, round=rnd.id), mode),
        "closed_text": note
        or (
            "I'm no longer in the board's team: the summary went to the chair and the clerks "
            "privately, not to the channel."
            if board.detached
            else "The summary is in the board's channel and with the chair."
        ),
        "actions_list": _closed_actions(board, rnd, followup if can_run else (), mode),
        "joiners": _joiners(board, rnd, joined, mode) if rnd.is_open else None,
        "minutes_heading": MINUTES_HEADING,
        "minutes": list(minutes or []),
    }

    def build(budgets: tuple[int, int]) -> dict[str, Any]:
        groups, more = _progress_groups(progress, len(rnd.elements), rnd.is_open, *budgets)
        return render("board_round.json.j2", **context, groups=groups, more=more)

    return Card(_first_fitting(build, PROGRESS_BUDGETS), summary)


JOINERS_SHOWN = 5  # newcomers listed with an Invite button each; the rest are counted


def _joiners(
    board: Board, rnd: Round, joined: Sequence[Member], mode: str
) -> dict[str, Any] | None:
    """Who joined the team after the round opened: not invited unless the clerk says so."""
    if not joined:
        return None
    shown = _by_name(joined)[:JOINERS_SHOWN]
    lines = [
        f"{_name(m.name, 60)} — joined the team on {day(rnd.joined.get(m.key))}" for m in shown
    ]
    if len(joined) > len(shown):
        lines.append(f"and {len(joined) - len(shown)} more")
    buttons = [
        action(
            f"Invite {_name(m.name, 40)}",
            RoundInvite(board=board.id, round=rnd.id, member=m.key),
            mode,
        )
        for m in shown
    ]
    return {
        "title": f"Joined after the round opened ({len(joined)})",
        "text": "Not invited yet: invite them if they should answer this round.",
        "lines": lines,
        "buttons": buttons,
    }


def _not_finished(progress: Sequence[Progress], asked: int) -> str:
    """Who the close confirmation warns about: everyone invited who has not finished."""
    waiting = [p for p in progress if p.state != RESPONDED]
    if not waiting:
        return "Every trustee has finished."
    how = {NOT_STARTED: "not started", UNREACHABLE: "unreachable"}
    shown = [
        f"{_name(p.member.name)} ({how.get(p.state) or f'{p.rated} of {asked} rated'})"
        for p in waiting[:CLOSE_NAMES]
    ]
    if len(waiting) > CLOSE_NAMES:
        shown.append(f"{len(waiting) - CLOSE_NAMES} more")
    listed = ", ".join(shown[:-1]) + f" and {shown[-1]}" if len(shown) > 1 else shown[0]
    return (
        f"Not finished: {listed}. Their answers so far count; they can add nothing once it closes."
    )


def _round_status(rnd: Round) -> str:
    if rnd.is_open:
        return f"Open: answers due by the end of {day(rnd.deadline)} ({clock.zone_label()})."
    when = f"Closed on {day(rnd.closed)}"
    return when + (", at the deadline." if rnd.closed_by == "deadline" else ".")


def _round_about(rnd: Round, framework: Framework) -> list[str]:
    about = [f"{_scope(rnd.elements, framework)}.", _visibility(rnd)]
    if rnd.is_open and rnd.remind_at:
        about.append(
            f"An automatic reminder goes to those who have not finished on {day(rnd.remind_at)}."
        )
    if rnd.reminders:
        about.append(f"Reminders sent by a clerk so far: {rnd.reminders}.")
    return about


def _visibility(rnd: Round) -> str:
    who = (
        "Attributed: the chair and clerks see who wrote what."
        if rnd.attributed
        else "Anonymous: the chair sees evidence without names."
    )
    return (
        f"{who} An element's breakdown shows once at least "
        f"{count(rnd.min_responses, 'trustee has', 'trustees have')} rated it."
    )


def _progress_groups(
    progress: Sequence[Progress], asked: int, is_open: bool, name_max: int, reason_max: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Trustees still to finish first (unreachable, not started, in progress), then the rest,
    then those who left the team while the round was open."""
    ordered = sorted(
        progress,
        key=lambda p: (
            bool(p.left),
            ATTENTION.get(p.state, 1),
            p.member.name.casefold(),
            p.member.key,
        ),
    )
    shown = ordered[:PROGRESS_LINES]
    staying = [p for p in ordered if not p.left]
    responded = sum(1 for p in staying if p.state == RESPONDED)
    sections = (
        # (heading, how many in all, those shown, greyed out)
        (
            "Still to finish" if is_open else "Did not finish",
            len(staying) - responded,
            [p for p in shown if p.state != RESPONDED and not p.left],
            False,
        ),
        ("Responded", responded, [p for p in shown if p.state == RESPONDED and not p.left], True),
        ("Left the team", len(ordered) - len(staying), [p for p in shown if p.left], True),
    )
    groups = [
        {
            "title": f"{heading} ({total})",
            "lines": [_progress_line(p, asked, name_max, reason_max) for p in people],
            "subtle": subtle,
        }
        for heading, total, people, subtle in sections
        if people
    ]
    left = len(ordered) - len(shown)
    return groups, (f"and {left} more" if left else None)


def _progress_line(progress: Progress, asked: int, name_max: int, reason_max: int) -> str:
    name = _name(progress.member.name, name_max)
    if progress.left:
        return f"{name} — {_left_status(progress, asked)}"
    if progress.state == RESPONDED:
        status = "Responded"
    elif progress.state == IN_PROGRESS:
        status = f"In progress ({progress.rated} of {asked} rated)"
    elif progress.state == UNREACHABLE:
        reason = excerpt(progress.reason or "", reason_max)
        status = f"Unreachable: {reason}" if reason else "Unreachable"
    else:
        status = "Not started"
    return f"{name} — {status}"


def _left_status(progress: Progress, asked: int) -> str:
    """What became of the answers of someone who left: given while a trustee, they count."""
    when = f"Left the team on {day(progress.left)}"
    if progress.state == RESPONDED:
        return f"{when}, having responded: their answers count"
    if progress.state == IN_PROGRESS:
        return f"{when}, with {progress.rated} of {asked} rated: those count"
    return f"{when}, before answering"


def _closed_actions(
    board: Board, rnd: Round, followup: tuple[int, ...], mode: str
) -> list[dict[str, Any]]:
    buttons = [action("Show the summary", SummaryShow(board=board.id, round=rnd.id), mode)]
    if followup:
        what = "the priority" if len(followup) == 1 else f"the {len(followup)} priorities"
        again = RoundForm(board=board.id, framework=rnd.framework, elements=followup)
        buttons.append(action(f"Open a follow-up round on {what}", again, mode))
    return buttons


# -- the trustee's invitation ---------------------------------------------------------------------


def invitation_card(
    board: Board,
    rnd: Round,
    framework: Framework,
    mode: str,
    *,
    reminder: bool = False,
    notice: Notice | None = None,
    rated: int = 0,
) -> Card:
    """The personal message each invited trustee gets when a round opens, or as a reminder;
    a reminder to someone who has `rated` some elements already says how far they are."""
    name = _board_name(board.name)
    due = day(rnd.deadline)
    progress = None
    if reminder:
        heading = f"A reminder: the board's self-assessment closes on {due}"
        summary = f"A reminder: {name}'s self-assessment closes on {due}."
        if rated:
            progress = f"{rated} of {len(rnd.elements)} rated: carry on where you left off."
            summary += f" {progress}"
    else:
        heading = f"{name} has opened a self-assessment round"
        summary = f"{heading}: {framework.short_title}, answers due {due}."
    clerk = board.member(rnd.opened_by) or rnd.invitee(rnd.opened_by)
    every = len(rnd.elements) == len(framework.elements)
    context = {
        "summary": summary,
        "notice": notice,
        "heading": heading,
        "subtitle": f"{name} · {framework.title}" if reminder else framework.title,
        "scope": (
            f"All {len(framework.elements)} elements of the framework."
            if every
            else f"{len(rnd.elements)} of the framework's {len(framework.elements)} elements:"
        ),
        "element_lines": [] if every else _element_lines(rnd.elements, framework),
        "deadline": f"Please answer by the end of {due} ({clock.zone_label()}).",
        "message_from": f"A message from {_name(clerk.name) if clerk else 'the clerk'}:",
        "message": _paragraphs(rnd.message),
        "about": [
            invitation_text(rnd),
            "Your answers are saved as you go; you can change them until the round closes.",
            TONE,
        ],
        "progress": progress,
        "actions_list": [
            action(
                "Carry on" if progress else "Start",
                Start(board=board.id, round=rnd.id),
                mode,
                "positive",
            )
        ],
    }
    try:
        content = render("board_invitation.json.j2", **context)
    except CardTooLarge:  # only a message far over MESSAGE_MAX gets here: show its beginning
        base = card_bytes(render("board_invitation.json.j2", **{**context, "message": ["…"]}))
        content = _within(
            lambda room: render(
                "board_invitation.json.j2", **{**context, "message": [excerpt(rnd.message, room)]}
            ),
            MAX_CARD_BYTES - base - MARGIN,
        )
    return Card(content, summary)


def _element_lines(numbers: Sequence[int], framework: Framework) -> list[str]:
    return [
        f"{n}. {element.title}" for n in numbers if (element := framework.element(n)) is not None
    ]


def _paragraphs(text: str) -> list[str]:
    """A message's lines, blank ones dropped: each becomes a paragraph of its own."""
    return [line.strip() for line in text.splitlines() if line.strip()]


# -- the chair's plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _PlanPage:
    """Which priorities one plan card holds, and where it sits among the pages."""

    start: int
    end: int
    number: int
    pages: int


def plan_card(
    board: Board,
    rnd: Round,
    summary: RoundSummary,
    mode: str,
    notice: Notice | None = None,
    *,
    page: int = 0,
    confirm_empty: int | None = None,
    peer_weaker: frozenset[int] = frozenset(),
) -> Card:
    """The chair's editor of the board's priorities for improvement.

    `peer_weaker`: elements a peer review rated two or more steps weaker than the board did;
    each such priority is marked, and those not among the priorities are named as seeds.

    `confirm_empty`: the chair pressed Publish with that many priorities not yet planned; the
    card asks them to confirm, its publish button carrying the count it was drawn with.

    The chair's text is never cut: key-issue excerpts shrink first, and if sixteen full plans
    still cannot share one card (sixteen times two boxes of 500 emoji is far over any card), the
    priorities are spread over pages. `page` is which one; on a single page there is no paging
    and the buttons carry only `b`, `r` and `v`. A page's inputs cover its priorities only, so
    the server keeps the saved plan of every priority whose inputs did not come back.
    """
    priorities = summary.priorities
    fallback = (
        f"Priorities for improvement: {count(len(priorities), 'priority', 'priorities')} to plan."
        if priorities
        else "Priorities for improvement: nothing to plan this round."
    )
    context = {
        "summary": fallback,
        "notice": notice,
        "heading": "Priorities for improvement",
        "subtitle": f"{summary.framework.title} · {_board_name(board.name)}",
        "intro": (
            [
                "For each priority, note what the board will do about it and the progress it "
                "wants to see in the next 12 months. Save a draft as you go; publish to the "
                "channel once the board has agreed it.",
                "The key issues are drawn from trustees' evidence, that of trustees who rated "
                "Red or Amber Red first.",
            ]
            if priorities
            else ["This is where the chair agrees the board's priorities after a round."]
        ),
        "published": (
            f"Last published to the channel on {day(rnd.published)}." if rnd.published else None
        ),
        "key_issues": "Key issues",
        "actions_label": ACTIONS_LABEL,
        "progress_label": PROGRESS_LABEL,
        "nothing_to_plan": (
            "There is nothing to plan this time: no element had a board rating of Red or Amber "
            "Red, and views nowhere differed by two or more steps. The board may still want to "
            "talk about moving its Amber Green elements to Green."
        ),
        "small_print": "The board's summary is in the channel.",
        "more_notes": MORE_NOTES,
        "peer_mark": PEER_WEAKER,
        "peer_seeds": _peer_seeds(summary, peer_weaker),
    }
    if not priorities:
        content = render(
            "board_plan.json.j2", **context, paging=None, priorities=[], actions_list=[]
        )
        return Card(content, fallback)

    def build(
        where: _PlanPage, issues: tuple[int, int], texts: list[str] | None = None
    ) -> dict[str, Any]:
        group = priorities[where.start : where.end]
        return render(
            "board_plan.json.j2",
            **context,
            paging=_paging(where, len(priorities)),
            priorities=_plan_rows(group, rnd, issues, texts, peer_weaker),
            actions_list=_plan_actions(board, rnd, where, mode, confirm_empty),
        )

    pages = _plan_pages(build, len(priorities))
    where = pages[min(max(page, 0), len(pages) - 1)]
    try:
        content = _first_fitting(lambda issues: build(where, issues), PLAN_ISSUES)
    except CardTooLarge:  # one priority's saved plan is bigger than a card: say so, show its start
        context["notice"] = Notice(TOO_LONG_PLAN, "warning")
        content = _with_clipped_plans(build, where, priorities, rnd)
    return Card(content, fallback)


def _plan_pages(build: Callable[..., dict[str, Any]], total: int) -> list[_PlanPage]:
    """Priorities in order, as many to a card as fit with the fewest key issues."""
    compact = PLAN_ISSUES[-1]

    def fits(start: int, end: int) -> bool:
        # Measured as "page 98 of 99" with both paging buttons: the widest a page can render,
        # so a page never outgrows its measure (sixteen priorities make sixteen pages at most).
        try:
            build(_PlanPage(start, end, 97, 99), compact)
        except CardTooLarge:
            return False
        return True

    if fits(0, total):
        return [_PlanPage(0, total, 0, 1)]
    bounds = []
    start = 0
    while start < total:
        end = start + 1  # one priority always gets a page, however long its plan
        while end < total and fits(start, end + 1):
            end += 1
        bounds.append((start, end))
        start = end
    return [_PlanPage(s, e, i, len(bounds)) for i, (s, e) in enumerate(bounds)]


def _paging(where: _PlanPage, total: int) -> str | None:
    if where.pages == 1:
        return None
    span = (
        f"{where.start + 1}" if where.end == where.start + 1 else f"{where.start + 1}–{where.end}"
    )
    return (
        f"Priorities {span} of {total} (page {where.number + 1} of {where.pages}): the plan is "
        "too long to edit on one card. Saving keeps what is on the other pages."
    )


PEER_WEAKER = "⚑ A peer review rated this two or more steps weaker than the board did."


def _peer_seeds(summary: RoundSummary, weaker: frozenset[int]) -> str | None:
    """The elements a peer rated two or more steps weaker that are not priorities: seeds."""
    listed = {p.summary.element.number for p in summary.priorities}
    named = [
        f"{n}. {element.title}"
        for n in sorted(weaker - listed)
        if (element := summary.framework.element(n)) is not None
    ]
    if not named:
        return None
    return (
        "A peer review rated these two or more steps weaker than the board did, and they are "
        f"not among the priorities: {'; '.join(named)}. The board may want to add them (the "
        "board paper has the peer's evidence)."
    )


def _plan_rows(
    group: Sequence[BoardPriority],
    rnd: Round,
    issues: tuple[int, int],
    texts: list[str] | None,
    peer_weaker: frozenset[int] = frozenset(),
) -> list[dict[str, Any]]:
    rows = []
    for i, p in enumerate(group):
        n = p.summary.element.number
        plan = rnd.plan.get(n, Plan())
        actions, progress = (
            (texts[2 * i], texts[2 * i + 1]) if texts else (plan.actions, plan.progress)
        )
        rows.append(
            {
                **rating_cell(p.summary.board),
                "focus_area": p.focus_area,
                "peer_weaker": n in peer_weaker,
                "key_issues": _key_issues(p.evidence, *issues, named=True),
                "actions_id": f"actions.{n}",
                "progress_id": f"progress.{n}",
                "actions": actions,
                "progress": progress,
                # A saved plan already over the limit is handed back without a maxLength that
                # a client could enforce by cutting it; the chair shortens it themselves.
                "actions_max": PLAN_MAX if length(plan.actions) <= PLAN_MAX else None,
                "progress_max": PLAN_MAX if length(plan.progress) <= PLAN_MAX else None,
            }
        )
    return rows


def _plan_actions(
    board: Board, rnd: Round, where: _PlanPage, mode: str, confirm_empty: int | None = None
) -> list[dict[str, Any]]:
    ids: dict[str, Any] = {"board": board.id, "round": rnd.id, "version": rnd.plan_version}
    if confirm_empty:
        title = f"Publish with {count(confirm_empty, 'priority', 'priorities')} not yet agreed"
        publish = action(title, PlanPublish(**ids, empty=confirm_empty), mode, "positive")
    else:
        publish = action("Publish to the channel", PlanPublish(**ids), mode, "positive")
    if where.pages == 1:
        return [action("Save draft", PlanSave(**ids), mode), publish]
    buttons = [action("Save draft", PlanSave(**ids, page=where.number), mode)]
    if where.number > 0:
        back = PlanSave(**ids, page=where.number - 1)
        buttons.append(action("Save and go back", back, mode))
    if where.number < where.pages - 1:
        onward = PlanSave(**ids, page=where.number + 1)
        buttons.append(action("Save and show the next priorities", onward, mode))
    buttons.append(publish)
    return buttons


TOO_LONG_PLAN = (
    "This priority's plan is too long to show here whole, so the boxes hold its beginning: "
    f"shorten each to {PLAN_MAX:,} characters."
)


def _with_clipped_plans(
    build: Callable[..., dict[str, Any]],
    where: _PlanPage,
    priorities: Sequence[BoardPriority],
    rnd: Round,
) -> dict[str, Any]:
    """Only a saved plan far over PLAN_MAX gets here (the server refuses those): its beginning."""
    texts = []
    for p in priorities[where.start : where.end]:
        plan = rnd.plan.get(p.summary.element.number, Plan())
        texts += [plan.actions, plan.progress]
    compact = PLAN_ISSUES[-1]
    base = card_bytes(build(where, compact, ["" for _ in texts]))
    return _within(
        lambda room: build(where, compact, _share(texts, room)), MAX_CARD_BYTES - base - MARGIN
    )


# -- the published priorities ---------------------------------------------------------------------


def published_card(board: Board, rnd: Round, summary: RoundSummary, published_on: str) -> Card:
    """The priorities for improvement as the chair agreed them, posted to the whole board.

    Key issues never carry a name, whatever the round's attribution: the channel is everyone's.
    The chair's text is shown whole; only if it could not fit on any card at all (far beyond
    what PLAN_MAX lets anyone save) is the longest of it shortened, and the card says so.
    """
    framework = summary.framework
    name = _board_name(board.name)
    fallback = (
        f"Priorities for improvement, agreed by the chair: {framework.short_title}, "
        f"{count(len(summary.priorities), 'priority', 'priorities')}."
    )
    closed = f", closed {day(rnd.closed)}" if rnd.closed else ""
    context = {
        "summary": fallback,
        "heading": "Priorities for improvement, agreed by the chair",
        "subtitle": f"{name} · {framework.title}",
        "about": [
            f"From the board's self-assessment round on {_scope(rnd.elements, framework).lower()}"
            f"{closed}. Published {day(published_on)}.",
            "The key issues are drawn from trustees' evidence, without names."
            if rnd.issues_to_team
            else "The key issues, trustees' evidence, are for the board's trustees, chair and "
            "clerks: they are on the board's summary for each of them.",
        ],
        "columns": framework.priorities.columns,
        "labels": (ACTIONS_LABEL, PROGRESS_LABEL),
        "not_agreed": NOT_AGREED,
        "no_priorities": (
            "The round found no priorities for improvement: no element had a board rating of "
            "Red or Amber Red, and views nowhere differed by two or more steps."
        ),
    }
    texts = [
        _plan_text(getattr(rnd.plan.get(p.summary.element.number, Plan()), field))
        for p in summary.priorities
        for field in ("actions", "progress")
    ]

    def build(
        issues: tuple[int, int], shown: list[str] | None = None, cut: bool = False
    ) -> dict[str, Any]:
        shown = texts if shown is None else shown
        note = "Some of the plan is too long for one card, so the longest parts end in “…”."
        return render(
            "board_published.json.j2",
            **context,
            priorities=[
                {
                    **rating_cell(p.summary.board),
                    "focus_area": p.focus_area,
                    # The channel is everyone's: key issues only where the round shows them to
                    # the whole team (dialogs/boards/evidence.py).
                    "key_issues": _key_issues(p.evidence, *issues, named=False)
                    if rnd.issues_to_team
                    else [],
                    "actions": shown[2 * i],
                    "progress": shown[2 * i + 1],
                }
                for i, p in enumerate(summary.priorities)
            ],
            small_print=[note] if cut else ["The board's heat map and summary are in the channel."],
        )

    try:
        content = _first_fitting(build, PUBLISHED_ISSUES)
    except CardTooLarge:
        compact = PUBLISHED_ISSUES[-1]
        # Measured with a character in each cell: an empty one shows "Not yet agreed" instead.
        base = card_bytes(build(compact, ["x" for _ in texts], True)) - len(texts)
        content = _within(
            lambda room: build(compact, _share(texts, room), True), MAX_CARD_BYTES - base - MARGIN
        )
    return Card(content, fallback)


def _plan_text(text: str) -> str:
    """The chair's lines, blank ones dropped; the card shows them in one TextRun."""
    return "\n".join(_paragraphs(text))


# -- shared ---------------------------------------------------------------------------------------


def _key_issues(evidence: Sequence[Evidence], notes: int, budget: int, *, named: bool) -> list[str]:
    """Up to `notes` excerpts of `budget` wire bytes, names only where `named` and recorded."""
    if not evidence:
        return [NONE_NOTED]
    if notes == 0:
        return [f"{count(len(evidence), 'note', 'notes')} from trustees, too long for this card."]
    lines = [excerpt(_noted(item, named), budget) for item in evidence[:notes]]
    left = len(evidence) - len(lines)
    if left:
        # On the last line, not a line of its own: a line costs more than its words.
        lines[-1] += f" (and {count(left, 'more note', 'more notes')})"
    return lines


def round_minutes(rnd: Round, summary: RoundSummary) -> list[str]:
    """The round in plain sentences for the minutes, with the chair's plan once published."""
    plans = {n: (p.actions, p.progress) for n, p in rnd.plan.items()} if rnd.published else None
    return minutes(summary, rnd.closed or rnd.deadline, plans)


def _noted(item: Evidence, named: bool) -> str:
    text = " ".join(item.text.split())
    if not named or item.name is None:
        return text
    return f"{_name(item.name, NAME_MAX // 2)}: {text}"


def _share(texts: list[str], room: int) -> list[str]:
    """Every text whole if all fit in `room` wire bytes; else the longest cut to an equal cap."""
    sizes = sorted(wire_bytes(t) for t in texts)
    if sum(sizes) <= room:
        return texts
    cap, left = 0, room
    for i, size in enumerate(sizes):
        share = left // (len(sizes) - i)
        if size > share:
            cap = share
            break
        left -= size
    return [t if wire_bytes(t) <= cap else clip(t, cap) for t in texts]


def _within(build: Callable[[int], dict[str, Any]], room: int) -> dict[str, Any]:
    """`build(room)`, given less room each time: the room is measured, its filling estimated."""
    for _ in range(20):
        try:
            return build(room)
        except CardTooLarge:
            room = room * 9 // 10
    return build(0)


def _first_fitting(build: Callable[[T], dict[str, Any]], options: Sequence[T]) -> dict[str, Any]:
    """The first rendering, of options from richest to leanest, that fits the card limit."""
    for option in options[:-1]:
        try:
            return build(option)
        except CardTooLarge:
            continue
    return build(options[-1])


def _scope(numbers: Sequence[int], framework: Framework | None) -> str:
    if framework is None:
        return count(len(numbers), "element", "elements")
    total = len(framework.elements)
    if len(numbers) == total:
        return f"All {total} elements"
    listed = ", ".join(str(n) for n in numbers)
    return f"{len(numbers)} of {total} elements: {listed}"


def _date(iso: str) -> date:
    """The day of an ISO 8601 date or timestamp in the board's time zone, as `day` shows it."""
    return clock.local_date(iso)


def _board_name(text: str) -> str:
    return excerpt(text, BOARD_MAX) or "This board"


def _name(text: str, budget: int = NAME_MAX) -> str:
    return excerpt(text, budget) or "Someone without a name"


def _by_name(members: Sequence[Member]) -> list[Member]:
    return sorted(members, key=lambda m: (" ".join(m.name.split()).casefold(), m.key))


__all__ = [
    "MESSAGE_MAX",
    "PLAN_MAX",
    "PROGRESS_LINES",
    "ROLES_PAGE",
    "board_card",
    "choose_framework_card",
    "invitation_card",
    "plan_card",
    "published_card",
    "roles_card",
    "round_card",
    "round_form_card",
    "setup_card",
]


def data_card(
    board: Board, retention_days: int | None, mode: str, notice: Notice | None = None
) -> Card:
    """For a clerk: what the board's data is, a download, and deleting it."""
    name = _board_name(board.name)
    kept = (
        f"A closed round, with every trustee's answers in it, is deleted {retention_days} days "
        "after it closes."
        if retention_days
        else "Closed rounds are kept until a clerk deletes the board's data."
    )
    details = [
        "What I keep for this board: its members and their roles; each round's settings, "
        "dates and the chair's priorities; and each trustee's ratings and evidence in the "
        "board's rounds (kept with the trustee's own data, which they can see and delete).",
        kept,
        "Export gives you a download link in our 1:1 chat, valid for an hour. In an anonymous "
        "round the export carries no names beside answers, as on the summary.",
    ]
    summary = f"{name}: the board's data"
    content = render(
        "board_data.json.j2",
        summary=summary,
        notice=notice,
        heading=summary,
        details=details,
        export=action("Export the board's data", DataExport(board=board.id), mode),
        delete_text=(
            "This deletes the board's members and roles, every round and every trustee's "
            "answers in them. Messages already in Teams stay there. It cannot be undone."
        ),
        delete=action("Delete everything", DataDelete(board=board.id), mode, style="destructive"),
        back=action("Back to the board", BoardShow(board=board.id), mode),
    )
    return Card(content, summary)
