"""What the board's buttons carry: one class per board verb (see dialogs/payloads.py).

Every board button names its board (`b`, the Teams team id); the desk looks the board up from
the turn's own tenant and checks the clicker's role, so a payload only ever says *which* board,
round or page, never *who may*.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import Field, PlainSerializer, PlainValidator, ValidationInfo, model_validator

from ..payloads import BoardId, Payload, clicked, verbs, whole_between, whole_number
from .model import ROLES

ROLES_PAGE = 20  # members per page of the roles card
MIN_RESPONSES_MAX = 20
PLAN_PAGES_MAX = 100
ELEMENTS_MAX = 999
# The round form's inputs: a card posts them with each of its buttons, Back included.
FORM_INPUTS = ("elements", "deadline", "visibility", "min", "message")
ROUND_INPUTS = ("deadline",)  # the round card's new-deadline box, posted with every button


def _element_list(value: object) -> tuple[int, ...]:
    """Element numbers as a multi-select posts them ("1,3,5"); a button may pack a list."""
    if isinstance(value, list | tuple):
        parts: list[object] = list(value)
    elif isinstance(value, str):
        parts = [p for p in value.split(",") if p.strip()]
    else:
        raise ValueError("expected element numbers")
    return tuple(sorted({whole_number(p, 1, ELEMENTS_MAX) for p in parts}))


def _chosen_elements(value: object) -> tuple[int, ...]:
    if not isinstance(value, str):
        raise ValueError("a multi-select posts its choices as text")
    return _element_list(value)


def _role(value: object) -> str:
    if value not in ROLES:
        raise ValueError("not a role")
    return str(value)


# Empty when none was chosen (the form says so); anything but numbers is tampering.
_AS_LIST = PlainSerializer(list, return_type=list[int])
ElementList = Annotated[tuple[int, ...], PlainValidator(_element_list), _AS_LIST]
ChosenElements = Annotated[tuple[int, ...], PlainValidator(_chosen_elements), _AS_LIST]
Role = Annotated[str, PlainValidator(_role)]
MemberKey = Annotated[str, Field(min_length=1, max_length=400)]


class OnBoard(Payload):
    board: BoardId = Field(alias="b")


class OnRound(OnBoard):
    # Any text: an id that is no round of this board is "not found", not tampering.
    round: str = Field(alias="r", max_length=400)


# ---- the board and its roles (board_steps.py) ---------------------------------------------------


class BoardSetup(OnBoard):
    verb = "board.setup"


class BoardShow(OnBoard):
    verb = "board.show"
    ignores = ("role.",)  # "Back to the board" on the roles card


class BoardRefresh(OnBoard):
    verb = "board.refresh"


class RolesShow(OnBoard):
    verb = "roles.show"
    ignores = ("role.",)  # Previous and Next on the roles card
    page: Annotated[int, whole_between(0, 10_000)] = 0


_ROLE_KEY = re.compile(r"role\.([0-9]{1,3})")


class RolesSave(OnBoard):
    """A page of the roles card: `keys[i]` is the member whose role the input `role.<i>` holds."""

    verb = "roles.save"
    inputs = ("roles",)
    page: Annotated[int, whole_between(0, 10_000)] = 0
    keys: list[MemberKey] = Field(min_length=1, max_length=ROLES_PAGE)
    roles: dict[int, Role] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_roles(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        roles = {int(m[1]): v for k, v in data.items() if (m := _ROLE_KEY.fullmatch(str(k)))}
        rest = {k: v for k, v in data.items() if not _ROLE_KEY.fullmatch(str(k))}
        return {**rest, "roles": roles} if roles else rest

    @model_validator(mode="after")
    def _a_role_for_each_key(self, info: ValidationInfo) -> Self:
        if clicked(info) and set(self.roles) != set(range(len(self.keys))):
            raise ValueError("each member on the card has one role")
        return self

    @property
    def changes(self) -> dict[str, str]:
        return {key: self.roles[i] for i, key in enumerate(self.keys)}


# ---- rounds (round_steps.py) --------------------------------------------------------------------


class RoundNew(OnBoard):
    verb = "round.new"
    ignores = FORM_INPUTS  # "Back" on the round form


class RoundForm(OnBoard):
    """The round form for a framework; a follow-up round comes with its elements chosen."""

    verb = "round.form"
    ignores = ROUND_INPUTS
    framework: str = Field(alias="fw", max_length=200)
    elements: ElementList | None = Field(None, alias="els")


class RoundOpen(OnBoard):
    """The round form as the clerk filled it in. A field a clerk can get wrong (the fewest
    responses, the deadline) is kept as typed, for the handler to explain and hand back."""

    verb = "round.open"
    inputs = ("elements", "deadline", "visibility", "min_responses", "message", "issues")
    framework: str = Field(alias="fw", max_length=200)
    elements: ChosenElements = ()
    deadline: str | None = None
    visibility: Literal["anonymous", "attributed"] = "anonymous"
    min_responses: str | int | float = Field("3", alias="min")
    message: str = ""
    issues: Literal["board", "team"] = "board"  # who sees the key issues in the channel

    @property
    def attributed(self) -> bool:
        return self.visibility == "attributed"

    @property
    def issues_to_team(self) -> bool:
        return self.issues == "team"


class RoundStatus(OnRound):
    verb = "round.status"
    ignores = ROUND_INPUTS


class RoundRemind(OnRound):
    """`sent` is how many reminders the round had when the card was drawn: a second click of
    the same card, or its data replayed, finds the count moved on and sends nothing."""

    verb = "round.remind"
    ignores = ROUND_INPUTS
    sent: Annotated[int, whole_between(0, 10_000)]


class RoundExtend(OnRound):
    verb = "round.extend"
    inputs = ("deadline",)
    deadline: str | None = None  # the card's date input, as the client posted it


class RoundClose(OnRound):
    verb = "round.close"
    ignores = ROUND_INPUTS


class RoundInvite(OnRound):
    """Invite someone who joined the team after the round opened (joiners.py): `m` is their
    member key, which the desk checks against the board as it is now."""

    verb = "round.invite"
    ignores = ROUND_INPUTS
    member: MemberKey = Field(alias="m")


# ---- the summary and the chair's priorities -----------------------------------------------------


class SummaryShow(OnRound):
    verb = "summary.show"
    ignores = ROUND_INPUTS


_PLAN_KEY = re.compile(r"(actions|progress)\.([0-9]{1,3})")


class PlanSave(OnRound):
    """The chair's plan card: `v` is the plan's version when the card was drawn (a card older
    than the plan is refused), `page` the page of priorities to show next; the inputs
    `actions.<n>` and `progress.<n>` hold what the card's page of priorities says."""

    verb = "plan.save"
    inputs = ("actions", "progress")
    version: Annotated[int, whole_between(0, 1_000_000)] = Field(alias="v")
    page: Annotated[int, whole_between(0, 1_000_000)] | None = None  # None: a plan on one page
    actions: dict[int, str] = Field(default_factory=dict)
    progress: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_boxes(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        boxes: dict[str, dict[int, Any]] = {}
        rest = {}
        for key, value in data.items():
            found = _PLAN_KEY.fullmatch(str(key))
            if found:
                boxes.setdefault(found[1], {})[int(found[2])] = value
            else:
                rest[key] = value
        return {**rest, **boxes}

    @property
    def shown(self) -> set[int]:
        """The priorities whose boxes the card carried."""
        return set(self.actions) | set(self.progress)


class PlanPublish(PlanSave):
    """Publish the plan. `e`, on the button of the card that asked to confirm: how many
    priorities were not yet planned when it asked (publishing goes ahead only while that is
    still so; with none given, or another count, the chair is asked again)."""

    verb = "plan.publish"
    empty: Annotated[int, whole_between(1, 1_000)] | None = Field(None, alias="e")


# ---- the board's data (data_steps.py) -----------------------------------------------------------


class DataShow(OnBoard):
    verb = "data.show"


class DataExport(OnBoard):
    verb = "data.export"


class DataDelete(OnBoard):
    verb = "data.delete"


BOARD = verbs(
    BoardSetup,
    BoardShow,
    BoardRefresh,
    RolesShow,
    RolesSave,
    RoundNew,
    RoundForm,
    RoundOpen,
    RoundStatus,
    RoundRemind,
    RoundExtend,
    RoundClose,
    RoundInvite,
    SummaryShow,
    PlanSave,
    PlanPublish,
    DataShow,
    DataExport,
    DataDelete,
)
