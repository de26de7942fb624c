"""Every card, as Microsoft's own Adaptive Cards renderer reads it.

tests/cards/validate.py is our reading of the schema; this asks Microsoft's JavaScript renderer
(npm `adaptivecards`, the version pinned in scripts/cardrender/package.json, installed by
`scripts/card-pictures --install-only` into .cardrender/). In Node, without a browser
(scripts/cardrender/check.js), each card is parsed with a SerializationContext targeting schema
1.5 under a Teams-like host config, its properties are validated, and it is rendered to an HTML
element in a jsdom document: no parse or validation event, no exception, and every button drawn.
Every card builder's output is checked in both action modes; what people could type
(tests/cards/kit.HOSTILE) as evidence, names, messages and plans in one; and the cards
scripts/card-pictures draws for docs/cards/. Rendering in jsdom is the slow part (about 50 ms of
CPU a card), so the cards are shared out between a check.js process per CPU.

Skipped (with the reason) where Node.js or npm is missing, or the renderer cannot be installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from dialogs.boards.cards import (
    board_card,
    choose_framework_card,
    data_card,
    invitation_card,
    moved_card,
    plan_card,
    published_card,
    roles_card,
    round_card,
    round_form_card,
    setup_card,
)
from dialogs.boards.model import (
    IN_PROGRESS,
    NOT_STARTED,
    RESPONDED,
    UNREACHABLE,
    Plan,
    Progress,
)
from dialogs.cards import (
    Notice,
    element_card,
    paused_card,
    results_card,
    review_card,
    superseded_card,
    welcome_card,
)
from dialogs.privacy import forget_card
from dialogs.rounds import round_summary_card
from dialogs.state import Assessment
from frameworks import Framework
from tests.boards.cardkit import (
    BOARD_ID,
    GOVERNANCE,
    TODAY,
    board,
    closed_round,
    numbered_board,
    open_round,
    plans,
    round_summary,
)
from tests.cards.kit import (
    FINISHED,
    FRAMEWORKS,
    HOSTILE,
    LONG_NOTICE,
    MODES,
    WIDEST,
    all_rated,
    assessment,
    in_round,
)
from tests.dialogs.cardkit import walk
from tests.support.cardrender import renderer_modules

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "scripts" / "cardrender" / "check.js"
PICTURES = ROOT / "scripts" / "cardrender" / "cards.py"
NO_NODE = shutil.which("node") is None or shutil.which("npm") is None

needs_node = pytest.mark.skipif(
    NO_NODE, reason="Microsoft's Adaptive Cards renderer (npm adaptivecards) needs Node.js and npm"
)

Content = dict[str, Any]


# -- every card ----------------------------------------------------------------------------------


def walkthrough_cards(mode: str) -> Iterator[tuple[str, Content]]:
    """The trustee's cards: every element of every framework, review, results and the rest."""
    for fw in FRAMEWORKS.values():
        for element in fw.elements:
            answered = assessment(fw, {element.number: "AR"}, "Risk register reviewed.")
            notice = Notice(f"Saved {element.number}. {element.title}: Amber Red.")
            card = element_card(fw, answered, element, mode, notice)
            yield f"element {fw.id} {element.number}", _content(card)
        for element in (fw.elements[0], fw.elements[-1]):
            card = element_card(fw, assessment(fw, cursor=element.number), element, mode)
            yield f"element {fw.id} {element.number} blank", _content(card)
        for state, subject in _states(fw).items():
            yield f"review {fw.id} {state}", _content(review_card(fw, subject, mode))
            yield f"results {fw.id} {state}", _content(results_card(fw, subject, mode))
        subject = assessment(fw, {1: "R"}, "Noted.")
        card = review_card(fw, subject, mode, Notice("Skipped.", "warning"))
        yield f"review {fw.id} notice", _content(card)
        yield f"results {fw.id} notice", _content(results_card(fw, subject, mode, FINISHED))
        subject = assessment(fw, {1: "G"}, cursor=2)
        for element in (fw.elements[1], None):
            where = element.number if element else "review"
            yield f"paused {fw.id} {where}", _content(paused_card(fw, subject, element, mode))
    yield "superseded", _content(superseded_card())
    yield from _welcome_cards(mode)
    yield "forget", _content(forget_card([assessment(GOVERNANCE)], mode))


