"""The walkthrough as a trustee meets it, through the engine's plain inputs and outputs.

Runs on both store backends (a real redis-server and the embedded emulation).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dialogs.engine import NOT_SAVED, Joined, Walkthrough
from dialogs.messages import Action, Reply, Turn
from dialogs.state import RoundLink, Who
from dialogs.store import Store, connect
from frameworks import load_all
from tests.dialogs.cardkit import button, buttons, evidence_value, press, shown, words
from tests.support.redis_state import everything

GOV = "cst-trust-governance"
ANN = Who("tenant-a", "aad-ann", "Ann")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Trustee:
    """One trustee talking to the engine; `card` is what they currently look at."""

    def __init__(self, engine: Walkthrough, who: Who = ANN) -> None:
        self.engine = engine
        self.who = who
        self.clock = NOW
        self.card = None
        self.last: Reply | None = None

    async def say(self, text: str) -> Reply:
        return await self._turn(Turn(self.who, self._tick(), text=text))

    async def click(self, action: Action) -> Reply:
        return await self._turn(Turn(self.who, self._tick(), action=action))

    async def press(self, verb: str, title: str | None = None, **inputs: object) -> Reply:
        assert self.card is not None
        return await self.click(press(self.card, verb, title, **inputs))

    def _tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    async def _turn(self, turn: Turn) -> Reply:
        reply = await self.engine.handle(turn)
        self.last = reply
        if reply.replace is not None or reply.cards():
            self.card = shown(reply)
        return reply


async def stored(engine: Walkthrough) -> dict[str, Any]:
    return await everything(engine.store.redis)


async def current(engine: Walkthrough, who: Who = ANN):
    profile = await engine.store.profile(who)
    assessment_id = next(iter(profile.open.values()), None) or next(iter(profile.last.values()))
    return await engine.store.assessment(who, assessment_id)


async def test_start_shows_element_one_of_sixteen_with_everything_to_decide(ann: Trustee) -> None:
    await ann.say("start governance")
    text = words(ann.card)
    assert "Element 1 of 16 · Strategic leadership" in text
    assert "1. Setting direction" in text
    assert "Self-assessment started" in text
    assert "• Does the board have a strategy?" in text
    assert "(Red) Weak looks like:" in text and "(Green) Strong looks like:" in text
    assert [b["title"] for b in buttons(ann.card)][:4] == [
        "Red",
        "Amber Red",
        "Amber Green",
        "Green",
    ]
    assert {b["data"]["verb"] for b in buttons(ann.card)} >= {"rate", "skip", "pause", "review"}
    assert "back" not in {b["data"]["verb"] for b in buttons(ann.card)}  # nothing before element 1


async def test_a_rating_is_saved_the_moment_it_is_given(ann: Trustee, engine: Walkthrough) -> None:
    await ann.say("start governance")
    await ann.press("rate", "Amber Green", evidence="Strategy agreed in March; not yet reviewed.")
    assessment = await current(engine)
    assert assessment.answer(1).rating == "AG"
    assert assessment.answer(1).evidence == "Strategy agreed in March; not yet reviewed."
    assert assessment.cursor == 2
    assert ann.last.replace is not None  # the clicked card is updated in place
    assert "Saved 1. Setting direction: Amber Green." in words(ann.card)
    assert "2. Culture, values and ethos" in words(ann.card)


async def test_typed_ratings_rate_the_element_on_screen(ann: Trustee, engine: Walkthrough) -> None:
    await ann.say("start governance")
    await ann.say("amber green: we have a strategy\nbut no review")
    await ann.say("R")
    await ann.say("ag")
    assessment = await current(engine)
    assert assessment.answer(1).rating == "AG"
    assert assessment.answer(1).evidence == "we have a strategy\nbut no review"
    assert (assessment.answer(2).rating, assessment.answer(2).evidence) == ("R", "")
    assert assessment.answer(3).rating == "AG"
    assert "4. Collaborative working and civic responsibility" in words(ann.card)


async def test_a_click_on_an_old_card_acts_on_that_cards_element(
    ann: Trustee, engine: Walkthrough
) -> None:
    await ann.say("start governance")
    for _ in range(3):
        await ann.press("rate", "Green")
    old_card = ann.card  # element 4
    for _ in range(3):
        await ann.press("rate", "Green")  # now on element 7
    reply = await ann.click(press(old_card, "rate", "Red", evidence="rated from an old card"))
    assessment = await current(engine)
    assert assessment.answer(4).rating == "R"
    assert assessment.answer(4).evidence == "rated from an old card"
    assert assessment.rating(7) is None  # the element on screen elsewhere is untouched
    assert "7. Analysis of data" in words(shown(reply))  # back to the first gap after 4


async def test_a_double_click_changes_nothing_twice(ann: Trustee, engine: Walkthrough) -> None:
    await ann.say("start governance")
    click = press(ann.card, "rate", "Amber Red", evidence="first")
    first = await ann.click(click)
    before = await stored(engine)
    second = await ann.click(click)
    after = await stored(engine)
    key = next(k for k in before if ":sa:" in k)
    assert {k: v for k, v in after[key].items() if not k.startswith(("t:", "updated"))} == {
        k: v for k, v in before[key].items() if not k.startswith(("t:", "updated"))
    }
    assert words(first.replace) == words(second.replace)


async def test_skip_and_return(ann: Trustee, engine: Walkthrough) -> None:
    await ann.say("start governance")
    await ann.press("skip", evidence="not sure yet")
    assert "Skipped 1. Setting direction for now" in words(ann.card)
    for _ in range(15):
        await ann.press("rate", "Green")
    # after the last element the walkthrough comes back to the one skipped
    assert "1. Setting direction" in words(ann.card)
    assert evidence_value(ann.card) == "not sure yet"  # the draft was kept
    await ann.press("rate", "Amber Red")
    assert "Review your answers" in words(ann.card)
    assert "16 of 16 rated." in words(ann.card)


async def test_back_keeps_a_draft_and_shows_the_element_before(
    ann: Trustee, engine: Walkthrough
) -> None:
    await ann.say("start governance")
    await ann.press("rate", "Green", evidence="clear strategy")
    await ann.press("back", evidence="half-written thought")
    assert "1. Setting direction" in words(ann.card)
    assert evidence_value(ann.card) == "clear strategy"
    assessment = await current(engine)
    assert assessment.answer(2).evidence == "half-written thought"
    assert assessment.answer(2).rating is None


async def test_pause_and_resume_later_from_another_device(ann: Trustee, store: Store) -> None:
    await ann.say("start governance")
    for _ in range(4):
        await ann.press("rate", "Amber Green")
    await ann.press("pause", evidence="draft for 5")
    assert "Paused at 5. Risk management" in words(ann.card)
    assert "4 of 16 rated, all saved" in words(ann.card)
    # days later, a different process (another bot instance, same Redis)
    later = Trustee(Walkthrough(store, load_all()))
    later.clock = NOW + timedelta(days=3)
    await later.say("resume")
    assert "5. Risk management" in words(later.card)
    assert evidence_value(later.card) == "draft for 5"
    assert "4 of 16 rated" in words(later.card)


async def test_the_pause_cards_resume_button_shows_where_the_trustee_left_off(
    ann: Trustee,
) -> None:
    await ann.say("start governance")
    for _ in range(4):
        await ann.press("rate", "Amber Green")
    await ann.press("pause", evidence="draft for 5")
    await ann.press("resume", "Resume")
    assert "5. Risk management" in words(ann.card)
    assert evidence_value(ann.card) == "draft for 5"
    assert "4 of 16 rated" in words(ann.card)


async def test_go_to_a_number_past_the_last_element_says_which_there_are(
    ann: Trustee, engine: Walkthrough
) -> None:
    await ann.say("start governance")
    await ann.press("rate", "Green")
    before = await stored(engine)
    reply = await ann.say("go to 99")
    assert any(
        "has elements 1 to 16. Type go to and one of those numbers." in t for t in reply.texts()
    )
    assert "2. Culture, values and ethos" in words(ann.card)  # still on the card it was
    assert await stored(engine) == before


async def test_a_rating_typed_on_the_review_says_how_to_open_an_element(
    ann: Trustee, engine: Walkthrough
) -> None:
    await ann.say("start governance")
    await ann.press("rate", "Green")
    await ann.press("review")
    before = await stored(engine)
    reply = await ann.say("G")
    assert any("You're on the review of your answers. Type go to" in t for t in reply.texts())
    assert "Review your answers" in words(ann.card)
    assert await stored(engine) == before


async def test_start_again_resumes_the_open_assessment(ann: Trustee, engine: Walkthrough) -> None:
    await ann.say("start governance")
    first_id = ann.card.drives
    await ann.press("rate", "Red")
    await ann.say("start governance")
    assert ann.card.drives == first_id
    assert "Welcome back: 1 of 16 rated" in words(ann.card)
    assert "2. Culture, values and ethos" in words(ann.card)


async def test_review_change_and_finish(ann: Trustee, engine: Walkthrough) -> None:
    await ann.say("start strong trusts")
    await ann.press("rate", "Red", evidence="No strategy refresh since 2019.")
    await ann.press("review")
    text = words(ann.card)
    assert "1 of 14 rated. Not rated yet: 2, 3, 4" in text
    await ann.press("goto", goto="1")
    assert "1. Strategy and culture" in words(ann.card)
    await ann.press("rate", "Amber red")
    await ann.press("review")
    await ann.press("finish")
    text = words(ann.card)
    assert "Your heat map" in text and "Finished 23 November 2026" in text
    assert "Strategy and culture (Amber Red)" in text
    assert "No strategy refresh since 2019." in text
    profile = await engine.store.profile(ANN)
    assert profile.open == {} and "cst-strong-trusts" in profile.last


async def test_a_finished_assessment_cannot_be_changed_from_an_old_card(
    ann: Trustee, engine: Walkthrough
) -> None:
    await ann.say("start governance")
    old = ann.card
    await ann.say("finish")
    before = await stored(engine)
    reply = await ann.click(press(old, "rate", "Green"))
    assert "you finished on 23 November 2026, so nothing was changed" in reply.texts()[0]
    assert await stored(engine) == before


async def test_finish_twice_shows_the_same_results(ann: Trustee) -> None:
    await ann.say("start governance")
    await ann.press("rate", "Red", evidence="risk register static")
    await ann.press("review")
    click = press(ann.card, "finish")
    first = await ann.click(click)
    second = await ann.click(click)
    assert words(first.replace) == words(second.replace)
    assert "Setting direction (Red)" in words(second.replace)
    assert second.replace.summary.endswith("1 of 16 rated; 1 priority.")


async def test_evidence_over_the_limit_is_not_saved_and_not_lost(
    ann: Trustee, engine: Walkthrough
) -> None:
    await ann.say("start governance")
    long_note = "We discussed this at length. " * 60  # 1,740 characters
    before = await stored(engine)
    await ann.press("rate", "Green", evidence=long_note)
    assert await stored(engine) == before
    assert "Your note is 1,739 characters; the limit is 1,500" in words(ann.card)
    assert evidence_value(ann.card) == long_note.strip()  # handed back whole, to shorten
    assert "1. Setting direction" in words(ann.card)


async def test_huge_typed_notes_still_get_a_card_and_a_heat_map(
    ann: Trustee, engine: Walkthrough
) -> None:
    await ann.say("start governance")
    before = await stored(engine)
    await ann.say("R " + "é" * 4000)  # far over the limit: handed back as far as a card holds
    assert "Your note is 4,000 characters; the limit is 1,500" in words(ann.card)
    assert await stored(engine) == before
    for _ in range(16):
        await ann.say("R " + "😀" * 750)  # at the limit, and 12 bytes a character on the wire
    await ann.say("finish")
    assert "Your heat map" in words(ann.card)
    assert words(ann.card).count("😀😀😀…") == 16  # every key issue shown, shortened to fit


@pytest.mark.parametrize(
    "data",
    [
        {"a": "../../etc", "n": 1, "rating": "G"},
        {"n": "one", "rating": "G"},
        {"n": 0, "rating": "G"},
        {"n": True, "rating": "G"},
        {"n": 1, "rating": ["G"]},
        {"n": 1, "rating": "G", "evidence": {"text": "x"}},
    ],
)
async def test_tampered_card_payloads_change_nothing(
    ann: Trustee, engine: Walkthrough, data: dict
) -> None:
    await ann.say("start governance")
    real = dict(button(ann.card, "rate", "Green")["data"])
    before = await stored(engine)
    reply = await ann.click(Action("rate", {**real, **data}))
    assert "nothing" in reply.texts()[0].lower()
    assert reply.replace is None
    assert await stored(engine) == before


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"n": 99}, "there is no element 99"),
        ({"rating": "PURPLE"}, "isn't a rating on this framework's scale"),
        ({"a": "0123456789ab"}, "can't find the self-assessment"),
    ],
)
async def test_stale_or_impossible_payloads_are_explained(
    ann: Trustee, engine: Walkthrough, data: dict, says: str
) -> None:
    await ann.say("start governance")
    real = dict(button(ann.card, "rate", "Green")["data"])
    before = await stored(engine)
    reply = await ann.click(Action("rate", {**real, **data}))
    assert says in reply.texts()[0]
    assert await stored(engine) == before


async def test_an_unknown_button_or_command_is_explained(ann: Trustee, engine: Walkthrough) -> None:
    await ann.say("start governance")
    before = await stored(engine)
    reply = await ann.click(Action("delete-everything", {"verb": "delete-everything"}))
    assert "isn't one I recognise" in reply.texts()[0]
    reply = await ann.say("what is the capital of France")
    assert "didn't catch that" in reply.texts()[0]
    assert await stored(engine) == before


async def test_nobody_can_act_on_someone_elses_assessment(engine: Walkthrough) -> None:
    ann = Trustee(engine)
    ben = Trustee(engine, Who("tenant-a", "aad-ben", "Ben"))
    mallory = Trustee(
        engine, Who("tenant-b", "aad-ann", "Ann elsewhere")
    )  # same user id, other tenant
    await ann.say("start governance")
    anns_card = ann.card
    await ann.press("rate", "Amber Red", evidence="private to Ann")
    before = await stored(engine)
    for intruder in (ben, mallory):
        reply = await intruder.click(press(anns_card, "rate", "Green", evidence="overwritten"))
        assert "can't find the self-assessment" in reply.texts()[0]
        reply = await intruder.say("results")
        assert "private to Ann" not in str(reply)
    assert await stored(engine) == before


async def test_sixteen_answers_racing_lose_nothing(ann: Trustee, engine: Walkthrough) -> None:
    await ann.say("start governance")
    aid = ann.card.drives
    codes = ["R", "AR", "AG", "G"]
    turns = [
        Turn(
            ANN,
            NOW,
            action=Action(
                "rate",
                {"verb": "rate", "a": aid, "n": n, "rating": codes[n % 4], "evidence": f"note {n}"},
            ),
        )
        for n in range(1, 17)
    ]
    await asyncio.gather(*(engine.handle(t) for t in turns))
    assessment = await current(engine)
    assert {n: (a.rating, a.evidence) for n, a in assessment.answers.items()} == {
        n: (codes[n % 4], f"note {n}") for n in range(1, 17)
    }


async def test_status_results_and_help(ann: Trustee) -> None:
    reply = await ann.say("status")
    assert "no self-assessments yet" in reply.texts()[0]
    reply = await ann.say("results")
    assert "no results yet" in reply.texts()[0]
    await ann.say("start governance")
    await ann.press("rate", "Red", evidence="static risk register")
    reply = await ann.say("status")
    assert (
        "In progress: Improvement capacity framework for trust governance, 1 of 16 rated"
        in reply.texts()[0]
    )
    reply = await ann.say("results")
    assert "In progress: your heat map so far" in words(shown(reply))
    reply = await ann.say("help")
    assert "Board self-assessment" in words(shown(reply))
    assert "R, AR, AG or G" in reply.texts()[0]


async def test_two_frameworks_in_progress_resume_asks_which(ann: Trustee) -> None:
    await ann.say("start governance")
    await ann.say("start strong trusts")
    reply = await ann.say("resume")
    card = shown(reply)
    assert "more than one self-assessment in progress" in words(card)
    assert [b["title"] for b in buttons(card) if b["data"]["verb"] == "resume"] == [
        "Resume Trust governance",
        "Resume Building strong trusts",
    ]


async def test_an_unreachable_store_says_nothing_was_saved() -> None:
    from tests.support.net import free_port

    dead = Walkthrough(Store(connect(f"redis://127.0.0.1:{free_port()}/0")), load_all())
    reply = await dead.handle(Turn(ANN, NOW, text="start governance"))
    assert reply.texts() == [NOT_SAVED]


# ---- what a trustee reads at each turn (issue 15) ----------------------------------------------


async def test_after_the_last_element_the_jump_back_says_which_was_skipped(
    ann: Trustee,
) -> None:
    await ann.say("start governance")
    for _ in range(3):
        await ann.press("rate", "Green")
    await ann.press("skip")
    for _ in range(12):
        await ann.press("rate", "Green")
    text = words(ann.card)
    assert "Saved 16. Board effectiveness: Green." in text
    assert "You skipped 4. Collaborative working and civic responsibility: here it is." in text
    assert "4. Collaborative working and civic responsibility" in text


async def test_moving_on_in_order_says_nothing_about_skipping(ann: Trustee) -> None:
    await ann.say("start governance")
    await ann.press("rate", "Green")
    assert "skipped" not in words(ann.card)


async def test_skipping_the_last_unrated_says_where_it_goes_back_to(ann: Trustee) -> None:
    await ann.say("start governance")
    await ann.press("skip")
    for _ in range(14):
        await ann.press("rate", "Green")
    await ann.press("skip")
    text = words(ann.card)
    assert "Skipped 16. Board effectiveness for now" in text
    assert "You skipped 1. Setting direction: here it is." in text


async def test_the_saved_banner_is_not_green_whatever_the_rating(ann: Trustee) -> None:
    """A green "Saved …: Red." reads as if Red were good news: the banner is neutral."""
    await ann.say("start governance")
    await ann.press("rate", "Red")
    notice = ann.card.content["body"][0]
    assert notice["type"] == "Container"
    assert "Saved 1. Setting direction: Red." in words({"body": [notice]})
    assert notice["style"] == "emphasis"


async def test_status_after_finishing_does_not_offer_resume(ann: Trustee) -> None:
    """`status` and `resume` agree: with nothing in progress, status does not say to resume."""
    await ann.say("start governance")
    await ann.say("finish")
    status_text = (await ann.say("status")).texts()[0]
    assert "Finished: Improvement capacity framework for trust governance" in status_text
    assert "resume" not in status_text
    assert "Type results to see your latest heat map, or start to begin a new one." in status_text
    resumed = shown(await ann.say("resume"))
    assert "You have no self-assessment in progress" in words(resumed)


async def test_status_with_one_in_progress_offers_resume(ann: Trustee) -> None:
    await ann.say("start governance")
    status_text = (await ann.say("status")).texts()[0]
    assert "Type resume to carry on, or results to see your latest heat map." in status_text
    resumed = shown(await ann.say("resume"))
    assert "1. Setting direction" in words(resumed)


async def test_welcome_buttons_name_their_framework(ann: Trustee) -> None:
    """A screen reader reads a button's title alone: two "Start"s cannot be told apart."""
    card = shown(await ann.say("hello"))
    titles = [b["title"] for b in buttons(card)]
    assert titles == ["Start Trust governance", "Start Building strong trusts"]
    await ann.say("start governance")
    await ann.say("finish")
    card = shown(await ann.say("hello"))
    titles = [b["title"] for b in buttons(card)]
    assert titles == [
        "Start Trust governance",
        "Last heat map: Trust governance",
        "Start Building strong trusts",
    ]


