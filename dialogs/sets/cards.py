"""A learning set's cards: creating one, joining, the set itself, sharing, the comparison.

What each card says is worked out here; the layout lives in `dialogs/cards/templates/set_*`.
Set names and board names are typed by people, so each has a budget in wire bytes. Where the
set does not show trust names, members are "Trust A" to "Trust H" (the order they joined) and
the viewer's own board is "your board"; the facilitator sees which trusts joined.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from frameworks import Framework

from ..cards.build import Notice, action, count, day, excerpt
from ..cards.render import render
from ..messages import Card
from ..payloads import Start
from ..text import length
from . import payloads as p
from .compare import Interest, Row, SelfPeer, tally
from .model import (
    FOCUS_SIZES,
    MAX_MEMBERS,
    NAME_MAX,
    SOURCE_NAMES,
    LearningSet,
    Review,
    SetMember,
    Source,
)
from .model import format_code as code_text

BOARD_MAX = 120  # wire bytes of a board's name on a set's card
SET_MAX = 160  # wire bytes of a set's name in a heading
INTERESTS_SHOWN = 16
NAMED = "named"
UNNAMED = "unnamed"
RATING_WORDS = {"R": "Red", "AR": "Amber Red", "AG": "Amber Green", "G": "Green"}


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a set: its facilitator, or the chair or a clerk of a member board."""

    facilitator: bool
    member: SetMember | None = None  # the viewer's own board in the set, if any
    role: str | None = None  # chair or clerk of that board


def set_name(learning_set: LearningSet) -> str:
    return excerpt(learning_set.name, SET_MAX) or "A learning set"


def member_name(learning_set: LearningSet, member: SetMember, viewer: Viewer) -> str:
    """A member as this viewer may see it."""
    own = viewer.member is not None and viewer.member.key == member.key
    if learning_set.named or viewer.facilitator:
        name = excerpt(member.name, BOARD_MAX) or f"Trust {member.label}"
        return f"{name} (your board)" if own else name
    return f"Trust {member.label} (your board)" if own else f"Trust {member.label}"


def _ids(learning_set: LearningSet, viewer: Viewer) -> dict[str, Any]:
    """Which set, and the viewer's own board in it: never who may (the server decides)."""
    board = viewer.member.board if viewer.member is not None else None
    return {"set_id": learning_set.id, "board": board}


# -- creating and joining -------------------------------------------------------------------------


def create_card(
    frameworks: Sequence[Framework],
    mode: str,
    notice: Notice | None = None,
    name: str = "",
    framework: str = "",
    named: bool = True,
) -> Card:
    summary = "Create a learning set"
    content = render(
        "set_form.json.j2",
        summary=summary,
        notice=notice,
        heading=summary,
        subtitle="A small group of trust boards comparing a few elements of a CST framework",
        intro=(
            "You will be the set's facilitator and get a join code to pass on to the chairs "
            "(outside trustboard). Each chair (or a clerk, for their board) joins in their own "
            f"chat with me; a set has at most {MAX_MEMBERS} boards. Nothing leaves a board unless "
            "its chair presses Share, and then only the board's rating per element."
        ),
        name=name,
        # A name typed too long comes back whole, to shorten: a maxLength under it would not show.
        name_max=NAME_MAX if length(name) <= NAME_MAX else None,
        framework=framework or (frameworks[0].id if frameworks else ""),
        framework_choices=[{"title": fw.title, "value": fw.id} for fw in frameworks],
        named="named" if named else "unnamed",
        named_choices=[
            {"title": "Members see each other's trust names", "value": NAMED},
            {"title": "Members are Trust A, Trust B, …", "value": UNNAMED},
        ],
        named_hint="You, as facilitator, see which trusts joined either way.",
        actions_list=[action("Create the set", p.SetCreate(), mode, "positive")],
    )
    return Card(content, summary)


def join_card(
    code: str,
    boards: Sequence[tuple[str, str]],
    mode: str,
    notice: Notice | None = None,
) -> Card:
    """Which of the person's boards joins (they chair or clerk more than one)."""
    summary = "Which board joins the learning set?"
    sections = [
        {
            "title": excerpt(name, BOARD_MAX) or "A board",
            "lines": [],
            "actions": [action("Join with this board", p.SetJoin(code=code, board=board), mode)],
        }
        for board, name in boards
    ]
    return _page(summary, summary, None, [], sections, mode, notice=notice)


