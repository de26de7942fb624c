"""The board's cards: what clerks, chairs and trustees read on them, which buttons they press,
what the server gets back, and that every card fits whatever people typed."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from dialogs.boards.cards import (
    MESSAGE_MAX,
    PEER_WEAKER,
    PLAN_MAX,
    PROGRESS_LINES,
    ROLES_PAGE,
    board_card,
    choose_framework_card,
    invitation_card,
    plan_card,
    published_card,
    roles_card,
    round_card,
    round_form_card,
    setup_card,
)
from dialogs.boards.model import (
    CHAIR,
    CLERK,
    IN_PROGRESS,
    NOT_STARTED,
    OTHER,
    RESPONDED,
    ROLES,
    TRUSTEE,
    UNREACHABLE,
    Member,
    Plan,
    Progress,
)
from dialogs.cards import MAX_CARD_BYTES, Notice, card_bytes
from dialogs.messages import Card
from dialogs.rounds import RoundSummary
from tests.boards.cardkit import (
    BOARD_ID,
    CHAIR_NAME,
    CLERK_NAME,
    EMOJI,
    GOVERNANCE,
    LONG_NAME,
    ROUND_ID,
    STRONG_TRUSTS,
    TODAY,
    TRUSTEE_NAMES,
    board,
    buttons,
    closed_round,
    data,
    inputs,
    member,
    numbered_board,
    open_round,
    plans,
    role_rows,
    round_summary,
    said,
    table_rows,
    texts,
)
from tests.cards.kit import FRAMEWORKS, HOSTILE, LONG_NOTICE, MODES
from tests.cards.validate import assert_valid, utf16_length
from tests.dialogs.cardkit import priority_grid, walk

EMOJI_PLAN = EMOJI * (PLAN_MAX // 2)  # PLAN_MAX UTF-16 units, 12 wire bytes each pair
HOSTILE_NOTES = dict(enumerate(HOSTILE.values()))


def mixed_progress() -> list[Progress]:
    """Seven trustees: three responded, two in progress, one not started, one unreachable."""
    the_board = board()
    states = [RESPONDED, IN_PROGRESS, NOT_STARTED, UNREACHABLE, RESPONDED, IN_PROGRESS, RESPONDED]
    rated = [16, 5, 0, 0, 16, 9, 16]
    reasons = {UNREACHABLE: "They have not added trustboard in Teams yet: ask them to."}
    return [
        Progress(m, state, n, reasons.get(state))
        for m, state, n in zip(the_board.trustees, states, rated, strict=True)
    ]


def every_card(mode: str, name: str | None = None, note: str = "Out of date.") -> dict[str, Card]:
    """Every card, for a board and members all called `name` when given, evidence `note`."""
    the_board = board()
    if name is not None:
        people = [replace(m, name=f"{name}{i}") for i, m in enumerate(the_board.members)]
        the_board = board(people, name=name)
    summary = round_summary(note)
    running = open_round(the_board, message=f"Thank you all.\n{note}")
    done = closed_round(the_board, plan=plans(summary, "Review the register.", "A new one."))
    notice = Notice("Saved.")
    progress = [
        replace(p, member=m) for p, m in zip(mixed_progress(), the_board.trustees, strict=True)
    ]
    return {
        "setup": setup_card(the_board.name, BOARD_ID, mode, notice),
        "board, open round": board_card(the_board, running, FRAMEWORKS, mode, notice),
        "board, no round": board_card(the_board, None, FRAMEWORKS, mode),
        "roles": roles_card(numbered_board(57), 1, mode, notice),
        "roles, nobody": roles_card(board([]), 0, mode),
        "frameworks": choose_framework_card(the_board, list(FRAMEWORKS.values()), mode, notice),
        "form": round_form_card(the_board, GOVERNANCE, mode, today=TODAY, notice=notice),
        "round, open": round_card(the_board, running, GOVERNANCE, progress, mode, notice),
        "round, closed": round_card(the_board, done, GOVERNANCE, progress, mode, followup=(5, 16)),
        "invitation": invitation_card(the_board, running, GOVERNANCE, mode),
        "reminder": invitation_card(the_board, running, GOVERNANCE, mode, reminder=True),
        "plan": plan_card(the_board, done, summary, mode, notice),
        "plan, nothing": plan_card(the_board, done, round_summary(codes="G"), mode),
        "published": published_card(the_board, done, summary, TODAY),
    }


# -- every card ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_every_card_is_a_valid_adaptive_card_in_both_modes(mode: str) -> None:
    built = every_card(mode)
    for name, card in built.items():
        assert_valid(card.content)
        assert card.summary and "\n" not in card.summary, name
        kinds = {n.get("type") for n in walk(card.content)}
        if mode == "submit":
            assert "Action.Execute" not in kinds, name
    # The builders given a notice show it first, as the walkthrough cards do.
    for name in ("setup", "board, open round", "roles", "frameworks", "form", "round, open"):
        first = built[name].content["body"][0]
        assert first["type"] == "Container" and first["style"] == "good", name
        assert first["items"][0]["inlines"][0]["text"] == "Saved."


@pytest.mark.parametrize("kind", [*HOSTILE, "long emoji"])
def test_every_card_fits_and_stays_valid_whatever_people_are_called(kind: str) -> None:
    name = LONG_NAME if kind == "long emoji" else HOSTILE[kind]
    for title, card in every_card("execute", name=name, note=name).items():
        assert_valid(card.content)
        assert card_bytes(card.content) < MAX_CARD_BYTES, title
        # Nothing anyone typed can add a button: each card has exactly the buttons it should.
        assert all(n.get("type") != "Action.OpenUrl" for n in walk(card.content)), title


def test_the_limits_are_exported() -> None:
    assert (MESSAGE_MAX, PLAN_MAX, ROLES_PAGE, PROGRESS_LINES) == (1000, 500, 20, 60)


# -- set-up and the board card ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_setup_card_says_who_trustboard_is_and_who_becomes_clerk(mode: str) -> None:
    card = setup_card("Oakfield Learning Trust", BOARD_ID, mode)
    text = said(card)
    assert "Confederation of School Trusts" in text
    assert "privately, in their own chat with me" in text
    assert "heat map" in text and "priorities for improvement" in text
    assert "Whoever sets up the board becomes its clerk" in text
    assert list(buttons(card)) == ["Set up this board"]
    assert data(card, "Set up this board") == {"verb": "board.setup", "b": BOARD_ID}


def test_board_card_with_an_open_round_shows_it_and_how_trustees_answer() -> None:
    the_board = board()
    running = open_round(the_board, elements=(2, 5, 7, 9))
    card = board_card(the_board, running, FRAMEWORKS, "execute")
    shown = texts(card)
    assert shown[0] == "Oakfield Learning Trust"
    assert f"Clerk: {CLERK_NAME}" in shown
    assert f"Chair: {CHAIR_NAME}" in shown
    assert "7 trustees (the chair included) and 2 other members" in shown
    assert f"Round open: {GOVERNANCE.title}" in shown
    assert "4 of 16 elements: 2, 5, 7, 9" in shown
    assert "Answers due by the end of 5 December 2026 (UK time)" in shown
    assert "Trustees: look for my message in your chat with trustboard." in shown
    assert "Only clerks can change roles or run rounds." in shown
    assert list(buttons(card)) == [
        "Manage roles",
        "Round progress",
        "Refresh members",
        "Board data",
    ]
    assert data(card, "Manage roles") == {"verb": "roles.show", "b": BOARD_ID, "page": 0}
    assert data(card, "Round progress") == {"verb": "round.status", "b": BOARD_ID, "r": ROUND_ID}
    assert data(card, "Refresh members") == {"verb": "board.refresh", "b": BOARD_ID}


def test_board_card_without_a_round_or_chair_offers_to_open_one() -> None:
    the_board = board(
        [member(0, CLERK_NAME, CLERK), member(1, "Jo Bloggs"), member(2, "Al", CLERK)]
    )
    card = board_card(the_board, None, FRAMEWORKS, "submit")
    shown = texts(card)
    assert "Chair: not chosen yet" in shown
    assert f"Clerks: Al, {CLERK_NAME}" in shown
    assert "1 trustee and 2 other members" in shown
    assert not any(t.startswith("Round open") for t in shown)
    assert list(buttons(card)) == ["Manage roles", "Open a round", "Refresh members", "Board data"]
    assert data(card, "Open a round") == {"verb": "round.new", "b": BOARD_ID}


def test_each_role_sees_its_own_buttons_on_the_board_card() -> None:
    """Posted in the channel the card is everyone's, without a clerk's buttons; Teams refreshes
    it for the clerks and the chair (refresh.userIds), each getting their role's buttons."""
    the_board = board()
    running = open_round(the_board)
    clerk_ids = [m.teams_id for m in the_board.clerks]
    chair = the_board.chair
    assert chair is not None
    everyone = board_card(
        the_board, running, FRAMEWORKS, "execute", view=TRUSTEE, refresh_ids=clerk_ids
    )
    assert list(buttons(everyone)) == ["My options"]  # where Teams does not refresh the card
    assert data(everyone, "My options") == {"verb": "board.show", "b": BOARD_ID}
    refresh = everyone.content["refresh"]
    assert refresh["userIds"] == clerk_ids
    assert refresh["action"]["verb"] == "board.show"
    assert refresh["action"]["data"] == {"verb": "board.show", "b": BOARD_ID}
    chairs = board_card(the_board, running, FRAMEWORKS, "execute", view=CHAIR)
    assert list(buttons(chairs)) == ["Round progress"]
    clerks = board_card(the_board, running, FRAMEWORKS, "execute", view=CLERK)
    assert "Manage roles" in buttons(clerks) and "Board data" in buttons(clerks)
    # A host without Universal Actions gets no refresh to act on.
    assert (
        "refresh"
        not in board_card(
            the_board, running, FRAMEWORKS, "submit", view=TRUSTEE, refresh_ids=clerk_ids
        ).content
    )