def extreme_cards() -> Iterator[tuple[str, Content]]:
    """Every notice style, the longest notice and the widest evidence (the mode does not matter)."""
    fw, mode = GOVERNANCE, "execute"
    for style in ("good", "warning", "attention", "accent", "emphasis"):
        notice = Notice("Note.", style)
        card = element_card(fw, assessment(fw), fw.elements[0], mode, notice)
        yield f"element notice {style}", _content(card)
    card = element_card(fw, assessment(fw), fw.elements[-1], mode, LONG_NOTICE)
    yield "element long notice", _content(card)
    for kind, text in WIDEST.items():
        widest = assessment(fw, all_rated(fw), text)
        yield f"element widest {kind}", _content(element_card(fw, widest, fw.elements[0], mode))
        yield f"review widest {kind}", _content(review_card(fw, widest, mode))
        yield f"results widest {kind}", _content(results_card(fw, widest, mode))


def _states(fw: Framework) -> dict[str, Assessment]:
    some = {n: r for n, r in all_rated(fw).items() if n % 3}
    return {
        "none rated": assessment(fw),
        "some unrated": assessment(fw, some, "Noted at the away day."),
        "all red": assessment(fw, all_rated(fw, "R"), "No strategy yet."),
        "finished": assessment(fw, all_rated(fw), "Agreed by the board.", done=True),
        "in a round": in_round(assessment(fw, {2: "R", 5: "AG"}, "Seen at the March meeting.")),
        "round done": in_round(assessment(fw, {2: "R", 5: "AG", 7: "G", 9: "AR"}, done=True)),
        "round closed": in_round(assessment(fw, {2: "R"}, done=True), status="closed"),
    }


def _welcome_cards(mode: str) -> Iterator[tuple[str, Content]]:
    fws = list(FRAMEWORKS.values())
    fresh: dict[str, tuple[Assessment | None, Assessment | None]] = {}
    busy = {
        fw.id: (assessment(fw, {1: "R"}), assessment(fw, all_rated(fw), done=True)) for fw in fws
    }
    rounds = [in_round(assessment(fw, {2: "AG"})) for fw in fws]
    yield "welcome new", _content(welcome_card(fws, fresh, mode))
    yield (
        "welcome busy",
        _content(
            welcome_card(fws, busy, mode, Notice("I don't know that framework.", "warning"), rounds)
        ),
    )


def board_cards(
    mode: str, name: str | None = None, note: str = "", only: tuple[str, ...] | None = None
) -> Iterator[tuple[str, Content]]:
    """The board's cards; with `name`, the board and everyone on it is called that, and `note`
    is every trustee's evidence, the clerk's message, the chair's plan and a delivery error."""
    the_board = board()
    if name is not None:
        people = [replace(m, name=f"{name}{i}") for i, m in enumerate(the_board.members)]
        the_board = board(people, name=name)
    note = note or "Risk register reviewed twice a year."
    summary = round_summary(note)
    anonymous = round_summary(note, attributed=False)
    running = open_round(the_board, message=f"Thank you all.\n{note}")
    done = closed_round(the_board, plan=plans(summary, note, note), published=TODAY)
    states = (RESPONDED, IN_PROGRESS, NOT_STARTED, UNREACHABLE, RESPONDED, IN_PROGRESS, RESPONDED)
    progress = [
        Progress(m, state, 5, note if state == UNREACHABLE else None)
        for m, state in zip(the_board.trustees, states, strict=True)
    ]
    notice = Notice("Saved.")
    built: dict[str, Callable[[], Any]] = {
        "setup": lambda: setup_card(the_board.name, BOARD_ID, mode, notice),
        "board open round": lambda: board_card(the_board, running, FRAMEWORKS, mode, notice),
        "board no round": lambda: board_card(the_board, None, FRAMEWORKS, mode),
        "roles": lambda: roles_card(numbered_board(57), 1, mode, notice),
        "roles named": lambda: roles_card(the_board, 0, mode),
        "roles nobody": lambda: roles_card(board([]), 0, mode),
        "frameworks": lambda: choose_framework_card(the_board, list(FRAMEWORKS.values()), mode),
        "form": lambda: round_form_card(the_board, GOVERNANCE, mode, today=TODAY, message=note),
        "round open": lambda: round_card(the_board, running, GOVERNANCE, progress, mode, notice),
        "round closed": lambda: round_card(
            the_board, done, GOVERNANCE, progress, mode, followup=(5, 16)
        ),
        "invitation": lambda: invitation_card(the_board, running, GOVERNANCE, mode),
        "reminder": lambda: invitation_card(the_board, running, GOVERNANCE, mode, reminder=True),
        "plan": lambda: plan_card(the_board, done, summary, mode, notice),
        "plan nothing": lambda: plan_card(the_board, done, round_summary(codes="G"), mode),
        "published": lambda: published_card(the_board, done, summary, TODAY),
        "board card moved on": moved_card,
        "data": lambda: data_card(the_board, 365, mode, notice),
        "summary attributed": lambda: round_summary_card(summary, the_board.name, TODAY, mode),
        "summary anonymous": lambda: round_summary_card(
            anonymous, the_board.name, TODAY, mode, TODAY
        ),
    }
    for title, build in built.items():
        if only is None or title in only:
            yield title, _content(build())