def list_card(
    entries: Sequence[tuple[LearningSet, Viewer]],
    mode: str,
    notice: Notice | None = None,
    chaired: Sequence[tuple[str, str]] = (),
) -> Card:
    """The person's learning sets, joining one with a code, and creating one."""
    summary = "Your learning sets"
    sections = []
    for learning_set, viewer in entries:
        who = (
            "you facilitate it"
            if viewer.facilitator
            else f"{member_name(learning_set, viewer.member, viewer)}"
            if viewer.member
            else ""
        )
        sections.append(
            {
                "title": set_name(learning_set),
                "lines": [
                    f"{count(len(learning_set.members), 'board', 'boards')} of {MAX_MEMBERS}"
                    + (f" · {who}" if who else "")
                ],
                "actions": [
                    action("Open", p.SetShow(**_ids(learning_set, viewer)), mode),
                ],
            }
        )
    intro = (
        []
        if entries
        else [
            "You are in no learning set yet. A chair or a clerk joins with the code the set's "
            "facilitator gave them; anyone can create one."
        ]
    )
    inputs = [
        {
            "kind": "text",
            "id": "code",
            "label": "Join a set: its code",
            "placeholder": "For example KQ7M-4XPD",
            "value": "",
            "max": 12,
            "hint": "Only the chair or a clerk of a board set up with me can join, for that board.",
        }
    ]
    buttons = [
        action("Join", p.SetJoin(), mode),
        action("Create a learning set", p.SetNew(), mode),
    ]
    for board_id, name in chaired:  # a peer review by direct invitation, outside any set
        title = f"Ask for a peer review of {excerpt(name, 40) or 'your board'}"
        buttons.append(action(title, p.ReviewNew(board=board_id), mode))
    return _page(summary, summary, None, intro, sections, mode, inputs, buttons, notice=notice)


# -- the set itself -------------------------------------------------------------------------------


def set_card(
    learning_set: LearningSet,
    framework: Framework,
    viewer: Viewer,
    interests: Sequence[Interest],
    mode: str,
    notice: Notice | None = None,
) -> Card:
    s = learning_set
    ids = _ids(s, viewer)
    subtitle = (
        f"{framework.short_title} · facilitated by {excerpt(s.facilitator.name, BOARD_MAX)} · "
        f"{count(len(s.members), 'board', 'boards')} of {MAX_MEMBERS}"
    )
    intro = []
    if viewer.facilitator:
        intro.append(
            f"Join code: {code_text(s.code)}. Pass it to the chairs yourself; it works until you "
            "withdraw it."
            if s.code
            else "The join code is withdrawn: nobody can join until you make a new one."
        )
    intro.append(
        "Trust names are shown to members."
        if s.named
        else "Members see each other as Trust A, Trust B, …; only the facilitator sees names."
    )
    sections = [_members_section(s, viewer), _interest_section(s, interests)]
    sections.append(_focus_section(s, framework))
    inputs = []
    buttons: list[dict[str, Any]] = []
    if viewer.member is not None:
        if viewer.role == "chair":
            buttons.append(action("Share a result", p.SetOffer(**ids), mode))
        inputs.append(_vote_input(s, framework, viewer))
        buttons.append(action("Vote for the focus", p.SetVote(**ids), mode))
        if s.focus:
            buttons.append(action("The comparison", p.SetCompare(**ids), mode))
            if viewer.role == "clerk":
                buttons.append(action("Open a focus round", p.SetRound(**ids), mode))
    if viewer.facilitator:
        inputs.append(_focus_input(s, framework))
        buttons.append(action("Choose the focus", p.SetFocus(**ids), mode))
        if s.focus:
            buttons.append(action("Send the comparison", p.SetSend(**ids), mode))
        buttons.append(
            action("Withdraw the code", p.CodeWithdraw(**ids), mode)
            if s.code
            else action("New join code", p.CodeNew(**ids), mode)
        )
        buttons.append(action("Close the set", p.SetClose(**ids), mode, "destructive"))
    if viewer.member is not None and viewer.role == "chair":
        review = p.ReviewNew(set_id=s.id, board=viewer.member.board)
        buttons.append(action("Ask a peer to review", review, mode))
    if viewer.member is not None:
        buttons.append(action("Leave the set", p.SetLeave(**ids), mode, "destructive"))
    buttons.append(action("Refresh", p.SetShow(**ids), mode))
    footer = (
        "Leaving withdraws everything the board shared; closing the set deletes it for everyone."
    )
    summary = f"Learning set: {set_name(s)}"
    return _page(
        summary, set_name(s), subtitle, intro, sections, mode, inputs, buttons, footer, notice
    )