def test_the_chair_follows_a_round_without_the_clerks_buttons() -> None:
    the_board = board()
    running = open_round(the_board)
    card = round_card(the_board, running, GOVERNANCE, mixed_progress(), "execute", can_run=False)
    assert list(buttons(card)) == ["Refresh"]
    assert "Responded 3" in said(card)


def test_the_round_form_starts_a_learning_set_from_none_or_the_last_priorities() -> None:
    """Three elements need no thirteen unticks: the form can start from none ticked, or from
    the priorities of the board's last round on the framework."""
    the_board = board()
    card = round_form_card(the_board, GOVERNANCE, "execute", today=TODAY, last_priorities=(2, 5, 9))
    found = buttons(card)
    assert "Tick all" not in found
    assert data(card, "Untick all") == {
        "verb": "round.form",
        "b": BOARD_ID,
        "fw": GOVERNANCE.id,
        "els": [],
    }
    assert data(card, "Last round's priorities (3)") == {
        "verb": "round.form",
        "b": BOARD_ID,
        "fw": GOVERNANCE.id,
        "els": [2, 5, 9],
    }
    blank = round_form_card(the_board, GOVERNANCE, "execute", today=TODAY, elements=())
    assert inputs(blank)["elements"]["value"] == ""
    assert "Untick all" not in buttons(blank) and "Tick all" in buttons(blank)
    assert "Last round's priorities" not in " ".join(buttons(blank))  # none: no last round
    chosen = round_form_card(
        the_board, GOVERNANCE, "execute", today=TODAY, elements=(2, 5, 9), last_priorities=(2, 5, 9)
    )
    assert inputs(chosen)["elements"]["value"] == "2,5,9"
    assert "Last round's priorities (3)" not in buttons(chosen)  # already what is ticked


