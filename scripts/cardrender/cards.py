"""The cards drawn for docs/cards/, built by trustboard's own builders from realistic sample data.

    .venv/bin/python scripts/cardrender/cards.py OUT_DIR
    .venv/bin/python scripts/cardrender/cards.py --index DOCS_DIR

writes OUT_DIR/<name>.json for each card in `PICTURES` (and prints the names), or prints the
index of the pictures, docs/cards/README.md; scripts/card-pictures then draws the cards with
Microsoft's renderer. `samples()` gives the same cards to the tests.

The board is a made-up school trust's, Oakfield Learning Trust, with nine trustees; the evidence
is the sort trustees write, and the board's summary is of an anonymous round.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: the repo's packages are two levels up
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dialogs.boards.cards import plan_card, round_card
from dialogs.boards.model import (
    CHAIR,
    CLERK,
    IN_PROGRESS,
    NOT_STARTED,
    OTHER,
    RESPONDED,
    UNREACHABLE,
    Board,
    Plan,
    Progress,
)
from dialogs.cards import Notice, element_card, results_card, review_card
from dialogs.rounds import (
    Response,
    RoundSettings,
    RoundSummary,
    round_summary_card,
    summarise,
)
from dialogs.sets import cards as set_cards
from dialogs.sets.compare import comparison, interests, self_versus_peer
from dialogs.sets.model import ROUND, LearningSet, Person, Review, SetMember, Share
from dialogs.state import Answer, Assessment
from tests.boards.cardkit import (
    GOVERNANCE,
    board,
    closed_round,
    member,
    open_round,
)
from tests.cards.kit import FINISHED, assessment, in_round, round_link

MODE = "execute"  # what Teams gets
STAMP = "2026-11-23T09:00:00+00:00"
CLOSED_ON = "2026-12-05T23:59:59+00:00"
PREVIOUS_CLOSED_ON = "2025-12-06T23:59:59+00:00"
BOARD_NAME = "Oakfield Learning Trust"
TRUSTEES = (
    "Amara Okafor",
    "Gareth Llewellyn",
    "Fiona MacLeod",
    "Priya Raman",
    "Tom Bexley",
    "Grace Adeyemi",
    "Daniel Kowalski",
    "Margaret O'Neill",
)

# What trustees wrote, per element of the trust governance framework: each note is one trustee's.
NOTES: dict[int, tuple[str, ...]] = {
    1: (
        "The five-year strategy was agreed in 2024, but we have not checked progress against it "
        "since the away day.",
        "Strategy is clear on paper; the KPIs we report on do not map to its three pillars.",
        "Good discussion of growth at the March meeting, no decision yet on the two schools "
        "that have approached us.",
    ),
    2: (
        "Values are visible in every school I visited this year; staff could name them.",
        "Exclusion rates at two academies sit oddly with our inclusion statement.",
    ),
    3: (
        "Papers arrive the weekend before, so big decisions are often taken on the day without "
        "real options.",
        "The scheme of delegation was updated in September, but some decisions still come to "
        "the board that should not.",
        "Minutes record what we decided, rarely why.",
        "Committee chairs' reports are good; the board rarely asks them questions.",
    ),
    4: (
        "We work well with the local authority on SEND places; little contact with the other "
        "trusts in the town.",
    ),
    5: (
        "The risk register has not been reviewed by the full board since last year; the audit "
        "committee sees only the top ten.",
        "No agreed risk appetite statement.",
        "Cyber security and the capital programme are missing from the register.",
        "Risks are discussed at audit committee but seldom when we take decisions.",
        "The register is thorough; the issue is how the board uses it.",
    ),
    6: (
        "We see headline outcomes once a year and very little on the quality of education in "
        "between.",
        "School visits by trustees lapsed after the pandemic and have not restarted.",
        "The CEO's termly report on standards is clear and honest.",
    ),
    7: (
        "Data packs are long and we do not always challenge what they show.",
        "Attendance data by pupil group is new this year and very useful.",
    ),
    8: ("Budget monitoring is monthly and clear; the reserves policy was reviewed in July.",),
    9: (
        "The deficit at Millbrook Primary has grown for two years running and the recovery plan "
        "is not yet agreed.",
        "The central services charge has never been benchmarked against other trusts.",
        "Energy costs were 40% over budget and we only heard in the year-end accounts.",
        "Finance committee is strong; the full board leans on it too much.",
    ),
    10: (
        "The CEO's appraisal was done on time with an external adviser.",
        "We know little about staff turnover and wellbeing across the schools.",
        "Pay policy approved without discussion of recruitment in shortage subjects.",
    ),
    11: ("Accounts filed on time; the annual report reads well.",),
    12: (
        "Three trustees' terms end in 2027 and there is no succession plan.",
        "The skills audit is two years old and showed gaps in education and HR.",
    ),
    13: (
        "Local governing bodies are unsure what is delegated to them.",
        "Committee terms of reference were refreshed last year.",
    ),
    14: ("The clerk keeps a compliance calendar; nothing was missed this year.",),
    15: (
        "We have never reviewed our own effectiveness as a board.",
        "This self-assessment is the first time we have done anything like it.",
        "No external review of governance since the trust was formed.",
    ),
    16: (
        "Meetings overrun and the same few voices dominate.",
        "The chair and CEO work well together, perhaps too closely for real challenge.",
        "Not every trustee reads the papers before the meeting.",
        "New trustees had no induction beyond a pack of documents.",
        "Agendas are full of items to note, with little time for strategy.",
    ),
}

# Each element's ratings by the seven trustees who answered (None: not rated). The last one
# stopped after six elements; two of the nine invited never started.
BY_ELEMENT: dict[int, tuple[str | None, ...]] = {
    1: ("AG", "AR", "AG", "AG", "AG", "AR", "AG"),
    2: ("G", "AG", "G", "G", "AG", "G", "AG"),
    3: ("AR", "AR", "AG", "AG", "AR", "AG", "AR"),
    4: ("AG", "AG", "G", "AG", "AG", "AG", "AG"),
    5: ("R", "AR", "AR", "R", "AG", "AR", "AR"),
    6: ("AG", "AR", "AG", "AR", "AG", "AG", "AG"),
    7: ("AG", "AR", "AG", "AG", "AG", "AG", None),
    8: ("G", "G", "G", "AG", "G", "G", None),
    9: ("AR", "R", "AR", "AR", "AG", "R", None),
    10: ("AG", "AG", "AG", "AR", "G", "AG", None),
    11: ("G", "G", "G", "G", "AG", "G", None),
    12: ("AG", "AR", "AG", "AG", "AG", "AG", None),
    13: ("AG", "AG", "AR", "AG", "AG", "AG", None),
    14: ("G", "G", "G", "G", "G", "AG", None),
    15: ("R", "AR", "R", "R", "AR", "R", None),
    16: ("AR", "R", "AR", "AG", "AR", "AG", None),
}
RATINGS: tuple[tuple[str | None, ...], ...] = tuple(zip(*BY_ELEMENT.values(), strict=True))
# Last year's round: five invited, four answered, without evidence (only its ratings are shown).
PREVIOUS: tuple[tuple[str | None, ...], ...] = (
    ("AR", "AG", "AR", "AG", "AR", "AR", "AR", "AG", "AG", "AG", "G", "AR", "AG", "G", "R", "R"),
    ("AR", "G", "R", "AG", "AR", "R", "AR", "G", "AG", "AG", "G", "AG", "AR", "G", "R", "AR"),
    ("AG", "AG", "AR", "G", "AG", "AR", "AG", "G", "AG", "AR", "G", "AR", "AG", "AG", "AR", "AR"),
    ("AG", "G", "AG", "AG", "AR", "AR", "R", "AG", "AR", "AG", "G", "AR", "AG", "G", "R", "AR"),
)


def _note(trustee: int, number: int) -> str:
    """Each note is written by one trustee, a different one for each element; many wrote none."""
    notes = NOTES[number]
    which = (trustee + number) % len(RATINGS)
    return notes[which] if which < len(notes) else ""


def responses(
    table: tuple[tuple[str | None, ...], ...] = RATINGS, evidence: bool = True
) -> list[Response]:
    """One response per row of `table`; in this year's round the last is unfinished."""
    out = []
    for i, row in enumerate(table):
        answers = {
            n: Answer(code, _note(i, n) if evidence else "", STAMP)
            for n, code in enumerate(row, start=1)
            if code
        }
        finished = table is PREVIOUS or i < len(table) - 1
        out.append(Response(f"aad-{i + 2:03d}", f"Trustee {i + 1}", answers, finished))
    return out


