"""Learning sets as plain data (no I/O, no Teams types).

A learning set is a small group of trust boards, usually from different Microsoft Entra tenants,
that compare their ratings on a few elements of a CST framework. Its members are boards, not
people: a board joins through its chair or a clerk, and only its chair shares a result. The set
holds, per member board, the board's rating per element as the chair shared it, and nothing
else: never evidence, never an individual trustee's rating, never a name of a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import quote

SET_ID = re.compile(r"^[0-9a-f]{16}$")
MAX_MEMBERS = 8
FOCUS_SIZES = (3, 4)  # the framework: "three or four elements of the framework to focus on"
# An element a round rated by fewer trustees than this is not shared: a board rating made of one
# or two ratings would carry an individual trustee's view out of the board.
SHARE_MIN_RATINGS = 3
NAME_MAX = 80  # characters of a set's name
LABELS = "ABCDEFGH"  # members' labels where trust names are not shown, in the order they joined

ROUND: Final = "round"  # a share of the board's closed round (its board ratings)
SELF: Final = "self"  # a share of the chair's own self-assessment
Source = Literal["round", "self"]
SOURCE_NAMES = {ROUND: "the board's round", SELF: "the chair's self-assessment"}


def member_key(tenant: str, board: str) -> str:
    """A member board as the set's hashes key it: tenant and team id, neither able to fake the
    other (each is percent-encoded, so a "/" in one cannot move the boundary)."""
    return f"{quote(tenant, safe='')}/{quote(board, safe='')}"


@dataclass(frozen=True)
class Person:
    """Someone the set needs to reach: in their own tenant, by their Teams id."""

    tenant: str
    user: str  # Who.user: the Entra object id, else the Teams id
    name: str
    teams_id: str = ""
    service_url: str = ""


@dataclass(frozen=True)
class SetMember:
    tenant: str
    board: str  # the Teams team id
    name: str  # the board's name as it was when it joined (refreshed on later turns)
    joined: str
    label: str  # "A" to "H": how others see it where names are not shown

    @property
    def key(self) -> str:
        return member_key(self.tenant, self.board)


@dataclass(frozen=True)
class Share:
    """What one member board shared: ratings by element number, and where they came from."""

    ratings: dict[int, str]
    at: str
    source: str  # ROUND or SELF
    ref: str  # the round id or the assessment id, for the board's own record
    by: str  # the user key of the chair who pressed Share (so `forget me` can find it)
    previous: dict[int, str] = field(default_factory=dict)  # the share before this one
    previous_at: str | None = None


@dataclass(frozen=True)
class LearningSet:
    id: str
    name: str
    framework: str
    named: bool  # whether members see each other's trust names
    created: str
    facilitator: Person
    code: str | None  # the join code now valid; None once withdrawn
    members: tuple[SetMember, ...] = ()  # in the order they joined
    shares: dict[str, Share] = field(default_factory=dict)  # by member key
    votes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # by member key
    focus: tuple[int, ...] = ()
    focus_by: str = ""  # "facilitator" or "vote"

    def member(self, tenant: str, board: str) -> SetMember | None:
        key = member_key(tenant, board)
        return next((m for m in self.members if m.key == key), None)

    def is_facilitator(self, tenant: str, user: str) -> bool:
        return self.facilitator.tenant == tenant and self.facilitator.user == user

    @property
    def full(self) -> bool:
        return len(self.members) >= MAX_MEMBERS


def format_code(code: str) -> str:
    """ "KQ7M4XPD" as people read it: "KQ7M-4XPD"."""
    return f"{code[:4]}-{code[4:]}" if len(code) == 8 else code


# -- peer review ----------------------------------------------------------------------------------

REVIEW_ID = re.compile(r"^[0-9a-f]{12}$")
INVITED = "invited"  # asked, not yet accepted (by code) or started
STARTED = "started"
DONE = "done"  # the reviewer finished: the board has the self-versus-peer card
REVIEW_DAYS = 30  # a reviewer has this long to answer


@dataclass(frozen=True)
class Review:
    """A chair's request that a peer rate their board on chosen elements.

    The reviewer rates in their own 1:1 chat, as an assessment of their own (scope
    "round:<review id>"); what they write goes to the reviewed board's chair and clerks only, and
    they never see the board's own evidence."""

    id: str
    framework: str
    version: str
    elements: tuple[int, ...]
    board: SetMember  # the reviewed board (its label unused)
    asked_by: str  # the chair's user key, in the board's tenant
    created: str
    deadline: str
    set_id: str = ""  # the set it was asked within, if any
    code: str | None = None  # the invitation code, until it is used
    status: str = INVITED
    reviewer: Person | None = None  # named when asked within a set, else on accepting the code
    done_at: str | None = None
    # Once done: the peer's rating and evidence by element, kept for the board's paper.
    peer: dict[int, tuple[str | None, str]] = field(default_factory=dict)

    def is_reviewer(self, tenant: str, user: str) -> bool:
        r = self.reviewer
        return r is not None and r.tenant == tenant and r.user == user