# -- roles --------------------------------------------------------------------------------------


def test_roles_are_paged_twenty_at_a_time_sorted_by_name() -> None:
    the_board = numbered_board(57)
    first, second, third = (roles_card(the_board, page, "execute") for page in range(3))
    assert "Members 1–20 of 57" in texts(first)
    assert "Members 21–40 of 57" in texts(second)
    assert "Members 41–57 of 57" in texts(third)
    rows = role_rows(second)
    assert [name for name, _, _ in rows] == [f"Member {i:03d}" for i in range(21, 41)]
    assert [id_ for _, id_, _ in rows] == [f"role.{i}" for i in range(20)]
    assert len(role_rows(third)) == 17
    # The keys the server pairs with role.<i> are those of the rows, in order.
    keys = data(second, "Save roles")["keys"]
    by_key = {m.key: m.name for m in the_board.members}
    assert [by_key[k] for k in keys] == [name for name, _, _ in rows]
    assert data(second, "Save roles") == {
        "verb": "roles.save",
        "b": BOARD_ID,
        "page": 1,
        "keys": keys,
    }
    assert list(buttons(first)) == ["Save roles", "Next", "Back to the board"]
    assert list(buttons(second)) == ["Save roles", "Previous", "Next", "Back to the board"]
    assert list(buttons(third)) == ["Save roles", "Previous", "Back to the board"]
    assert data(second, "Previous") == {"verb": "roles.show", "b": BOARD_ID, "page": 0}
    assert data(second, "Next") == {"verb": "roles.show", "b": BOARD_ID, "page": 2}
    assert data(third, "Back to the board") == {"verb": "board.show", "b": BOARD_ID}


def test_each_role_is_a_compact_choice_of_the_four_set_to_the_current_one() -> None:
    card = roles_card(board(), 0, "execute")
    rows = role_rows(card)
    assert rows[0] == (CHAIR_NAME, "role.0", CHAIR)
    assert ("Olwen Observer", "role.6", OTHER) in rows
    assert ("Philippa Clerkwell", "role.8", CLERK) in rows
    choice = inputs(card)["role.0"]
    assert choice["type"] == "Input.ChoiceSet" and choice["style"] == "compact"
    assert [(c["title"], c["value"]) for c in choice["choices"]] == [
        ("Clerk", CLERK),
        ("Chair", CHAIR),
        ("Trustee", TRUSTEE),
        ("Not a trustee", OTHER),
    ]
    explained = said(card)
    for part in ("Clerks run rounds and manage roles", "The chair receives the summary"):
        assert part in explained
    assert "executives and observers: they are not invited" in explained


def test_a_roles_page_past_the_end_shows_the_last_one() -> None:
    card = roles_card(numbered_board(25), 7, "execute")
    assert "Members 21–25 of 25" in texts(card)
    assert data(card, "Save roles")["page"] == 1
    assert "Next" not in buttons(card)


def test_roles_card_fits_with_twenty_long_emoji_names() -> None:
    members = [member(i, LONG_NAME + f" {i}", CLERK if i == 0 else TRUSTEE) for i in range(57)]
    for page in range(3):
        card = roles_card(board(members, name=LONG_NAME), page, "execute")
        assert_valid(card.content)
    assert len(role_rows(card)) == 17


# -- opening a round ----------------------------------------------------------------------------


def test_choosing_a_framework_lists_each_with_a_choose_button() -> None:
    frameworks = [GOVERNANCE, STRONG_TRUSTS]
    card = choose_framework_card(board(), frameworks, "execute")
    shown = texts(card)
    assert shown[0] == "Open a round: choose a framework"
    assert GOVERNANCE.title in shown and STRONG_TRUSTS.title in shown
    assert "16 elements · Confederation of School Trusts" in shown
    assert "14 elements · Confederation of School Trusts, September 2023" in shown
    chooses = [n["data"] for n in walk(card.content["body"]) if n.get("type") == "Action.Execute"]
    assert {"verb": "round.form", "b": BOARD_ID, "fw": GOVERNANCE.id} in chooses
    assert {"verb": "round.form", "b": BOARD_ID, "fw": STRONG_TRUSTS.id} in chooses
    # A screen reader reads each title on its own: each names its framework.
    titles = [n["title"] for n in walk(card.content["body"]) if n.get("type") == "Action.Execute"]
    assert titles[:2] == ["Choose Trust governance", "Choose Building strong trusts"]


def test_round_form_defaults_to_every_element_a_fortnight_and_anonymity() -> None:
    card = round_form_card(board(), GOVERNANCE, "execute", today=TODAY)
    fields = inputs(card)
    assert set(fields) == {"elements", "deadline", "visibility", "min", "message", "issues"}
    # Key issues go to the board's members with a role unless the clerk chooses the whole team.
    assert fields["issues"]["value"] == "board"
    assert [c["value"] for c in fields["issues"]["choices"]] == ["board", "team"]
    elements = fields["elements"]
    assert elements["isMultiSelect"] is True and elements["style"] == "expanded"
    assert elements["value"] == ",".join(str(n) for n in range(1, 17))
    assert elements["choices"][4] == {"title": "5. Risk management", "value": "5"}
    assert fields["deadline"] == {
        "type": "Input.Date",
        "id": "deadline",
        "spacing": "Medium",
        "label": "Deadline",
        "min": TODAY,
        "value": "2026-12-05",
    }
    assert fields["visibility"]["value"] == "anonymous"
    assert [c["title"] for c in fields["visibility"]["choices"]] == [
        "Anonymous: the chair sees evidence without names",
        "Attributed: the chair and clerks see who wrote what",
    ]
    assert [c["value"] for c in fields["visibility"]["choices"]] == ["anonymous", "attributed"]
    least = fields["min"]
    assert (least["type"], least["min"], least["max"], least["value"]) == ("Input.Number", 1, 20, 3)
    assert least["label"] == "Fewest responses before an element's breakdown is shown"
    message = fields["message"]
    assert message["isMultiline"] is True and message["maxLength"] == MESSAGE_MAX
    text = said(card)
    assert "A learning set works on three or four elements" in text
    assert "end of that day (UK time)" in text and "one automatic reminder" in text
    assert list(buttons(card)) == ["Untick all", "Open the round", "Back"]
    assert buttons(card)["Open the round"]["style"] == "positive"
    assert data(card, "Open the round") == {
        "verb": "round.open",
        "b": BOARD_ID,
        "fw": GOVERNANCE.id,
    }
    assert data(card, "Back") == {"verb": "round.new", "b": BOARD_ID}