def board_summary() -> RoundSummary:
    """The closed anonymous round on all 16 elements, compared with last year's."""
    numbers = [e.number for e in GOVERNANCE.elements]
    settings = RoundSettings(attributed=False)
    before = summarise(GOVERNANCE, numbers, responses(PREVIOUS, False), 5, settings)
    return summarise(GOVERNANCE, numbers, responses(), 9, settings, before)


def trustee_answers(done: bool = False) -> Assessment:
    """A trustee's own self-assessment of the 16 elements: 14 rated, 2 left for later."""
    ratings = {n: codes[1] for n, codes in BY_ELEMENT.items() if n not in (11, 14)}
    notes = {n: NOTES[n][0] for n in ratings}
    return assessment(GOVERNANCE, ratings, notes, cursor=0, done=done)


def element_sample() -> dict[str, Any]:
    """A trustee answering a board round on four elements, on its second, already rated."""
    ratings: dict[int, str | None] = {2: "AG", 5: "AR"}
    notes = {2: NOTES[2][0], 5: NOTES[5][0] + " " + NOTES[5][2]}
    subject = in_round(
        assessment(GOVERNANCE, ratings, notes, cursor=5),
        elements=(2, 5, 7, 9),
        link=round_link(BOARD_NAME, "2026-12-05T23:59:59+00:00"),
    )
    element = GOVERNANCE.element(5)
    assert element is not None
    notice = Notice(
        "Saved 2. Culture, values and ethos: Amber Green.", "emphasis"
    )  # as rate() says it
    return element_card(GOVERNANCE, subject, element, MODE, notice).content


