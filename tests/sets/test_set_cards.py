"""The learning set's cards: valid Adaptive Cards 1.5 in both action modes, within Teams' size
limit with eight members and hostile names, every typed name kept a name (never an action), and
each viewer seeing members as the set's setting says."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialogs.messages import Card
from dialogs.sets import cards as set_cards
from dialogs.sets.compare import comparison, interests, self_versus_peer
from dialogs.sets.model import ROUND, SELF, LearningSet, Person, Review, SetMember, Share
from tests.cards.kit import FRAMEWORKS, GOV, HOSTILE, MODES
from tests.cards.test_every_card import check_mode
from tests.cards.validate import assert_valid
from tests.dialogs.cardkit import walk

FW = FRAMEWORKS[GOV]
LONG = "😀" * 400  # a name far over any budget, 12 wire bytes a character


def full_set(
    name: str = "North West chairs", board_name: str = "Oak Learning Trust"
) -> LearningSet:
    members = tuple(
        SetMember(
            f"tenant-{n}", f"19:team{n}", f"{board_name} {n}", f"2026-11-2{n}T09:00:00Z", label
        )
        for n, label in enumerate("ABCDEFGH")
    )
    shares = {
        m.key: Share(
            {e.number: ("R", "AR", "AG", "G")[(e.number + n) % 4] for e in FW.elements},
            "2026-11-24T09:00:00Z",
            ROUND if n % 2 else SELF,
            "aaaaaaaaaaaa",
            "ref",
            previous={1: "G"} if n % 3 else {},
            previous_at="2026-10-24T09:00:00Z" if n % 3 else None,
        )
        for n, m in enumerate(members)
    }
    return LearningSet(
        id="0123456789abcdef",
        name=name,
        framework=GOV,
        named=False,
        created="2026-11-23T09:00:00Z",
        facilitator=Person("tenant-cst", "fay", name, "29:fay", "https://smba/"),
        code="KQ7M4XPD",
        members=members,
        shares=shares,
        votes={m.key: (1, 5, 15, 16) for m in members},
        focus=(1, 5, 15, 16),
        focus_by="vote",
    )


def every_card(s: LearningSet, mode: str) -> list[Card]:
    member = s.members[2]
    viewers = [
        set_cards.Viewer(True),
        set_cards.Viewer(False, member, "chair"),
        set_cards.Viewer(False, member, "clerk"),
        set_cards.Viewer(True, member, "chair"),
    ]
    offers = [
        set_cards.Offer(
            ROUND, "aaaaaaaaaaaa", "The board's round", {e.number: "AR" for e in FW.elements}, 2
        ),
        set_cards.Offer(SELF, "bbbbbbbbbbbb", "Your own", {1: "G"}),
    ]
    found = [
        set_cards.create_card(list(FRAMEWORKS.values()), mode),
        set_cards.create_card(list(FRAMEWORKS.values()), mode, name=s.name, named=False),
        set_cards.join_card("KQ7M4XPD", [(m.board, m.name) for m in s.members], mode),
        set_cards.list_card([(s, v) for v in viewers] * 3, mode),
        set_cards.list_card([], mode),
    ]
    review = Review(
        id="0123456789ab",
        framework=GOV,
        version="1",
        elements=(1, 5, 15, 16),
        board=s.members[0],
        asked_by="sam",
        created="2026-11-23T09:00:00Z",
        deadline="2026-12-23T09:00:00Z",
        reviewer=Person("tenant-elm", "kim", s.name, "29:kim", "https://smba/"),
    )
    peers = [(m.label, m.name) for m in s.members[1:]]
    rows = self_versus_peer(
        FW,
        review.elements,
        {1: "R", 5: "AR", 15: "G"},
        {n: ("G", s.name * 3) for n in (1, 5, 16)},
    )
    found += [
        set_cards.review_form_card(s.members[0].name, "19:team0", FW, peers, (1, 5), mode, s.id),
        set_cards.review_form_card(s.members[0].name, "19:team0", FW, [], (), mode),
        set_cards.invitation_card(review, FW, mode),
        set_cards.self_peer_card(review, FW, rows, "its round of 3 December 2026", mode),
        set_cards.list_card([], mode, chaired=[("19:team0", s.members[0].name)]),
    ]
    for viewer in viewers:
        found.append(set_cards.set_card(s, FW, viewer, interests(FW, s), mode))
        found.append(set_cards.set_card(replace(s, code=None, focus=()), FW, viewer, [], mode))
        found.append(set_cards.offer_card(s, FW, viewer, offers, mode))
        found.append(set_cards.offer_card(s, FW, viewer, [], mode))
        found.append(set_cards.comparison_card(s, FW, viewer, comparison(FW, s), mode))
    return found


@pytest.mark.parametrize("mode", MODES)
def test_every_set_card_is_valid(mode: str) -> None:
    for card in every_card(full_set(), mode):
        assert_valid(card.content)
        check_mode(card, mode)


@pytest.mark.parametrize("text", [*HOSTILE.values(), LONG], ids=[*HOSTILE, "long"])
def test_typed_names_stay_text_and_cards_fit(text: str) -> None:
    s = full_set(name=text, board_name=text)
    for card in every_card(s, "execute"):
        assert_valid(card.content)
        buttons = [n for n in walk(card.content) if n.get("type", "").startswith("Action.")]
        assert all(b["type"] in ("Action.Execute", "Action.Submit") for b in buttons)
        assert all(b["data"]["verb"].startswith(("set.", "review.", "start")) for b in buttons)


def texts(card: Card) -> str:
    return "\n".join(str(n["text"]) for n in walk(card.content) if n.get("type") == "TextRun")


def test_members_see_labels_and_the_facilitator_sees_names() -> None:
    s = full_set()
    member = s.members[2]
    seen = texts(set_cards.set_card(s, FW, set_cards.Viewer(False, member, "chair"), [], "execute"))
    assert "Trust C (your board): shared" in seen
    assert "Trust A: shared" in seen
    assert "Oak Learning Trust" not in seen
    facilitator = texts(set_cards.set_card(s, FW, set_cards.Viewer(True), [], "execute"))
    assert "Oak Learning Trust 0: shared" in facilitator
    named = replace(s, named=True)
    seen = texts(
        set_cards.set_card(named, FW, set_cards.Viewer(False, member, "clerk"), [], "execute")
    )
    assert "Oak Learning Trust 2 (your board)" in seen and "Oak Learning Trust 0" in seen


def test_only_the_chair_has_share_and_only_the_facilitator_has_the_code() -> None:
    s = full_set()
    member = s.members[0]
    verbs = {
        who: {
            n["verb"]
            for n in walk(set_cards.set_card(s, FW, v, [], "execute").content)
            if n.get("type") == "Action.Execute"
        }
        for who, v in {
            "chair": set_cards.Viewer(False, member, "chair"),
            "clerk": set_cards.Viewer(False, member, "clerk"),
            "facilitator": set_cards.Viewer(True),
        }.items()
    }
    assert "set.offer" in verbs["chair"] and "set.offer" not in verbs["clerk"]
    assert "set.offer" not in verbs["facilitator"]
    assert {"set.focus", "set.send", "set.close", "set.code.withdraw"} <= verbs["facilitator"]
    assert not {"set.focus", "set.send", "set.close"} & (verbs["chair"] | verbs["clerk"])
    chair_words = texts(
        set_cards.set_card(s, FW, set_cards.Viewer(False, member, "chair"), [], "execute")
    )
    assert "KQ7M" not in chair_words


def test_self_versus_peer_flags_two_steps_apart_and_shows_the_peers_evidence() -> None:
    s = full_set()
    review = Review(
        id="0123456789ab",
        framework=GOV,
        version="1",
        elements=(1, 5, 16),
        board=s.members[0],
        asked_by="sam",
        created="2026-11-23T09:00:00Z",
        deadline="2026-12-23T09:00:00Z",
        reviewer=Person("tenant-elm", "kim", "Kim Peer", "29:kim", "https://smba/"),
    )
    rows = self_versus_peer(
        FW,
        review.elements,
        {1: "R", 5: "AR", 16: "AR"},
        {1: ("G", "No strategy day."), 5: ("AR", ""), 16: ("R", "x")},
    )
    assert [r.flagged for r in rows] == [True, False, False]
    seen = texts(set_cards.self_peer_card(review, FW, rows, "its round", "execute"))
    assert "Board: Red · Peer: Green ⚑ two or more steps apart" in seen
    assert "Board: Amber Red · Peer: Amber Red\n" in seen + "\n"
    assert "Key issues (the peer): No strategy day." in seen
    assert "Key issues (the peer): none noted." in seen
    assert "Kim Peer reviewed the board on 3 elements" in seen