class OneRound:
    """The board side for one round of elements 1-4, as `Desk.join` would vouch for it."""

    def __init__(self) -> None:
        self.link = RoundLink(
            "team-1", "0a1b2c3d4e5f", "Oak Learning Trust", "2026-12-05T23:59:59Z"
        )

    async def join(self, who: Who, board: str, round_id: str) -> Joined | str:
        return Joined(GOV, "1", (1, 2, 3, 4), self.link)

    async def progressed(self, who: Who, assessment: Any) -> None:
        return None


async def test_a_typed_rating_after_the_round_closed_says_it_closed(store: Store) -> None:
    """Not "You have no self-assessment in progress": the trustee's answers were locked."""
    engine = Walkthrough(store, load_all(), rounds=OneRound())
    ann = Trustee(engine)
    await ann.click(Action("start", {"b": "team-1", "r": "0a1b2c3d4e5f"}))
    await ann.press("rate", "Red", evidence="risk register unread")
    assessment = await store.in_scope(ANN, "round:0a1b2c3d4e5f")
    assert assessment is not None
    assert await store.lock(ANN, assessment, "2026-12-06T00:00:00+00:00")
    reply = await ann.say("R the register is read now")
    (text,) = reply.texts()
    assert "no self-assessment in progress" not in text
    assert text == (
        "Oak Learning Trust's round closed on 6 December 2026, so its answers can no longer be "
        "changed and nothing was changed. Type results to see yours."
    )
    locked = await store.in_scope(ANN, "round:0a1b2c3d4e5f")
    assert locked is not None and locked.answer(2).rating is None


async def test_a_typed_rating_with_nothing_at_all_still_says_start(ann: Trustee) -> None:
    reply = await ann.say("AG")
    assert reply.texts() == ["You have no self-assessment in progress. Type start to begin one."]


async def test_on_the_embedded_store_no_card_promises_answers_survive_a_restart(
    store: Store,
) -> None:
    """Without REDIS_URL the answers live in the bot's memory: the pause card must not say
    "Pick up any time", and starting says what "saved" is worth."""
    ann = Trustee(Walkthrough(store, load_all(), durable=False))
    await ann.say("start governance")
    assert "kept in memory only (the embedded store): a restart loses them" in words(ann.card)
    await ann.press("rate", "Green")
    await ann.press("pause")
    text = words(ann.card)
    assert "Pick up any time" not in text
    assert "saved while this trustboard runs" in text
    assert "embedded store" in text


async def test_on_redis_the_pause_card_says_pick_up_any_time(ann: Trustee) -> None:
    await ann.say("start governance")
    await ann.press("pause")
    text = words(ann.card)
    assert "all saved. Pick up any time, on any device" in text
    assert "embedded store" not in text