# The board's cards where what one person typed lands somewhere new: names in lists and
# headings, the clerk's message, a delivery error.
HOSTILE_BOARD = ("board open round", "form", "round open", "invitation")


def hostile_cards() -> Iterator[tuple[str, Content]]:
    """What people could type (kit.HOSTILE): one card per kind where one person's text shows,
    and every kind at once where many people's do (each trustee's evidence, each priority's
    plan). In one mode: the modes differ in their buttons only."""
    fw, mode = GOVERNANCE, "execute"
    for kind, text in HOSTILE.items():
        one = assessment(fw, {1: "R"}, text)
        some = assessment(fw, {1: "R", 2: "AR", 3: "G"}, text, cursor=0)
        yield f"{kind}: element", _content(element_card(fw, one, fw.elements[0], mode))
        yield f"{kind}: review", _content(review_card(fw, some, mode))
        for title, content in board_cards(mode, name=text, note=text, only=HOSTILE_BOARD):
            yield f"{kind}: {title}", content
    kinds = list(HOSTILE.values())
    # Each element's evidence a different kind, all of them priorities.
    every = assessment(fw, all_rated(fw, "R"), dict(enumerate(kinds, start=1)), cursor=0)
    yield "every kind: review", _content(review_card(fw, every, mode))
    yield "every kind: results", _content(results_card(fw, every, mode))
    # Each trustee's evidence a different kind; each priority's plan another.
    notes = dict(enumerate(kinds))
    the_board = board()
    for attributed in (True, False):
        summary = round_summary(notes, attributed, codes="R AR", trustees=len(kinds))
        numbers = [p.summary.element.number for p in summary.priorities]
        drafted = {
            n: Plan(kinds[i % len(kinds)], kinds[(i + 1) % len(kinds)])
            for i, n in enumerate(numbers)
        }
        done = closed_round(the_board, plan=drafted, attributed=attributed)
        how = "attributed" if attributed else "anonymous"
        card = round_summary_card(summary, the_board.name, TODAY, mode)
        yield f"every kind: summary, {how}", _content(card)
        yield f"every kind: plan, {how}", _content(plan_card(the_board, done, summary, mode))
        card = published_card(the_board, done, summary, TODAY)
        yield f"every kind: published, {how}", _content(card)


def set_cards(mode: str) -> Iterator[tuple[str, Content]]:
    """A learning set's and a peer review's cards (tests/sets/test_set_cards.py builds them),
    with eight members and the set's name typed as each kind of hostile text."""
    from tests.sets.test_set_cards import every_card, full_set

    for n, card in enumerate(every_card(full_set(), mode)):
        yield f"{n}: {card.summary}", card.content
    if mode == "execute":
        for kind, text in HOSTILE.items():
            for n, card in enumerate(every_card(full_set(name=text, board_name=text), mode)):
                yield f"{kind} {n}: {card.summary}", card.content


def _content(card: Any) -> Content:
    return card.content


def picture_cards() -> dict[str, Content]:
    """The cards scripts/card-pictures draws for docs/cards/, from its own entry point."""
    spec = importlib.util.spec_from_file_location("cardrender_cards", PICTURES)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.samples()


# Groups of cards, each checked by one test: built only when the renderer is there to read them.
GROUPS: dict[str, Callable[[], Iterator[tuple[str, Content]]]] = {
    **{f"walkthrough, {mode}": partial(walkthrough_cards, mode) for mode in MODES},
    **{f"board, {mode}": partial(board_cards, mode) for mode in MODES},
    **{f"learning sets, {mode}": partial(set_cards, mode) for mode in MODES},
    "notices and widest evidence": extreme_cards,
    "hostile text": hostile_cards,
    "docs/cards pictures": lambda: iter(picture_cards().items()),
}


@pytest.fixture(scope="module")
def cards() -> dict[str, dict[str, Content]]:
    built: dict[str, dict[str, Content]] = {}
    for group, source in GROUPS.items():
        built[group] = {}
        for title, content in source():
            assert title not in built[group], f"two cards named {title!r} in {group}"
            built[group][title] = content
    return built