def test_round_form_shows_what_the_clerk_chose_before() -> None:
    card = round_form_card(
        board(),
        GOVERNANCE,
        "submit",
        today=TODAY,
        elements=(9, 2, 5),
        deadline="2027-01-10",
        attributed=True,
        min_responses=4,
        message="Hello",
    )
    fields = inputs(card)
    assert fields["elements"]["value"] == "2,5,9"
    assert fields["deadline"]["value"] == "2027-01-10"
    assert fields["visibility"]["value"] == "attributed"
    assert fields["min"]["value"] == 4
    assert fields["message"]["value"] == "Hello"


def test_a_message_over_the_limit_comes_back_whole_without_a_max_length() -> None:
    message = "é" * (MESSAGE_MAX + 1)
    card = round_form_card(board(), GOVERNANCE, "execute", today=TODAY, message=message)
    box = inputs(card)["message"]
    assert box["value"] == message and "maxLength" not in box
    assert_valid(card.content)


def test_a_message_far_too_long_for_any_card_still_gives_a_card_that_says_so() -> None:
    message = EMOJI * 20_000
    card = round_form_card(
        board(name=LONG_NAME), GOVERNANCE, "execute", today=TODAY, message=message
    )
    assert_valid(card.content)
    assert message.startswith(inputs(card)["message"]["value"].rstrip("…"))
    assert "too long to show here whole" in texts(card)[0]


# -- the clerk's round card ---------------------------------------------------------------------


def test_round_card_counts_and_lists_trustees_needing_attention_first() -> None:
    the_board = board()
    card = round_card(the_board, open_round(the_board), GOVERNANCE, mixed_progress(), "execute")
    shown = texts(card)
    assert shown[0] == f"Round: {GOVERNANCE.title}"
    assert shown[1] == "Oakfield Learning Trust"
    assert "Open: answers due by the end of 5 December 2026 (UK time)." in shown
    assert "All 16 elements." in shown
    assert any(t.startswith("Anonymous: the chair sees evidence without names.") for t in shown)
    assert any("at least 3 trustees have rated it" in t for t in shown)
    assert "Responded 3 · In progress 2 · Not started 1 · Unreachable 1 of 7 trustees" in shown
    start = shown.index("Still to finish (4)")
    assert shown[start : start + 9] == [
        "Still to finish (4)",
        "Cressida Mulholland — Unreachable: They have not added trustboard in Teams yet: ask "
        "them to.",
        "Barnaby Voss — Not started",
        "Euphemia Strand — In progress (9 of 16 rated)",
        "Ottoline Quarrie — In progress (5 of 16 rated)",
        "Responded (3)",
        f"{CHAIR_NAME} — Responded",
        "Dorian Fairweather — Responded",
        "Fergus Oyelaran — Responded",
    ]


def test_open_round_card_buttons_remind_extend_close_refresh() -> None:
    the_board = board()
    running = open_round(the_board, reminders=2)
    card = round_card(the_board, running, GOVERNANCE, mixed_progress(), "execute")
    found = buttons(card)
    assert list(found) == [
        "Send a reminder (3)",
        "Refresh",
        "New deadline",
        "Extend",
        "Close round",
        "Close now",
    ]
    body = card.content["body"]
    rows = [[a["title"] for a in n["actions"]] for n in body if n["type"] == "ActionSet"]
    assert rows == [["Send a reminder (3)", "Refresh"], ["New deadline", "Close round"]]
    ids = {"b": BOARD_ID, "r": ROUND_ID}
    assert data(card, "Send a reminder (3)") == {
        "verb": "round.remind",
        "sent": 2,
        **ids,
    }
    extend = found["New deadline"]
    assert extend["type"] == "Action.ShowCard"
    (date_box,) = [n for n in walk(extend["card"]) if n.get("type") == "Input.Date"]
    assert (date_box["id"], date_box["min"]) == ("deadline", "2026-12-05")
    assert data(card, "Extend") == {"verb": "round.extend", **ids}
    close = found["Close round"]
    assert close["type"] == "Action.ShowCard"
    assert "summary to the board's channel and to the chair" in said(Card(close["card"], "close"))
    assert "can no longer change their answers" in said(Card(close["card"], "close"))
    assert found["Close now"]["style"] == "destructive"
    assert data(card, "Close now") == {"verb": "round.close", **ids}
    assert data(card, "Refresh") == {"verb": "round.status", **ids}
    assert "Reminders sent by a clerk so far: 2." in texts(card)


