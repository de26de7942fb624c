"""The aggregation: board rating, spread, minimum responses, anonymity, priorities, change."""

from __future__ import annotations

import itertools
import random

import pytest

from dialogs.rounds import RoundSettings, board_rating, summarise, views_differ
from dialogs.rounds.summary import percent
from tests.rounds.kit import (
    ANONYMOUS,
    ATTRIBUTED,
    GOVERNANCE,
    NAMES,
    STRONG_TRUSTS,
    rated,
    response,
    summary_of,
)

RISK = 5  # "Risk management", in Strategic leadership
TEAM = 12  # "Building an effective team", the only element in People
EFFECTIVENESS = 16  # "Board effectiveness", in Evaluation


# The board rating: the median, the weaker of the two middle ratings when the count is even


@pytest.mark.parametrize(
    ("ratings", "board"),
    [
        (["G"], "G"),  # a single rating is its own median
        (["R"], "R"),
        (["R", "AG", "G"], "AG"),  # odd: the middle one
        (["R", "R", "G"], "R"),
        (["AR", "G", "G", "G", "G"], "G"),
        (["AG", "G"], "AG"),  # even: the weaker of the two middle ones
        (["R", "AR", "AG", "G"], "AR"),
        (["AR", "AR", "G", "G"], "AR"),  # a tie between two camps goes to the weaker
        (["R", "G", "G", "G"], "G"),  # both middle ratings are G
        (["R", "AR", "AR", "AG", "AG", "AG", "AG", "G"], "AG"),
    ],
)
def test_board_rating_is_the_median_rounded_towards_the_weaker(
    ratings: list[str], board: str
) -> None:
    for order in itertools.permutations(ratings):
        assert board_rating(order) == board


def test_no_ratings_give_no_board_rating() -> None:
    assert board_rating([]) is None


@pytest.mark.parametrize(
    ("ratings", "differ"),
    [
        (["R", "AG"], True),
        (["AR", "G"], True),
        (["R", "G"], True),
        (["R", "AR", "AR", "AR"], False),  # one step apart
        (["AR", "AG"], False),
        (["AG", "G", "G"], False),
        (["G"], False),
    ],
)
def test_views_differ_when_two_ratings_are_two_or_more_steps_apart(
    ratings: list[str], differ: bool
) -> None:
    assert views_differ(ratings) is differ


def test_an_element_summary_counts_each_rating_and_flags_the_spread() -> None:
    summary = summary_of(rated(RISK, "AG R AR AG G AG AR AG"), numbers=(RISK,))
    (cell,) = summary.elements
    assert cell.shown
    assert dict(cell.counts) == {"R": 1, "AR": 2, "AG": 4, "G": 1}
    assert cell.distribution == "R 1 · AR 2 · AG 4 · G 1"
    assert cell.board == "AG"
    assert cell.spread
    assert cell.rated == 8


# The minimum number of responses


@pytest.mark.parametrize("settings", [ATTRIBUTED, ANONYMOUS], ids=["attributed", "anonymous"])
def test_below_the_minimum_nothing_of_an_element_is_shown(settings: RoundSettings) -> None:
    notes = {0: "Risk register out of date.", 1: "All fine here."}
    summary = summary_of(rated(RISK, "R G", notes), numbers=(RISK,), settings=settings)
    (cell,) = summary.elements
    assert not cell.shown
    assert cell.board is None
    assert set(cell.counts.values()) == {0}
    assert not cell.spread  # R and G, but the flag would tell the two apart
    assert cell.evidence == ()
    assert summary.priorities == ()  # a Red rating alone does not make a priority


def test_the_minimum_can_be_lowered_and_raised() -> None:
    responses = rated(RISK, "R G")
    assert summary_of(responses, (RISK,), settings=RoundSettings(True, 2)).elements[0].shown
    responses = rated(RISK, "R AR AG G")
    (cell,) = summary_of(responses, (RISK,), settings=RoundSettings(False, 5)).elements
    assert not cell.shown and cell.rated == 4


def test_the_minimum_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RoundSettings(attributed=False, min_responses=0)


def test_an_element_nobody_rated_is_unrated_not_hidden() -> None:
    summary = summary_of(rated(RISK, "AG AG AG"), numbers=(RISK, TEAM))
    team = summary.element(TEAM)
    assert team is not None
    assert (team.rated, team.shown, team.board) == (0, False, None)


# Who counts