def round_sample() -> dict[str, Any]:
    """The clerk's card for the open round: nine trustees in every state."""
    the_board = _board()
    running = replace(
        open_round(the_board, message="Please answer before our December meeting."),
        remind_at="2026-12-03T09:00:00+00:00",
        reminders=1,
    )
    states = (
        (RESPONDED, 16, None),
        (RESPONDED, 16, None),
        (IN_PROGRESS, 9, None),
        (RESPONDED, 16, None),
        (NOT_STARTED, 0, None),
        (RESPONDED, 16, None),
        (IN_PROGRESS, 3, None),
        (UNREACHABLE, 0, "They have not added trustboard in Teams yet: ask them to."),
        (RESPONDED, 16, None),
    )
    progress = [
        Progress(m, state, rated, reason)
        for m, (state, rated, reason) in zip(the_board.trustees, states, strict=True)
    ]
    notice = Notice("Reminder sent to 3 trustees.")
    return round_card(the_board, running, GOVERNANCE, progress, MODE, notice).content


def plan_sample() -> dict[str, Any]:
    """The chair's plan after the round: two priorities planned, the rest still empty."""
    the_board = _board()
    summary = board_summary()
    drafts = {  # Risk management and Financial management
        5: Plan(
            "Full board to review the risk register each term; agree a risk appetite "
            "statement at the spring away day.",
            "Register reviewed three times; appetite statement published; cyber and capital "
            "risks owned by named trustees.",
        ),
        9: Plan(
            "Finance committee to agree Millbrook's recovery plan by February.",
            "Millbrook's in-year deficit halved.",
        ),
    }
    done = closed_round(the_board, plan=drafts, plan_version=3, attributed=False)
    return plan_card(the_board, done, summary, MODE, Notice("Draft saved.")).content


# -- a learning set: four trusts in four tenants, Oakfield (Trust A) the board looking -------------

SET_MEMBERS = (
    SetMember("tenant-oakfield", "19:oakfield", BOARD_NAME, "2026-11-02T09:00:00Z", "A"),
    SetMember("tenant-riverside", "19:riverside", "Riverside Academies", STAMP, "B"),
    SetMember("tenant-moorland", "19:moorland", "Moorland Schools Trust", STAMP, "C"),
    SetMember("tenant-harbour", "19:harbour", "Harbour Learning Partnership", STAMP, "D"),
)
# Each member's shared board ratings of elements 1, 5, 9, 15 and 16, the share before where
# there was one (Oakfield and Moorland shared twice), and its vote.
SHARED = {
    "A": ({1: "AR", 5: "AG", 9: "AR", 15: "AG", 16: "AR"}, {1: "R", 5: "AR", 16: "AR"}),
    "B": ({1: "G", 5: "AR", 9: "AG", 15: "AG", 16: "AR"}, {}),
    "C": ({1: "AG", 5: "AG", 9: "G", 15: "R", 16: "AG"}, {1: "AR", 5: "AG", 16: "G"}),
    "D": ({1: "AR", 5: "AR", 9: "R", 15: "AR", 16: "R"}, {}),
}
VOTES = {"A": (1, 5, 16), "B": (5, 16), "C": (1, 16), "D": (1, 5, 16)}


