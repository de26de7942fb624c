"""What a learning set's buttons carry: one class per verb (see dialogs/payloads.py).

A set's button names the set (`s`) and, for a member board's chair or clerk, their board (`b`,
the Teams team id, looked up in the clicker's own tenant). It only ever says *which* set, board
or result, never *who may*: that is decided from the authenticated turn.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from ..payloads import BoardId, Payload, verbs

SetId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
ResultId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]  # a round or assessment
SET_INPUTS = ("vote", "focus")  # the set card's two multi-selects, posted with every button
LIST_INPUTS = ("code",)  # the list card's join box
FORM_INPUTS = ("name", "fw", "named")  # the create form
TEXT_MAX = 2000  # any typed text longer than this is not a person typing in a box


class OnSet(Payload):
    ignores: ClassVar[tuple[str, ...]] = (*SET_INPUTS, *LIST_INPUTS)
    set_id: SetId = Field(alias="s")
    board: BoardId | None = Field(None, alias="b")


class SetNew(Payload):
    verb = "set.new"
    ignores = LIST_INPUTS


class SetCreate(Payload):
    verb = "set.create"
    inputs = FORM_INPUTS
    name: str = Field("", max_length=TEXT_MAX)
    framework: str = Field("", alias="fw", max_length=200)
    named: Literal["named", "unnamed"] = "named"


class SetList(Payload):
    verb = "set.list"
    ignores = (*SET_INPUTS, *LIST_INPUTS)


class SetJoin(Payload):
    """Join with a code: typed into the list card's box, or carried by the button of a card
    that asks which of the person's boards joins."""

    verb = "set.join"
    code: str = Field("", max_length=40)
    board: BoardId | None = Field(None, alias="b")


class SetShow(OnSet):
    verb = "set.show"


class CodeNew(OnSet):
    verb = "set.code.new"


class CodeWithdraw(OnSet):
    verb = "set.code.withdraw"


class SetOffer(OnSet):
    verb = "set.offer"


class SetShare(OnSet):
    """Share exactly this result: the board's round `ref`, or the chair's assessment `ref`."""

    verb = "set.share"
    source: Literal["round", "self"] = Field(alias="src")
    ref: ResultId


class SetVote(OnSet):
    verb = "set.vote"
    inputs = ("vote",)
    ignores = ("focus", *LIST_INPUTS)
    vote: str = Field("", max_length=TEXT_MAX)  # "1,5,7" as the multi-select posts it


class SetFocus(OnSet):
    verb = "set.focus"
    inputs = ("focus",)
    ignores = ("vote", *LIST_INPUTS)
    focus: str = Field("", max_length=TEXT_MAX)


class SetRound(OnSet):
    """The board's round form, prefilled with the set's focus elements (a member's clerk)."""

    verb = "set.round"


class SetCompare(OnSet):
    verb = "set.compare"


class SetSend(OnSet):
    verb = "set.send"


class SetLeave(OnSet):
    verb = "set.leave"


class SetClose(OnSet):
    verb = "set.close"


SETS = verbs(
    SetNew,
    SetCreate,
    SetList,
    SetJoin,
    SetShow,
    CodeNew,
    CodeWithdraw,
    SetOffer,
    SetShare,
    SetVote,
    SetFocus,
    SetRound,
    SetCompare,
    SetSend,
    SetLeave,
    SetClose,
)


# ---- peer review (review_steps.py) --------------------------------------------------------------


class ReviewNew(Payload):
    """The form asking a peer to review the board: from a set's card, or on its own."""

    verb = "review.new"
    ignores = (*SET_INPUTS, *LIST_INPUTS)
    set_id: SetId | None = Field(None, alias="s")
    board: BoardId = Field(alias="b")


class ReviewAsk(Payload):
    verb = "review.ask"
    inputs = ("elements", "reviewer")
    set_id: SetId | None = Field(None, alias="s")
    board: BoardId = Field(alias="b")
    framework: str = Field(alias="fw", max_length=200)
    elements: str = Field("", max_length=TEXT_MAX)
    reviewer: str = Field("code", max_length=20)  # a member's label ("B"), or "code"


class ReviewAccept(Payload):
    """Take up a review with the invitation code its chair passed on."""

    verb = "review.accept"
    code: str = Field("", max_length=40)


REVIEWS = verbs(ReviewNew, ReviewAsk, ReviewAccept)
