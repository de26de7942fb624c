"""Who sees a trustee's evidence, for a round's settings, and how the invitation says so.

These rules decide it, and both the cards and the invitation follow them, so what trustees are
told is what happens (tests/boards/test_evidence_audience.py checks one against the other):

- the chair's and clerks' copies of the summary (their 1:1 chats): evidence, with names where
  the round is attributed;
- the board paper (a signed link, for the chair and clerks): evidence, never names;
- the channel's summary as Teams refreshes it for each trustee, the chair and the clerks:
  evidence, never names;
- the channel's summary as posted, and the published priorities, which everyone in the team
  sees: evidence (never names) only where the clerk chose, at opening, to show it to everyone.

"The board's members with a role" are its trustees, chair and clerks; members marked *not a
trustee* (executives, observers) are in the team but have none, and see the evidence only when
the clerk chose, at opening, to show the key issues to the whole team.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import CHAIR, CLERK, TRUSTEE, Board, Member, Round

ROLES_THAT_SEE = (CLERK, CHAIR, TRUSTEE)
# Teams refreshes a card automatically for at most 60 people (Universal Actions' refresh.userIds).
REFRESH_MAX = 60


def sees_key_issues(member: Member | None, rnd: Round) -> bool:
    """Whether this member's view of the channel's summary carries the key issues."""
    if rnd.issues_to_team:
        return True
    return member is not None and member.role in ROLES_THAT_SEE


def refresh_ids(board: Board) -> list[str]:
    """Whose view of the channel's summary Teams refreshes with the key issues: the board's
    members with a role, clerks and the chair first, at most REFRESH_MAX. Anyone beyond that
    presses the card's button instead."""
    order = {CLERK: 0, CHAIR: 1, TRUSTEE: 2}
    members: Sequence[Member] = sorted(
        (m for m in board.members if m.role in ROLES_THAT_SEE and m.teams_id),
        key=lambda m: (order[m.role], m.name.casefold(), m.key),
    )
    return [m.teams_id for m in members][:REFRESH_MAX]


def invitation_text(rnd: Round) -> str:
    """What the invitation tells a trustee about who will see their evidence."""
    names = (
        "The chair and clerks will see your name beside your evidence. " if rnd.attributed else ""
    )
    if rnd.issues_to_team:
        who = (
            "Your evidence, without your name, is quoted to everyone in the board's team, "
            "members who are not trustees included, and in the board paper."
        )
    else:
        who = (
            "Your evidence, without your name, is quoted to the board's trustees, chair and "
            "clerks and in the board paper; others in the team (members who are not trustees) "
            "do not see it."
        )
    least = rnd.min_responses
    breakdown = (
        f" No breakdown or evidence is shown for an element until at least {least} "
        f"{'trustee has' if least == 1 else 'trustees have'} rated it."
    )
    return names + who + breakdown


NOT_FOR_YOU = (
    "The key issues are trustees' evidence: on this board only its trustees, chair and clerks "
    "see them. The heat map and priorities above are the whole board's."
)
HIDDEN_NOTE = (
    "The key issues, drawn from trustees' evidence, are shown to the board's trustees, chair and "
    "clerks: Teams shows them in this card to each of them, or press Show the key issues."
)