def test_unfinished_responses_count_for_the_elements_they_rated() -> None:
    responses = [
        response(0, {RISK: "R", TEAM: "G"}),
        response(1, {RISK: "AR", TEAM: "G"}),
        response(2, {RISK: "AR"}, finished=False),  # rated Risk management, then stopped
        response(3, {}, finished=False),  # opened the round, rated nothing
    ]
    summary = summary_of(responses, (RISK, TEAM), invited=8)
    risk, team = summary.element(RISK), summary.element(TEAM)
    assert risk is not None and team is not None
    assert (risk.rated, risk.shown, risk.board) == (3, True, "AR")
    assert (team.rated, team.shown) == (2, False)
    assert (summary.invited, summary.finished, summary.in_progress) == (8, 2, 2)
    assert summary.response_rate == 25


def test_a_draft_without_a_rating_is_not_counted_nor_its_evidence() -> None:
    responses = [
        *rated(RISK, "AR AR AG"),
        response(3, {RISK: None}, "Draft: still thinking about this one."),
    ]
    (cell,) = summary_of(responses, (RISK,)).elements
    assert cell.rated == 3
    assert all("Draft" not in e.text for e in cell.evidence)


@pytest.mark.parametrize(
    ("finished", "invited", "rate"),
    [(6, 8, 75), (2, 3, 67), (1, 3, 33), (8, 8, 100), (0, 5, 0), (199, 200, 99), (1, 300, 1)],
)
def test_response_rate_is_finished_over_invited(finished: int, invited: int, rate: int) -> None:
    assert percent(finished, invited) == rate


def test_response_rate_comes_from_finished_responses() -> None:
    responses = [response(i, {RISK: "AG"}, finished=i < 6) for i in range(7)]
    summary = summary_of(responses, (RISK,), invited=8)
    assert (summary.finished, summary.in_progress, summary.response_rate) == (6, 1, 75)


# Subsets


def test_only_the_elements_in_the_round_appear() -> None:
    responses = [response(i, {RISK: "R", TEAM: "AR", 1: "R", 9: "R"}) for i in range(3)]
    summary = summary_of(responses, numbers=(TEAM, RISK))
    assert summary.element_numbers == (RISK, TEAM)
    assert [row.domain.title for row in summary.rows] == ["Strategic leadership", "People"]
    assert [c.element.number for c in summary.elements] == [RISK, TEAM]
    assert summary.element(1) is None  # rated Red by all three, but not in this round
    assert [p.summary.element.number for p in summary.priorities] == [RISK, TEAM]


def test_a_round_needs_known_elements() -> None:
    with pytest.raises(ValueError, match="at least one element"):
        summary_of(rated(RISK, "AG AG AG"), numbers=())
    with pytest.raises(ValueError, match=r"no element \[17\]"):
        summary_of(rated(RISK, "AG AG AG"), numbers=(RISK, 17))
    with pytest.raises(ValueError, match=r"no element \[15, 16\]"):
        summary_of(rated(RISK, "AG AG AG"), numbers=(1, 15, 16), framework=STRONG_TRUSTS)


def test_responses_are_checked() -> None:
    twice = [response(0, {RISK: "AG"}), response(0, {RISK: "G"})]
    with pytest.raises(ValueError, match="ids repeat"):
        summary_of(twice, (RISK,))
    with pytest.raises(ValueError, match="only 2 trustees invited"):
        summary_of(rated(RISK, "AG AG AG"), (RISK,), invited=2)
    with pytest.raises(ValueError, match="not on the scale"):
        summary_of([response(0, {RISK: "Amber"})], (RISK,))


# Evidence: attributed or anonymous, and in an order that gives no author away


NOTES = {
    0: "Zeta: the risk register has not been reviewed since 2024.",
    1: "Alpha: the board has never agreed a risk appetite.",
    2: "Mu: risk is discussed at every meeting.",
    3: "Beta: the audit committee reviews the top ten risks.",
}


def test_attributed_evidence_names_its_author_and_puts_red_and_amber_red_first() -> None:
    (cell,) = summary_of(rated(RISK, "G R AG AR", NOTES), (RISK,)).elements
    assert [(e.name, e.rating) for e in cell.evidence] == [
        (NAMES[1], "R"),
        (NAMES[3], "AR"),
        (NAMES[2], "AG"),
        (NAMES[0], "G"),
    ]


def test_anonymous_evidence_has_no_names_and_is_ordered_by_what_it_says() -> None:
    (cell,) = summary_of(rated(RISK, "G R AG AR", NOTES), (RISK,), settings=ANONYMOUS).elements
    assert all(e.name is None for e in cell.evidence)
    # R and AR first (their order by text), then AG and G (by text): not by trustee.
    assert [e.text.split(":")[0] for e in cell.evidence] == ["Alpha", "Beta", "Mu", "Zeta"]