def _members_section(s: LearningSet, viewer: Viewer) -> dict[str, Any]:
    lines = []
    for member in s.members:
        share = s.shares.get(member.key)
        shared = (
            f"shared {SOURCE_NAMES.get(share.source, 'a result')}, {day(share.at)}"
            if share
            else "not shared yet"
        )
        voted = " · voted" if s.votes.get(member.key) else ""
        lines.append(f"{member_name(s, member, viewer)}: {shared}{voted}")
    return {
        "title": f"Member boards ({len(s.members)} of {MAX_MEMBERS})",
        "lines": lines or ["No board has joined yet."],
    }


def _interest_section(s: LearningSet, interests: Sequence[Interest]) -> dict[str, Any]:
    shared = len(s.shares)
    lines = [
        f"{i.element.number}. {i.element.title}: Red or Amber Red for {i.weak} of {i.rated}"
        + (" · views differ" if i.differ else "")
        for i in interests[:INTERESTS_SHOWN]
    ]
    return {
        "title": "Elements of mutual interest",
        "lines": lines
        or ["Nothing shared yet: each chair shares their board's latest result with the set."],
        "note": (
            f"From what {count(shared, 'member', 'members')} shared: how many rated each element "
            "Red or Amber Red, most first; views differ where two members are two or more steps "
            "apart. No board's own ratings are shown here."
        ),
    }


def _focus_section(s: LearningSet, framework: Framework) -> dict[str, Any]:
    votes = tally(s)
    if s.focus:
        how = "chosen by the facilitator" if s.focus_by == "facilitator" else "chosen by vote"
        lines = [_element_line(framework, n) for n in s.focus]
        title = f"Focus elements ({how})"
    else:
        title = "Focus elements: not chosen yet"
        lines = [
            f"The facilitator chooses {FOCUS_SIZES[0]} or {FOCUS_SIZES[1]}, or, once every member "
            "board has voted, the four with most votes are the focus."
        ]
    if votes:
        lines.append(
            "Votes: "
            + ", ".join(f"{n} ({votes[n]})" for n in sorted(votes, key=lambda n: (-votes[n], n)))
        )
    return {"title": title, "lines": lines, "style": "emphasis"}


def _element_line(framework: Framework, number: int) -> str:
    element = framework.element(number)
    return f"{number}. {element.title}" if element else str(number)


def _choices(framework: Framework) -> list[dict[str, str]]:
    # A no-break space after "1.": a host that reads choice titles as markdown would otherwise
    # draw an ordered list, which does not wrap (Microsoft's renderer cut it off on a phone).
    return [
        {"title": f"{e.number}.\u00a0{e.title}", "value": str(e.number)} for e in framework.elements
    ]


def _vote_input(s: LearningSet, framework: Framework, viewer: Viewer) -> dict[str, Any]:
    own = s.votes.get(viewer.member.key, ()) if viewer.member else ()
    return {
        "kind": "choices",
        "id": "vote",
        "label": "Your board's vote: up to four elements to focus on",
        "multi": True,
        "style": "compact",
        "value": ",".join(str(n) for n in own),
        "choices": _choices(framework),
    }


def _focus_input(s: LearningSet, framework: Framework) -> dict[str, Any]:
    return {
        "kind": "choices",
        "id": "focus",
        "label": "The set's focus: three or four elements",
        "multi": True,
        "style": "compact",
        "value": ",".join(str(n) for n in s.focus),
        "choices": _choices(framework),
    }