def learning_set() -> LearningSet:
    shares = {
        m.key: Share(
            SHARED[m.label][0],
            "2026-12-08T10:00:00Z",
            ROUND,
            "aaaaaaaaaaaa",
            "chair",
            previous=SHARED[m.label][1],
            previous_at="2026-11-10T10:00:00Z" if SHARED[m.label][1] else None,
        )
        for m in SET_MEMBERS
    }
    return LearningSet(
        id="0123456789abcdef",
        name="North West chairs",
        framework=GOVERNANCE.id,
        named=False,
        created="2026-11-01T09:00:00Z",
        facilitator=Person("tenant-cst", "fay", "Fay Morgan", "29:fay", "https://smba/"),
        code="KQ7M4XPD",
        members=SET_MEMBERS,
        shares=shares,
        votes={m.key: VOTES[m.label] for m in SET_MEMBERS},
        focus=(1, 5, 16),
        focus_by="vote",
    )


def _oakfield_chair() -> set_cards.Viewer:
    return set_cards.Viewer(False, SET_MEMBERS[0], CHAIR)


def set_sample() -> dict[str, Any]:
    """The set's card as Oakfield's chair sees it: members by label, the elements of mutual
    interest, the focus chosen by vote, and the board's vote."""
    s = learning_set()
    ranked = interests(GOVERNANCE, s)
    return set_cards.set_card(s, GOVERNANCE, _oakfield_chair(), ranked, MODE).content


def comparison_sample() -> dict[str, Any]:
    """The comparison in Oakfield's chair's chat, as the facilitator sent it."""
    s = learning_set()
    rows = comparison(GOVERNANCE, s)
    return set_cards.comparison_card(s, GOVERNANCE, _oakfield_chair(), rows, MODE).content


def self_peer_sample() -> dict[str, Any]:
    """Self versus peer: Harbour's chair reviewed Oakfield on the three focus elements."""
    reviewer = Person("tenant-harbour", "hana", "Hana Brooks", "29:hana", "https://smba/")
    review = Review(
        id="0123456789ab",
        framework=GOVERNANCE.id,
        version=GOVERNANCE.version,
        elements=(1, 5, 16),
        board=SET_MEMBERS[0],
        asked_by="richard",
        created="2026-12-08T10:00:00Z",
        deadline="2027-01-07T10:00:00Z",
        set_id="0123456789abcdef",
        reviewer=reviewer,
    )
    peer = {
        1: ("G", "The three-year strategy is owned by the whole board; trustees could each "
            "describe it at the away day."),
        5: ("R", "The risk register has not been to the full board this year, and no risk "
            "appetite has been agreed."),
        16: ("AR", ""),
    }  # fmt: skip
    own = {1: "AR", 5: "AG", 16: "AR"}
    rows = self_versus_peer(GOVERNANCE, review.elements, own, peer)
    source = "its round of 5 December 2026"
    return set_cards.self_peer_card(review, GOVERNANCE, rows, source, MODE).content


def _board() -> Board:
    """A clerk, a chair, eight trustees and the chief executive, who is not a trustee."""
    return board(
        [
            member(0, "Helen Whitfield", CLERK),
            member(1, "Richard Ashworth", CHAIR),
            *(member(i + 2, name) for i, name in enumerate(TRUSTEES)),
            member(10, "Siobhan Doyle", OTHER),
        ],
        name=BOARD_NAME,
    )


@dataclass(frozen=True)
class Picture:
    about: str  # what it shows, for docs/cards/README.md
    build: Callable[[], dict[str, Any]]
    press: str | None = None  # the title of a show-card button to open before drawing