def test_anonymous_evidence_order_does_not_depend_on_who_answered_or_when() -> None:
    responses = rated(RISK, "G R AG AR AR R", {**NOTES, 4: "Gamma.", 5: "Delta."})
    first = summary_of(responses, (RISK,), settings=ANONYMOUS)
    for seed in range(10):
        shuffled = random.Random(seed).sample(responses, len(responses))
        assert summary_of(shuffled, (RISK,), settings=ANONYMOUS) == first


def test_blank_evidence_is_left_out() -> None:
    (cell,) = summary_of(rated(RISK, "AR AR AR", {0: "  \n ", 1: "One note."}), (RISK,)).elements
    assert [e.text for e in cell.evidence] == ["One note."]


# Priorities


def test_priorities_are_red_and_amber_red_board_ratings_and_flagged_elements() -> None:
    responses = [
        response(0, {1: "R", 3: "AR", 5: "AG", 9: "AG", 12: "R", 16: "G"}),
        response(1, {1: "R", 3: "AR", 5: "G", 9: "AG", 12: "AG", 16: "G"}),
        response(2, {1: "AR", 3: "AG", 5: "G", 9: "G", 12: "AG", 16: "G"}),
    ]
    summary = summary_of(responses, (1, 3, 5, 9, 12, 16))
    boards = {c.element.number: (c.board, c.spread) for c in summary.elements}
    assert boards == {
        1: ("R", False),
        3: ("AR", False),
        5: ("G", False),
        9: ("AG", False),
        12: ("AG", True),  # R against AG: two steps
        16: ("G", False),
    }
    assert [p.focus_area for p in summary.priorities] == [
        "Setting direction (Red)",
        "Decision-making (Amber Red)",
        "Building an effective team (Amber Green; views differ)",
    ]


def test_no_priorities_when_the_board_is_amber_green_or_better_and_agrees() -> None:
    summary = summary_of(rated(RISK, "AG G AG"), (RISK,))
    assert summary.priorities == ()


# Change since an earlier round


def test_change_against_the_previous_round() -> None:
    before = summary_of(
        [response(i, {1: "AR", 5: "AG", 12: "R"}) for i in range(3)]
        + [response(3, {16: "G"})],  # one rating of 16: not shown then
        numbers=(1, 5, 12, 16),
    )
    now = summary_of(
        [response(i, {1: "AG", 5: "AG", 12: "R", 16: "G", 9: "AR"}) for i in range(4)],
        numbers=(1, 5, 9, 12, 16),
        previous=before,
    )
    changes = {c.element.number: c.change for c in now.elements}
    assert changes == {
        1: "AR → AG",
        5: "no change",
        9: "new",  # not in the earlier round
        12: "no change",
        16: "not shown → G",
    }
    assert now.compared and not before.compared
    assert all(c.change is None for c in before.elements)


def test_change_where_neither_round_shows_a_board_rating() -> None:
    before = summary_of([response(0, {RISK: "AR"})], (RISK,))
    now = summary_of([response(0, {RISK: "G"})], (RISK,), previous=before)
    assert now.elements[0].change == "no board rating either time"
    later = summary_of(rated(RISK, "R R R"), (RISK,), previous=now)
    assert later.elements[0].change == "not shown → R"


def test_the_previous_round_must_be_on_the_same_framework() -> None:
    before = summarise(STRONG_TRUSTS, (1,), rated(1, "AG AG AG"), 3, ATTRIBUTED)
    with pytest.raises(ValueError, match="previous round is on cst-strong-trusts"):
        summary_of(rated(1, "AG AG AG"), (1,), previous=before)


def test_the_summary_is_the_same_for_either_framework_shape() -> None:
    summary = summarise(STRONG_TRUSTS, range(1, 15), rated(14, "R R AR"), 5, ANONYMOUS)
    assert len(summary.elements) == 14
    assert [p.focus_area for p in summary.priorities] == [
        "Civic purpose and wider common good (Red)"
    ]
    assert len(summary.rows) == len(STRONG_TRUSTS.domains)


def test_governance_is_the_framework_under_test() -> None:
    # The element numbers above are the governance framework's; fail loudly if they move.
    titles = {n: GOVERNANCE.elements[n - 1].title for n in (RISK, TEAM, EFFECTIVENESS)}
    assert titles == {
        RISK: "Risk management",
        TEAM: "Building an effective team",
        EFFECTIVENESS: "Board effectiveness",
    }