# -- sharing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """One result a chair could share: what it is, exactly what would leave, and its button."""

    source: Source
    ref: str
    title: str
    ratings: Mapping[int, str]
    withheld: int = 0  # elements not shared because too few trustees rated them


def offer_card(
    learning_set: LearningSet,
    framework: Framework,
    viewer: Viewer,
    offers: Sequence[Offer],
    mode: str,
    notice: Notice | None = None,
) -> Card:
    ids = _ids(learning_set, viewer)
    sections = []
    for offer in offers:
        lines = [
            f"{n}. {_title(framework, n)}: {RATING_WORDS.get(r, r)}"
            for n, r in sorted(offer.ratings.items())
        ]
        if offer.withheld:
            lines.append(
                f"{count(offer.withheld, 'element is', 'elements are')} not shared: fewer than "
                "three trustees rated it, so one person's rating would show."
            )
        sections.append(
            {
                "title": offer.title,
                "lines": lines,
                "actions": [
                    action(
                        "Share this with the set",
                        p.SetShare(source=offer.source, ref=offer.ref, **ids),
                        mode,
                        "positive",
                    )
                ],
            }
        )
    intro = [
        "Only what is listed leaves the board: its rating per element. Never evidence, never a "
        "trustee's own rating, never a name. A new share replaces the last one; the set sees the "
        "change since then. Leaving the set withdraws it."
    ]
    if not offers:
        intro.append(
            f"There is nothing to share on {framework.short_title} yet: a closed board round, or "
            "your own finished self-assessment (type start)."
        )
    summary = f"Share a result with {set_name(learning_set)}"
    buttons = [action("Back to the set", p.SetShow(**ids), mode)]
    return _page(summary, summary, None, intro, sections, mode, [], buttons, notice=notice)


def _title(framework: Framework, number: int) -> str:
    element = framework.element(number)
    return element.title if element else "?"


# -- the comparison -------------------------------------------------------------------------------


def comparison_card(
    learning_set: LearningSet,
    framework: Framework,
    viewer: Viewer,
    rows: Sequence[Row],
    mode: str,
    notice: Notice | None = None,
) -> Card:
    sections = []
    for row in rows:
        lines = []
        for cell in row.cells:
            shown = (
                f"{RATING_WORDS.get(cell.rating, cell.rating)} ({cell.change})"
                if cell.rating
                else "not shared"
            )
            lines.append(f"{member_name(learning_set, cell.member, viewer)}: {shown}")
        sections.append({"title": f"{row.element.number}. {row.element.title}", "lines": lines})
    summary = f"{set_name(learning_set)}: the comparison"
    intro = [
        "Each member board's rating on the set's focus elements, as its chair last shared it, "
        "and the change since the share before."
    ]
    buttons = [action("Open the set", p.SetShow(**_ids(learning_set, viewer)), mode)]
    return _page(
        summary,
        "The set's comparison",
        f"{set_name(learning_set)} · {framework.short_title}",
        intro,
        sections,
        mode,
        [],
        buttons,
        notice=notice,
    )


# -- plumbing -------------------------------------------------------------------------------------


def _page(
    summary: str,
    heading: str,
    subtitle: str | None,
    intro: Sequence[str],
    sections: Sequence[Mapping[str, Any]],
    mode: str,
    inputs: Sequence[Mapping[str, Any]] = (),
    buttons: Sequence[Mapping[str, Any]] = (),
    footer: str | None = None,
    notice: Notice | None = None,
) -> Card:
    content = render(
        "set_page.json.j2",
        summary=summary,
        notice=notice,
        heading=heading,
        subtitle=subtitle,
        intro=list(intro),
        sections=[{"style": None, "note": None, "actions": [], **s} for s in sections],
        inputs=[{"hint": None, **i} for i in inputs],
        footer=footer,
        actions_list=list(buttons),
    )
    return Card(content, summary)


def text_lines(*lines: str) -> list[str]:
    return [line for line in lines if line]


# -- peer review ----------------------------------------------------------------------------------

EVIDENCE_SHOWN = 600  # wire bytes of a peer's note per element on the self-versus-peer card
CODE_CHOICE = "code"