PICTURES: dict[str, Picture] = {
    "element": Picture(
        "A trustee's element card in a board round: 5. Risk management, already rated Amber Red "
        "with evidence, just after saving the round's previous element.",
        element_sample,
    ),
    "review": Picture(
        "A trustee's review of their own self-assessment: 14 of 16 rated, the heat map with "
        "evidence excerpts, and the buttons to change an answer or finish.",
        lambda: review_card(GOVERNANCE, trustee_answers(), MODE).content,
    ),
    "results": Picture(
        "The trustee's heat map once finished, with their draft priorities table.",
        lambda: results_card(GOVERNANCE, trustee_answers(done=True), MODE, FINISHED).content,
    ),
    "summary": Picture(
        "The board's summary in the channel after an anonymous round on all 16 elements: "
        "response rate, heat map with the change since last year's round, and draft priorities "
        "with anonymous evidence.",
        lambda: (
            round_summary_card(
                board_summary(), BOARD_NAME, CLOSED_ON, MODE, PREVIOUS_CLOSED_ON
            ).content
        ),
    ),
    "round": Picture(
        "The clerk's card for an open round: counts, who is still to finish, and the remind, "
        "extend and close buttons.",
        round_sample,
    ),
    "round-close": Picture(
        "The same card with Close round pressed: the warning and the Close now button.",
        round_sample,
        press="Close round",
    ),
    "plan": Picture(
        "The chair's plan for the six draft priorities: key issues and the two boxes for each, "
        "two of them drafted.",
        plan_sample,
    ),
    "set": Picture(
        "A learning set's card as a member board's chair sees it (four trusts, names not shown): "
        "the members, the elements of mutual interest by count, the focus chosen by vote, and "
        "the board's vote.",
        set_sample,
    ),
    "comparison": Picture(
        "The set's comparison in a member chair's chat: each trust's board rating on the focus "
        "elements and its change since it last shared.",
        comparison_sample,
    ),
    "self-peer": Picture(
        "Self versus peer for the reviewed board's chair and clerks: the board's own rating "
        "beside the peer's, ⚑ two or more steps apart, the peer's evidence as key issues.",
        self_peer_sample,
    ),
}


def samples() -> dict[str, dict[str, Any]]:
    return {name: picture.build() for name, picture in PICTURES.items()}


def main(out: Path) -> None:
    """OUT_DIR/<name>.json for each picture, and <name>.press with the button to press first."""
    out.mkdir(parents=True, exist_ok=True)
    for name, picture in PICTURES.items():
        card = picture.build()
        (out / f"{name}.json").write_text(json.dumps(card, ensure_ascii=False, indent=1))
        if picture.press:
            (out / f"{name}.press").write_text(picture.press)
        print(name)


def index() -> str:
    """docs/cards/README.md: what each picture shows."""
    pinned = json.loads((Path(__file__).parent / "package.json").read_text())["dependencies"]
    rows = "\n".join(
        f"| {name} | [{name}.png]({name}.png) | [{name}-narrow.png]({name}-narrow.png) "
        f"| {picture.about} |"
        for name, picture in PICTURES.items()
    )
    return f"""# trustboard's cards, drawn by Microsoft's renderer

Pictures of the main cards, drawn by `scripts/card-pictures` with Microsoft's Adaptive Cards
renderer for JavaScript (npm `adaptivecards` {pinned["adaptivecards"]}) in headless Chromium, under
a Teams-like light host config (`scripts/cardrender/hostconfig.json`, Teams' type ramp and at
most 6 buttons to an action set). The cards are built by trustboard's own builders from
made-up sample data (`scripts/cardrender/cards.py`): Oakfield Learning Trust, nine trustees,
an anonymous round on all 16 elements of the trust governance framework; and a learning set of
four trusts (names not shown to members), Oakfield among them, with a peer review of Oakfield.

Each card is drawn 760 px wide, as a full-width card in a Teams chat on a laptop, and 360 px
wide (`-narrow`), as on a phone. Liberation Sans stands in for Segoe UI, so text widths differ
a little, and Teams' own clients differ in detail from Microsoft's JavaScript renderer: these
show what a card asks for, not Teams pixel for pixel. Run `scripts/card-pictures` to draw them
again; it also lists any text or button drawn cut short.

The renderer predates two things Teams reads on these cards, `targetWidth` and `layouts`
(the priorities are a `Layout.AreaGrid` from the "standard" width up, and stack below it), so
`scripts/cardrender/responsive.js` lays each card out as Teams would at that width before it is
drawn: 760 px counts as "standard", 360 px as "narrow" (Teams does not publish its breakpoints).

Each rating has one look in every view, set in `dialogs/cards/scheme.py`: its letters, one or two;
bold for Red and Amber Red, regular for Amber Green and Green; and a fill and letter colour from
Teams' own styles. `.venv/bin/python scripts/cardrender/cvd.py PICTURE.png` writes the picture as
seen with protanopia, deuteranopia and tritanopia, and `tests/cards/test_card_layout.py` reads
every rating cell back from the pictures and checks that no two ratings look alike in any of them.

| Card | Laptop | Phone | What it shows |
| --- | --- | --- | --- |
{rows}
"""


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--index":
        print(index(), end="")
    elif len(sys.argv) == 2:
        main(Path(sys.argv[1]))
    else:
        sys.exit("usage: cards.py OUT_DIR | cards.py --index DOCS_DIR")
