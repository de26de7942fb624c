"""Property-based fuzzing of the walkthrough: whatever a trustee types, and whatever a card
payload carries (real buttons with any field replaced by any JSON value), the engine answers
without an exception, and every card it sends is a valid Adaptive Card within the size limit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.engine import STEPS, Walkthrough
from dialogs.messages import Action, Card, Reply, Turn
from dialogs.state import Who
from dialogs.store import Store, connect
from frameworks import load_all
from tests.cards.kit import HOSTILE
from tests.cards.validate import assert_valid
from tests.dialogs.cardkit import buttons

WHO = Who("tenant-fuzz", "29:fuzz", "Fuzz")
WORDS = [
    "start",
    "start governance",
    "start strong trusts",
    "resume",
    "back",
    "skip",
    "pause",
    "review",
    "finish",
    "results",
    "status",
    "help",
    "go to 3",
    "go to 99",
    "R",
    "AR",
    "AG",
    "G",
    "amber green",
    "amber red",
    "start 2",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
evidence = st.one_of(st.text(max_size=300), st.sampled_from(list(HOSTILE.values())))
typed = st.one_of(
    st.sampled_from(WORDS),
    st.builds(lambda word, rest: f"{word} {rest}", st.sampled_from(WORDS), evidence),
    st.text(max_size=200),
)
field_names = st.sampled_from(["a", "n", "rating", "evidence", "framework", "verb", "x"])
pressed = st.tuples(
    st.integers(0, 30),
    st.dictionaries(field_names, json_values, max_size=2),
    st.one_of(st.none(), evidence),
)
forged = st.builds(
    Action,
    verb=st.one_of(st.sampled_from([*STEPS, "", "drop"]), st.text(max_size=10)),
    data=st.dictionaries(field_names, json_values, max_size=4),
)
steps = st.lists(
    st.one_of(
        typed.map(lambda t: ("say", t)),
        pressed.map(lambda p: ("press", p)),
        forged.map(lambda a: ("forge", a)),
    ),
    min_size=1,
    max_size=12,
)


def check(reply: Reply) -> None:
    shown: list[Card] = [m for m in reply.send if isinstance(m, Card)]
    if reply.replace is not None:
        shown.append(reply.replace)
    for card in shown:
        assert_valid(card.content)
    assert all(isinstance(t, str) and t for t in reply.texts())


async def play(moves: list[tuple[str, Any]]) -> None:
    engine = Walkthrough(Store(connect(None)), load_all())
    clock = datetime(2026, 11, 23, tzinfo=UTC)
    card: Card | None = None
    for kind, move in moves:
        clock += timedelta(seconds=1)
        if kind == "say":
            turn = Turn(WHO, clock, text=move)
        elif kind == "forge":
            turn = Turn(WHO, clock, action=move)
        else:
            if card is None or not buttons(card):
                continue
            index, changes, note = move
            button = buttons(card)[index % len(buttons(card))]
            data = {**button["data"], **changes}
            if note is not None:
                data["evidence"] = note
            turn = Turn(WHO, clock, action=Action(str(button["data"]["verb"]), data))
        reply = await engine.handle(turn)
        check(reply)
        card = reply.replace or next(iter(reply.cards()), card)
    await engine.store.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_any_conversation_gets_valid_answers(moves: list[tuple[str, Any]]) -> None:
    asyncio.run(play(moves))