def test_the_close_confirmation_says_who_has_not_finished() -> None:
    the_board = board()
    progress = mixed_progress()
    card = round_card(the_board, open_round(the_board), GOVERNANCE, progress, "execute")
    close = said(Card(buttons(card)["Close round"]["card"], "close"))
    waiting = [p for p in progress if p.state != RESPONDED]
    names = [p.member.name for p in waiting]
    expected = (
        f"Not finished: {names[0]} (5 of 16 rated), {names[1]} (not started), {names[2]} "
        f"(unreachable) and {names[3]} (9 of 16 rated). Their answers so far count; they can "
        "add nothing once it closes."
    )
    assert expected in close
    everyone = [replace(p, state=RESPONDED, rated=16) for p in progress]
    done = round_card(the_board, open_round(the_board), GOVERNANCE, everyone, "execute")
    assert "Every trustee has finished." in said(Card(buttons(done)["Close round"]["card"], "c"))


def test_no_reminder_button_when_everyone_reachable_has_finished() -> None:
    the_board = board()
    progress = [Progress(m, RESPONDED, 16) for m in the_board.trustees]
    progress[0] = Progress(progress[0].member, UNREACHABLE, reason="Teams said no.")
    card = round_card(the_board, open_round(the_board), GOVERNANCE, progress, "execute")
    assert not any(title.startswith("Remind") for title in buttons(card))
    assert "Refresh" in buttons(card)


def test_a_round_on_some_elements_counts_ratings_out_of_those() -> None:
    the_board = board()
    running = open_round(the_board, elements=(2, 5, 7, 9))
    progress = [Progress(m, IN_PROGRESS, 3) for m in the_board.trustees[:1]]
    card = round_card(the_board, running, GOVERNANCE, progress, "execute")
    assert "4 of 16 elements: 2, 5, 7, 9." in texts(card)
    assert f"{CHAIR_NAME} — In progress (3 of 4 rated)" in texts(card)


def test_closed_round_card_points_to_the_summary_and_a_follow_up() -> None:
    the_board = board()
    done = closed_round(the_board, closed_by="deadline")
    card = round_card(the_board, done, GOVERNANCE, mixed_progress(), "execute", followup=(5, 16))
    shown = texts(card)
    assert "Closed on 5 December 2026, at the deadline." in shown
    assert "The summary is in the board's channel and with the chair." in shown
    assert "Did not finish (4)" in shown
    assert list(buttons(card)) == ["Show the summary", "Open a follow-up round on the 2 priorities"]
    assert data(card, "Show the summary") == {"verb": "summary.show", "b": BOARD_ID, "r": ROUND_ID}
    assert data(card, "Open a follow-up round on the 2 priorities") == {
        "verb": "round.form",
        "b": BOARD_ID,
        "fw": GOVERNANCE.id,
        "els": [5, 16],
    }
    assert "deadline" not in inputs(card)


def test_closed_by_a_clerk_without_priorities_offers_only_the_summary() -> None:
    the_board = board()
    done = closed_round(the_board, closed_by=the_board.clerks[0].key)
    card = round_card(the_board, done, GOVERNANCE, mixed_progress(), "submit")
    assert "Closed on 5 December 2026." in texts(card)
    assert list(buttons(card)) == ["Show the summary"]


def test_round_card_lists_sixty_trustees_then_says_how_many_more() -> None:
    members = [member(i, f"Trustee {i:03d}") for i in range(75)]
    the_board = board([member(99, CLERK_NAME, CLERK), *members])
    progress = [Progress(m, NOT_STARTED) for m in members[:10]]
    progress += [Progress(m, RESPONDED, 16) for m in members[10:]]
    card = round_card(the_board, open_round(the_board), GOVERNANCE, progress, "execute")
    lines = [t for t in texts(card) if " — " in t]
    assert len(lines) == PROGRESS_LINES
    assert lines[:10] == [f"Trustee {i:03d} — Not started" for i in range(10)]
    assert "and 15 more" in texts(card)
    assert "Responded (65)" in texts(card)


def test_round_card_fits_with_long_names_and_long_reasons() -> None:
    members = [member(i, LONG_NAME) for i in range(80)]
    the_board = board([member(99, LONG_NAME, CLERK), *members], name=LONG_NAME)
    progress = [Progress(m, UNREACHABLE, reason=HOSTILE["json breaker"] * 5) for m in members]
    card = round_card(the_board, open_round(the_board), GOVERNANCE, progress, "execute")
    assert_valid(card.content)
    assert card_bytes(card.content) < MAX_CARD_BYTES
    assert len([t for t in texts(card) if " — Unreachable: " in t]) == PROGRESS_LINES


# -- the trustee's invitation -------------------------------------------------------------------


def test_anonymous_invitation_says_names_are_not_shown_and_the_minimum() -> None:
    the_board = board()
    running = open_round(the_board, min_responses=4, message="Please be candid.")
    card = invitation_card(the_board, running, GOVERNANCE, "execute")
    shown = texts(card)
    assert shown[0] == "Oakfield Learning Trust has opened a self-assessment round"
    assert GOVERNANCE.title in shown
    assert "All 16 elements of the framework." in shown
    assert "Please answer by the end of 5 December 2026 (UK time)." in shown
    assert f"A message from {CLERK_NAME}:" in shown
    assert "Please be candid." in shown
    assert (
        "Your evidence, without your name, is "
        "quoted to the board's trustees, chair and clerks and in the board paper; others in the "
        "team (members who are not trustees) do not see it. No breakdown or evidence is shown "
        "for an element until at least 4 trustees have rated it." in shown
    )
    assert "Your answers are saved as you go; you can change them until the round closes." in shown
    assert not any("your name beside your evidence" in t for t in shown)
    assert list(buttons(card)) == ["Start"]
    assert buttons(card)["Start"]["style"] == "positive"
    assert data(card, "Start") == {"verb": "start", "b": BOARD_ID, "r": ROUND_ID}