def review_form_card(
    board_name: str,
    board_id: str,
    framework: Framework,
    peers: Sequence[tuple[str, str]],
    chosen: Sequence[int],
    mode: str,
    set_id: str | None = None,
    notice: Notice | None = None,
) -> Card:
    """For a chair: which elements a peer should review, and who (a member of the set, or
    someone given an invitation code)."""
    summary = f"Ask a peer to review {excerpt(board_name, BOARD_MAX) or 'your board'}"
    intro = [
        "The peer rates your board on the elements you choose, each with their evidence, in "
        "their own chat with me. You and the board's clerks then get their ratings beside the "
        "board's own. They see the framework's questions, never your board's own evidence.",
        "The peer sees your trust's name: that is who they are reviewing.",
    ]
    choices = [
        {"title": f"The chair of {excerpt(name, BOARD_MAX)}", "value": label}
        for label, name in peers
    ]
    choices.append({"title": "Someone else: give me an invitation code", "value": CODE_CHOICE})
    inputs = [
        {
            "kind": "choices",
            "id": "elements",
            "label": "Elements to review",
            "multi": True,
            "style": "compact",
            "value": ",".join(str(n) for n in chosen),
            "choices": _choices(framework),
        },
        {
            "kind": "choices",
            "id": "reviewer",
            "label": "Who reviews",
            "multi": False,
            "style": "expanded",
            "value": choices[0]["value"],
            "choices": choices,
        },
    ]
    ask = p.ReviewAsk(set_id=set_id, board=board_id, framework=framework.id)
    buttons = [action("Ask for the review", ask, mode, "positive")]
    return _page(
        summary, summary, framework.short_title, intro, [], mode, inputs, buttons, notice=notice
    )


def invitation_card(review: Review, framework: Framework, mode: str) -> Card:
    name = excerpt(review.board.name, BOARD_MAX) or "A trust"
    summary = f"Rate {name}'s board"
    intro = [
        f"{name}'s chair asks you, as a peer, to review their board on "
        f"{count(len(review.elements), 'element', 'elements')} of {framework.title}. Rate each "
        "from the board papers and what you observed, and note your evidence: it goes to the "
        "board's chair and clerks only.",
        f"Please finish by {day(review.deadline)}. Each answer is saved as you go.",
    ]
    sections = [
        {
            "title": "The elements",
            "lines": [_element_line(framework, n) for n in review.elements],
        }
    ]
    start = Start(board=review.board.board, round=review.id)
    buttons = [action("Start the review", start, mode, "positive")]
    return _page(summary, summary, None, intro, sections, mode, [], buttons)


def self_peer_card(
    review: Review, framework: Framework, rows: Sequence[SelfPeer], own_source: str, mode: str
) -> Card:
    name = excerpt(review.board.name, BOARD_MAX) or "Your board"
    reviewer = excerpt(review.reviewer.name, BOARD_MAX) if review.reviewer else "A peer"
    flagged = sum(1 for r in rows if r.flagged)
    summary = f"{name}: self versus peer"
    intro = [
        f"{reviewer} reviewed the board on {count(len(rows), 'element', 'elements')}. The "
        f"board's own rating is from {own_source}. ⚑ marks ratings two or more steps apart: "
        f"{count(flagged, 'element', 'elements')}.",
        "The peer's evidence is below as key issues, for the board's conversation and its "
        "priorities.",
    ]
    sections = []
    for row in rows:
        own = RATING_WORDS.get(row.own or "", "not rated")
        peer = RATING_WORDS.get(row.peer or "", "not rated")
        lines = [
            f"Board: {own} · Peer: {peer}" + (" ⚑ two or more steps apart" if row.flagged else "")
        ]
        lines.append(
            f"Key issues (the peer): {excerpt(row.evidence, EVIDENCE_SHOWN)}"
            if row.evidence.strip()
            else "Key issues (the peer): none noted."
        )
        sections.append(
            {
                "title": f"{row.element.number}. {row.element.title}",
                "lines": lines,
                "style": "attention" if row.flagged else None,
            }
        )
    return _page(summary, summary, framework.short_title, intro, sections, mode)