# -- what the renderer says ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def verdicts(
    cards: dict[str, dict[str, Content]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """Microsoft's renderer's verdict on every card, by "group · title": check.js in a process
    per CPU (rendering in jsdom is what takes the time)."""
    modules = renderer_modules()
    every = {f"{g} · {t}": c for g, group in cards.items() for t, c in group.items()}
    names = list(every)
    workers = max(1, min(4, os.cpu_count() or 1))
    folder = tmp_path_factory.mktemp("renderer")
    runs = []
    for i in range(workers):
        part = folder / f"cards-{i}.json"
        part.write_text(json.dumps({n: every[n] for n in names[i::workers]}, ensure_ascii=False))
        runs.append(
            subprocess.Popen(
                ["node", str(CHECK), str(part)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, "CARDRENDER_MODULES": str(modules)},
            )
        )
    results: dict[str, dict[str, Any]] = {}
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, f"check.js failed:\n{err.decode()[-4000:]}"
        results.update(json.loads(out)["results"])
    assert set(results) == set(every)
    return results


def expected_buttons(card: Content) -> list[str]:
    """The titles of the buttons a reader sees at first: show-cards' contents are drawn when
    opened, and an Action.Execute's fallback Submit is the same button."""
    titles: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            if node.get("type") == "ActionSet":
                titles.extend(a["title"] for a in node["actions"])
                return
            for key, value in node.items():
                if key not in ("fallback", "selectAction"):
                    visit(value)

    visit(card.get("body", []))
    visit([{"type": "ActionSet", "actions": card["actions"]}] if card.get("actions") else [])
    return titles


def complaints(verdict: dict[str, Any], card: Content) -> list[str]:
    """What is wrong with one card, as the renderer saw it: empty when nothing is."""
    found = [f"threw: {verdict['error']}"] if verdict["error"] else []
    found += [f"parse {e['event']}: {e['message']}" for e in verdict["events"]]
    found += [f"validation {e['event']}: {e['message']}" for e in verdict["validation"]]
    if not verdict["rendered"] and not verdict["error"]:
        found.append("render() gave no element")
    # Every button is drawn: none dropped, nor moved to an overflow menu ("...").
    if verdict["rendered"] and verdict["buttons"] != expected_buttons(card):
        found.append(f"buttons drawn {verdict['buttons']}, not {expected_buttons(card)}")
    return found


@pytest.mark.npm
@needs_node
@pytest.mark.parametrize("group", GROUPS)
def test_microsoft_renderer_parses_and_renders_every_card(
    group: str,
    cards: dict[str, dict[str, Content]],
    verdicts: dict[str, dict[str, Any]],
) -> None:
    assert cards[group], f"no cards in {group}"
    wrong = {
        title: found
        for title, card in cards[group].items()
        if (found := complaints(verdicts[f"{group} · {title}"], card))
    }
    assert not wrong, "Microsoft's renderer complains:\n" + "\n".join(
        f"{title}: {'; '.join(found)}" for title, found in wrong.items()
    )


def test_every_builder_is_checked() -> None:
    """A new card builder must be added above: every module's public *_card is called there."""
    import dialogs.boards.cards
    import dialogs.cards.build
    import dialogs.privacy
    import dialogs.rounds.cards
    import dialogs.sets.cards

    called = {
        "board_card", "choose_framework_card", "data_card", "invitation_card", "plan_card",
        "published_card", "roles_card", "round_card", "round_form_card", "setup_card",
        "element_card", "paused_card", "results_card", "review_card", "superseded_card",
        "welcome_card", "forget_card", "round_summary_card", "moved_card",
        # dialogs/sets (set_cards above): the set, sharing, the comparison, peer review
        "create_card", "join_card", "list_card", "set_card", "offer_card", "comparison_card",
        "review_form_card", "self_peer_card",
    }  # fmt: skip
    found = {
        name
        for module in (
            dialogs.boards.cards,
            dialogs.cards.build,
            dialogs.privacy,
            dialogs.rounds.cards,
            dialogs.sets.cards,
        )
        for name, value in vars(module).items()
        if name.endswith("_card")
        and not name.startswith("_")
        and callable(value)
        and value.__module__ == module.__name__
    }
    assert found <= called, f"not checked by Microsoft's renderer: {sorted(found - called)}"


def test_the_hostile_cards_carry_the_hostile_text(cards: dict[str, dict[str, Content]]) -> None:
    """What people typed is in the cards the renderer reads (else the check proves little)."""
    hostile = cards["hostile text"]
    for kind, text in HOSTILE.items():
        values = [n.get("value") for n in walk(hostile[f"{kind}: element"])]
        assert text in values, kind
        said = json.dumps(hostile[f"{kind}: invitation"], ensure_ascii=False)
        assert json.dumps(" ".join(text.split()), ensure_ascii=False)[1:12] in said, kind