def test_attributed_invitation_says_names_are_seen_by_the_chair_only() -> None:
    the_board = board()
    running = open_round(the_board, attributed=True, elements=(2, 5))
    card = invitation_card(the_board, running, GOVERNANCE, "submit")
    shown = texts(card)
    assert (
        "The chair and clerks will see your name beside your evidence. Your evidence, without "
        "your name, is quoted to the board's trustees, chair and clerks and in the board paper; "
        "others in the team (members who are not trustees) do not see it. No breakdown or "
        "evidence is shown for an element until at least 3 trustees have rated it." in shown
    )
    assert not any(t.startswith("Your evidence, without your name") for t in shown)
    assert "2 of the framework's 16 elements:" in shown
    assert "2. Culture, values and ethos" in shown and "5. Risk management" in shown
    assert not any(t.startswith("A message from") for t in shown)  # no message, no box


def test_a_reminder_leads_with_the_closing_date() -> None:
    the_board = board()
    card = invitation_card(the_board, open_round(the_board), GOVERNANCE, "execute", reminder=True)
    shown = texts(card)
    assert shown[0] == "A reminder: the board's self-assessment closes on 5 December 2026"
    assert "Oakfield Learning Trust has opened a self-assessment round" not in shown
    assert card.summary.startswith("A reminder:")
    first = invitation_card(the_board, open_round(the_board), GOVERNANCE, "execute")
    assert card.summary != first.summary


def test_a_reminder_to_someone_halfway_says_how_far_they_are() -> None:
    """Not a fresh invitation: "3 of 16 rated: carry on", and a button that says so."""
    the_board = board()
    running = open_round(the_board)
    card = invitation_card(the_board, running, GOVERNANCE, "execute", reminder=True, rated=3)
    shown = texts(card)
    total = len(running.elements)
    assert shown[2] == f"3 of {total} rated: carry on where you left off."
    assert card.summary.endswith(f" 3 of {total} rated: carry on where you left off.")
    assert list(buttons(card)) == ["Carry on"]
    assert data(card, "Carry on") == {"verb": "start", "b": BOARD_ID, "r": ROUND_ID}
    fresh = invitation_card(the_board, running, GOVERNANCE, "execute", reminder=True, rated=0)
    assert list(buttons(fresh)) == ["Start"]
    assert not any("carry on" in t for t in texts(fresh))


