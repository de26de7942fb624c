"""What a card button carries: one typed class per verb, used to build the button and to read
the click.

A click's data is untrusted: it is whatever the client posted, the card's inputs merged in, as
strings and untyped JSON. Each verb's class declares its keys once (short wire keys, so cards
stay small), `pack()` gives the button's `data`, and `unpack()` gives back the typed payload or
raises `Tampered`. Numbers people type or a card carries are read by `whole_number` and nothing
else.

The trustee walkthrough's verbs are below; the board's are in dialogs/boards/payloads.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any, ClassVar, Protocol, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from frameworks import Element, Framework

from .store.keys import ASSESSMENT_ID, ROUND_ID

VERB = "verb"  # the key of the verb in a button's data, as Teams' Action.Submit carries it
_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: "²" and "٣" pass str.isdigit, not int()


# The validation context of a click: a validator of the card's inputs checks them only then,
# since a button being built carries none.
CLICKED = {"clicked": True}


def clicked(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("clicked"))


class Tampered(Exception):
    """A card's data that does not decode: the click is refused and nothing is changed."""

    def __init__(self, verb: str) -> None:
        super().__init__(f"the data of a {verb!r} button does not decode")
        self.verb = verb


def whole_number(value: object, low: int, high: int) -> int:
    """A whole number from `low` to `high`: an int (not a bool), or ASCII digits with spaces
    around them. Anything else raises ValueError, whose message never repeats the input."""
    if isinstance(value, bool):
        raise ValueError("expected a whole number, not true or false")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip(" \t\r\n")):
        number = int(value.strip(" \t\r\n"))
    else:
        raise ValueError(f"expected a whole number from {low} to {high}")
    if not low <= number <= high:
        raise ValueError(f"expected a whole number from {low} to {high}")
    return number


def _whole(low: int, high: int, value: object) -> int:
    return whole_number(value, low, high)


def whole_between(low: int, high: int) -> PlainValidator:
    """`whole_number` as a field's validator: `page: Annotated[int, whole_between(0, 100)] = 0`
    (a validator in `Annotated` rather than a function returning a type, which a type checker
    cannot read)."""
    return PlainValidator(partial(_whole, low, high))


AssessmentId = Annotated[str, StringConstraints(pattern=ASSESSMENT_ID.pattern)]
RoundId = Annotated[str, StringConstraints(pattern=ROUND_ID.pattern)]
BoardId = Annotated[str, StringConstraints(min_length=1, max_length=400)]  # a Teams team id
ElementNumber = Annotated[int, whole_between(1, 999)]


class Payload(BaseModel):
    """A button's data. Subclasses name their `verb` and declare their keys (with short
    aliases); fields left None are not sent.

    `inputs` are the fields the card's inputs fill in (what the trustee typed or chose): they
    are read from a click but never packed into the button. `ignores` are the ids of inputs on
    the card the button sits on that this verb does not read (an id ending in "." covers every
    id it begins): a card posts all its inputs with every button, and anything else unexpected
    is tampering.
    """

    # Built in Python by field name (`Rate(assessment=…, number=…)`); read off the wire by
    # its short keys only.
    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, validate_by_name=True, validate_by_alias=True
    )

    verb: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]] = ()
    ignores: ClassVar[tuple[str, ...]] = ()

    def pack(self) -> dict[str, Any]:
        fields = self.model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude=set(self.inputs)
        )
        return {VERB: self.verb, **fields}

    @classmethod
    def unpack(cls, data: Mapping[str, Any]) -> Self:
        if not isinstance(data, Mapping):
            raise Tampered(cls.verb)
        fields = {k: v for k, v in data.items() if k != VERB and not cls._ignored(k)}
        try:
            return cls.model_validate(fields, by_alias=True, by_name=False, context=CLICKED)
        except ValidationError:
            raise Tampered(cls.verb) from None

    @classmethod
    def _ignored(cls, key: object) -> bool:
        return isinstance(key, str) and any(
            key.startswith(i) if i.endswith(".") else key == i for i in cls.ignores
        )


def verbs(*classes: type[Payload]) -> dict[str, type[Payload]]:
    """Payload classes by verb, for a handler table to decode with."""
    found = {c.verb: c for c in classes}
    if len(found) != len(classes):
        raise ValueError("two payload classes share a verb")
    return found


class Scope(Protocol):
    """Anything that asks about some of a framework's elements (an assessment, a round)."""

    def covers(self, number: int) -> bool: ...


def in_scope(framework: Framework, scope: Scope, number: int | None) -> Element | None:
    """The framework's element `number`, if `scope` asks about it; otherwise None."""
    if number is None:
        return None
    element = framework.element(number)
    return element if element is not None and scope.covers(number) else None


# ---- the trustee walkthrough (dialogs/engine.py) ------------------------------------------------


class Start(Payload):
    """Start a framework's self-assessment, or a board round the trustee was invited to."""

    verb = "start"
    framework: str | None = Field(None, alias="fw")
    board: BoardId | None = Field(None, alias="b")
    round: RoundId | None = Field(None, alias="r")

    @model_validator(mode="after")
    def _board_and_round(self) -> Self:
        if (self.board is None) != (self.round is None):
            raise ValueError("a round's button names its board and its round")
        return self


class OnAssessment(Payload):
    """A button about one of the trustee's assessments (None: the one in progress)."""

    assessment: AssessmentId | None = Field(None, alias="a")


class Resume(OnAssessment):
    verb = "resume"


class Finish(OnAssessment):
    verb = "finish"
    ignores = ("goto",)  # the review card's element chooser


class Results(OnAssessment):
    verb = "results"


class OnElement(OnAssessment):
    """A button on an element's card: it acts on that element, with the evidence typed so far."""

    inputs = ("evidence",)
    number: ElementNumber | None = Field(None, alias="n")
    evidence: str | None = None  # None: keep what is saved


class Rate(OnElement):
    verb = "rate"
    rating: str | None = None


class Skip(OnElement):
    verb = "skip"


class Back(OnElement):
    verb = "back"


class Pause(OnElement):
    verb = "pause"


class Review(OnElement):
    verb = "review"


class Goto(OnAssessment):
    """Open an element: the button's own number, else the one chosen on the review card."""

    verb = "goto"
    inputs = ("chosen",)
    number: ElementNumber | None = Field(None, alias="n")
    chosen: ElementNumber | None = Field(None, alias="goto")

    @property
    def target(self) -> int | None:
        return self.number if self.number is not None else self.chosen


class Plain(Payload):
    """A verb whose button carries nothing but itself."""


class Help(Plain):
    verb = "help"


class Status(Plain):
    verb = "status"


class MyData(Plain):
    verb = "mydata"


class Forget(Plain):
    verb = "forget"


class ForgetConfirmed(Plain):
    verb = "forget.confirm"


WALKTHROUGH = verbs(
    Start,
    Resume,
    Rate,
    Skip,
    Back,
    Pause,
    Goto,
    Review,
    Finish,
    Results,
    Status,
    Help,
    MyData,
    Forget,
    ForgetConfirmed,
)