def test_the_clerks_message_stays_plain_text_and_the_invitation_fits() -> None:
    the_board = board(name=LONG_NAME)
    for message in (*HOSTILE.values(), EMOJI * (MESSAGE_MAX // 2), EMOJI * 30_000):
        running = open_round(the_board, message=message)
        card = invitation_card(the_board, running, GOVERNANCE, "execute")
        assert_valid(card.content)
        assert not [n for n in walk(card.content) if n.get("type") == "TextBlock"]
    hostile = open_round(the_board, message=HOSTILE["json breaker"])
    card = invitation_card(the_board, hostile, GOVERNANCE, "execute")
    assert HOSTILE["json breaker"] in texts(card)
    assert list(buttons(card)) == ["Start"]


# -- the chair's plan ---------------------------------------------------------------------------


def test_plan_card_has_two_boxes_per_priority_filled_from_the_saved_plan() -> None:
    the_board = board()
    summary = round_summary("The register is out of date.", codes="R AR AG G")
    saved = {5: Plan("Review the risk register termly.", "A register we trust.")}
    done = closed_round(the_board, plan=saved, plan_version=7, published="2026-12-09T10:00:00Z")
    card = plan_card(the_board, done, summary, "execute")
    numbers = [p.summary.element.number for p in summary.priorities]
    assert numbers == list(range(1, 17))
    fields = inputs(card)
    assert set(fields) == {f"{kind}.{n}" for n in numbers for kind in ("actions", "progress")}
    assert fields["actions.5"]["value"] == "Review the risk register termly."
    assert fields["progress.5"]["value"] == "A register we trust."
    assert fields["actions.6"]["value"] == ""
    for box in fields.values():
        assert box["type"] == "Input.Text" and box["isMultiline"] is True
        assert box["maxLength"] == PLAN_MAX
    assert fields["actions.1"]["label"] == "What the board will do"
    assert fields["progress.1"]["label"] == "Progress wanted in 12 months"
    assert "Last published to the channel on 9 December 2026." in texts(card)
    assert list(buttons(card)) == ["Save draft", "Publish to the channel"]
    ids = {"b": BOARD_ID, "r": ROUND_ID, "v": 7}
    assert data(card, "Save draft") == {"verb": "plan.save", **ids}
    assert data(card, "Publish to the channel") == {"verb": "plan.publish", **ids}
    assert buttons(card)["Publish to the channel"]["style"] == "positive"


def test_plan_card_shows_focus_areas_by_board_rating_and_key_issues_with_names() -> None:
    the_board = board()
    notes = {0: "Risks are not reviewed.", 1: "We lack a risk appetite.", 2: "Fine."}
    summary = round_summary(notes, attributed=True, codes="R R AG")
    card = plan_card(the_board, closed_round(the_board), summary, "execute")
    focus = [
        n
        for n in walk(card.content["body"])
        if n.get("type") == "Container" and n.get("style") in ("attention", "warning", "good")
    ]
    assert focus[4]["style"] == "attention"
    assert focus[4]["items"][0]["text"] == "Risk management (Red; views differ)"
    shown = texts(card)
    assert f"{TRUSTEE_NAMES[0]}: Risks are not reviewed." in shown
    assert f"{TRUSTEE_NAMES[1]}: We lack a risk appetite." in shown
    anonymous = plan_card(
        the_board, closed_round(the_board), round_summary(notes, False, "R R AG"), "execute"
    )
    assert "Risks are not reviewed." in texts(anonymous)
    assert not any(name in said(anonymous) for name in TRUSTEE_NAMES)


def test_plan_card_marks_a_priority_a_peer_rated_two_steps_weaker_and_names_the_seeds() -> None:
    the_board = board()
    done = closed_round(the_board)
    summary = round_summary(codes="R AR AG")  # every element a priority
    card = plan_card(the_board, done, summary, "execute", peer_weaker=frozenset({5}))
    focus = [
        n
        for n in walk(card.content["body"])
        if n.get("type") == "Container" and n.get("separator") is True
    ]
    marked = [box for box in focus if PEER_WEAKER in json.dumps(box, ensure_ascii=False)]
    assert len(marked) == 1 and "Risk management" in json.dumps(marked[0])
    assert texts(card).count(PEER_WEAKER) == 1
    assert not any("not among the priorities" in t for t in texts(card))
    # An element the peer rated weaker that is no priority is named, as a seed.
    calm = round_summary(codes="G G AG")  # nothing to plan
    card = plan_card(
        the_board, closed_round(the_board), calm, "execute", peer_weaker=frozenset({15, 5})
    )
    assert (
        "A peer review rated these two or more steps weaker than the board did, and they are "
        "not among the priorities: 5. Risk management; 15. Self-review. The board may want to "
        "add them (the board paper has the peer's evidence)." in texts(card)
    )
    assert PEER_WEAKER not in texts(card)
    plain = plan_card(the_board, done, summary, "execute")
    assert not [t for t in texts(plain) if "peer" in t.lower()]


def test_a_saved_plan_over_the_limit_comes_back_whole_without_a_max_length() -> None:
    the_board = board()
    summary = round_summary(codes="R")
    long = "x" * (PLAN_MAX + 20)
    done = closed_round(the_board, plan={3: Plan(long, "short")})
    fields = inputs(plan_card(the_board, done, summary, "execute"))
    assert fields["actions.3"]["value"] == long and "maxLength" not in fields["actions.3"]
    assert fields["progress.3"]["maxLength"] == PLAN_MAX


def test_a_saved_plan_bigger_than_any_card_shows_its_beginning_and_says_so() -> None:
    the_board = board()
    summary = round_summary(codes="R")
    huge = EMOJI * 20_000  # the server refuses this; a card must still come back
    done = closed_round(the_board, plan={1: Plan(huge, huge)})
    card = plan_card(the_board, done, summary, "execute")
    assert_valid(card.content)
    assert "too long to show here whole" in texts(card)[0]
    box = inputs(card)["actions.1"]
    assert huge.startswith(box["value"].rstrip("…")) and len(box["value"]) > 100
    assert "maxLength" not in box


def test_with_no_priorities_the_plan_card_says_so_kindly_and_asks_nothing() -> None:
    the_board = board()
    card = plan_card(the_board, closed_round(the_board), round_summary(codes="G AG"), "execute")
    assert inputs(card) == {}
    assert buttons(card) == {}
    assert any(t.startswith("There is nothing to plan this time") for t in texts(card))


def hostile_summary(attributed: bool = True) -> RoundSummary:
    """Sixteen priorities, each with a note of every kind of hostile evidence."""
    return round_summary(HOSTILE_NOTES, attributed, codes="R AR", trustees=len(HOSTILE_NOTES))


@pytest.mark.parametrize("mode", MODES)
def test_sixteen_emoji_plans_spread_over_pages_and_none_is_cut(mode: str) -> None:
    the_board = board(name=LONG_NAME)
    summary = hostile_summary()
    done = closed_round(the_board, plan=plans(summary, EMOJI_PLAN, EMOJI_PLAN), plan_version=3)
    seen: list[str] = []
    first = plan_card(the_board, done, summary, mode, LONG_NOTICE)
    (paging,) = [t for t in texts(first) if t.startswith("Priorities 1–")]
    pages = int(paging.split("(page 1 of ")[1].split(")")[0])
    assert pages > 1
    assert "too long to edit on one card" in paging
    for page in range(pages):
        card = plan_card(the_board, done, summary, mode, LONG_NOTICE, page=page)
        assert_valid(card.content)
        for id_, box in inputs(card).items():
            assert box["value"] == EMOJI_PLAN, id_  # the chair's text, whole
            assert utf16_length(box["value"]) == PLAN_MAX == box["maxLength"]
            seen.append(id_)
        found = buttons(card)
        assert data(card, "Save draft") == {
            "verb": "plan.save",
            "b": BOARD_ID,
            "r": ROUND_ID,
            "v": 3,
            "page": page,
        }
        assert ("Save and go back" in found) == (page > 0)
        assert ("Save and show the next priorities" in found) == (page < pages - 1)
        assert data(card, "Publish to the channel") == {
            "verb": "plan.publish",
            "b": BOARD_ID,
            "r": ROUND_ID,
            "v": 3,
        }
    expected = [f"{kind}.{n}" for n in range(1, 17) for kind in ("actions", "progress")]
    assert seen == expected  # every priority on exactly one page, in order


def test_sixteen_plans_of_ordinary_length_share_one_card_with_shortened_key_issues() -> None:
    the_board = board(name=LONG_NAME)
    summary = hostile_summary()
    text = "Agree a risk appetite statement and review the register each term. " * 3
    done = closed_round(the_board, plan=plans(summary, text, text))
    card = plan_card(the_board, done, summary, "execute", LONG_NOTICE)
    assert_valid(card.content)
    assert len(inputs(card)) == 32
    assert all(box["value"] == text for box in inputs(card).values())
    assert not any("(page " in t for t in texts(card))
    # Key issues shrink to make room: notes are cut short, and the card counts those left out.
    cut = [t for t in texts(card) if t.startswith(TRUSTEE_NAMES) and t.endswith("…")]
    assert cut and all(len(t.encode("utf-16-le")) // 2 < 100 for t in cut)
    assert any("more notes)" in t for t in texts(card))
    # The notes left out can be read: the card says where.
    assert "Every note is in full in the board paper" in " ".join(texts(card))


# -- the published priorities -------------------------------------------------------------------


def test_published_card_is_a_table_of_the_frameworks_four_columns() -> None:
    the_board = board()
    summary = round_summary("The register is out of date.", codes="R AR AG G", trustees=4)
    saved = {5: Plan("Review the risk register termly.", "")}
    # A round whose clerk chose to show the key issues to the whole team.
    done = closed_round(the_board, plan=saved, issues_to_team=True)
    card = published_card(the_board, done, summary, "2026-12-09T10:00:00+00:00")
    assert buttons(card) == {} and inputs(card) == {}
    shown = texts(card)
    assert shown[0] == "Priorities for improvement, agreed by the chair"
    assert any("closed 5 December 2026. Published 9 December 2026." in t for t in shown)
    titles = [cell[0] for cell in priority_grid(card.content)[0]]
    assert titles == list(GOVERNANCE.priorities.columns)
    cells = table_rows(card)
    assert len(cells) == 16
    risk = cells[4]
    assert risk[0] == ["Risk management (Amber Red; views differ)"]
    note = "The register is out of date."
    assert risk[1] == [note, note, f"{note} (and 1 more note)"]
    # Each of the chair's cells names its column: on a phone there is no heading above it.
    assert risk[2] == ["What the board will do: ", "Review the risk register termly."]
    assert risk[3] == ["Progress wanted in 12 months: ", "Not yet agreed"]
    assert cells[0][2] == ["What the board will do: ", "Not yet agreed"]


def test_published_card_never_names_a_trustee_even_in_an_attributed_round() -> None:
    the_board = board()
    notes = {i: f"Note {i}: the board should look again at risk." for i in range(4)}
    summary = round_summary(notes, attributed=True, codes="R AR", trustees=4)
    assert summary.priorities[0].evidence[0].name in TRUSTEE_NAMES  # names were recorded
    card = published_card(the_board, closed_round(the_board, issues_to_team=True), summary, TODAY)
    everything = json.dumps(card.content, ensure_ascii=False)
    for name in (*TRUSTEE_NAMES, CHAIR_NAME, CLERK_NAME):
        assert name not in everything
    assert "Note 0: the board should look again at risk." in texts(card)


def test_published_card_quotes_no_evidence_unless_the_whole_team_may_see_it() -> None:
    """The channel is everyone's, observers included: by default the published priorities are
    the focus areas and the chair's plan, and say where the key issues are."""
    the_board = board()
    notes = {i: f"Note {i}: the board should look again at risk." for i in range(4)}
    summary = round_summary(notes, attributed=False, codes="R AR", trustees=4)
    card = published_card(the_board, closed_round(the_board), summary, TODAY)
    everything = json.dumps(card.content, ensure_ascii=False)
    assert "Note 0" not in everything and "look again at risk" not in everything
    assert any("are for the board's trustees, chair and clerks" in t for t in texts(card))
    assert all(row[1] == [] for row in table_rows(card))


def test_published_card_fits_sixteen_emoji_plans_and_hostile_evidence() -> None:
    the_board = board(name=LONG_NAME)
    summary = hostile_summary()
    done = closed_round(the_board, plan=plans(summary, EMOJI_PLAN, EMOJI_PLAN))
    card = published_card(the_board, done, summary, TODAY)
    assert_valid(card.content)
    everything = json.dumps(card.content, ensure_ascii=False)
    assert not any(name in everything for name in TRUSTEE_NAMES)
    # Far more than one card holds: the longest parts are shortened, and the card says so.
    assert any("ends in" in t or "end in" in t for t in texts(card))
    rows = table_rows(card)
    assert len(rows) == 16
    for row in rows:
        for _label, text in row[2:]:
            assert text.startswith(EMOJI * 20) and text.endswith("…")
            assert EMOJI_PLAN.startswith(text.rstrip("…"))


def test_published_card_shows_the_chairs_text_whole_when_it_fits() -> None:
    the_board = board(name=LONG_NAME)
    summary = hostile_summary()
    text = "Agree a risk appetite statement and review the register each term. " * 3
    done = closed_round(the_board, plan=plans(summary, text.strip(), text.strip()))
    card = published_card(the_board, done, summary, TODAY)
    assert_valid(card.content)
    rows = table_rows(card)
    assert [[cell[1:] for cell in row[2:]] for row in rows] == [
        [[text.strip()], [text.strip()]]
    ] * 16
    assert not any("end in" in t for t in texts(card))


def test_cards_do_not_depend_on_a_members_role_being_known() -> None:
    odd = Member("aad-x", "29:x", "Someone Odd", role="governor")
    card = roles_card(board([member(0, CLERK_NAME, CLERK), odd]), 0, "execute")
    assert ("Someone Odd", "role.1", TRUSTEE) in role_rows(card)
    assert set(ROLES) == {c["value"] for c in inputs(card)["role.1"]["choices"]}


def test_data_card_explains_retention_and_offers_export_and_delete() -> None:
    from dialogs.boards.cards import data_card

    board = _board_for_data()
    for mode in ("execute", "submit"):
        card = data_card(board, 730, mode).content
        assert_valid(card)
        text = json.dumps(card)
        assert "730 days after it closes" in text
        assert "Export the board's data" in text and "Delete everything" in text
    kept = json.dumps(data_card(board, None, "execute").content)
    assert "kept until a clerk deletes" in kept


def _board_for_data():
    from dialogs.boards.model import Board, Member

    return Board(
        tenant="t",
        id="19:team@thread.tacv2",
        name="Oak board",
        service_url="https://smba.example/",
        channel="19:team@thread.tacv2",
        created="2026-11-23T09:00:00Z",
        members=(Member("k1", "29:1", "Casey Clerk", "clerk"),),
    )
