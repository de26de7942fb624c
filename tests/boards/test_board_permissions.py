"""Who may do what on a board, and what tampered, forged or stale card payloads do: nothing.

Every action is posted to the bot (served in-process: tests/support/bot_app.py) as the
Action.Execute invoke Teams sends for a click, with the data of a real card where there is one (a
forged payload is a real one with a field changed). A refusal must be polite, say that nothing was
changed, and leave Redis exactly as it was (`everything()` before and after, each taken once the
bot's background work has ended: see tests/support/quiet.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.boards.scripted import (
    BOARD_TEAM,
    CHAIR,
    CLERK,
    answer_round,
    channel_cards,
    chat_client,
    clerk_desk,
    eventually,
    form_fields,
    invitations,
    open_round_here,
    personal_cards,
    reminders,
    round_hash,
    set_up,
    settled,
    summary_gone_out,
    team_id,
    to_round_form,
    words,
)
from tests.dialogs.cardkit import walk
from tests.support.activities import OTHER_TENANT, TENANT, Chat, User, channel, user
from tests.support.bot_app import BotApp, StartBot
from tests.support.fake_connector import FakeConnector, adaptive_cards
from tests.support.quiet import changes, quiet, quiet_state
from tests.support.redis_state import everything

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}
ADA, BEN, DEV = user("Ada Brook"), user("Ben Carr"), user("Dev Ellis")
OUTSIDER = user("Zed Outsider")  # posts in the board's channel, but is not in the team roster
NOTHING_CHANGED = "nothing was changed"
TAMPERED = "That card's details don't look right, so nothing was changed."


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with(FAST)


@dataclass
class Said:
    """The bot's answer to one click: what Teams shows on the clicked card (a message, or the
    card that replaced it) and anything the bot posted in that conversation meanwhile."""

    status: int
    text: str  # the answer's message, or the replacing card's words; then what was posted
    card: dict[str, Any] | None  # the card that replaced the clicked one, if any
    posted: int = 0  # messages posted in the conversation during the turn

    @property
    def refused(self) -> bool:
        return self.card is None and not self.posted and NOTHING_CHANGED in self.text.lower()


async def click(
    bot: BotApp,
    connector: FakeConnector,
    who: User,
    verb: str,
    data: Mapping[str, Any],
    inputs: Mapping[str, Any] | None = None,
    *,
    where: str = "personal",
    tenant: str = TENANT,
    team: str = BOARD_TEAM,
) -> Said:
    """`who` clicks a button with `data` (and typed `inputs`) in the board's channel or in their
    own 1:1 chat with the bot."""
    conversation = channel(team) if where == "channel" else None
    chat = Chat(service_url=connector.url, tenant=tenant, user=who, conversation=conversation)
    before = len(connector.calls)
    status, body = await bot.post(chat.execute(verb, {**data, "verb": verb}, "1", inputs or {}))
    assert status == 200, (verb, status, body)
    posted = [
        c.body
        for c in connector.calls[before:]
        if c.kind in ("send", "reply") and c.ok and c.conversation_id == chat.where.id
    ]
    extra = [words(card) for p in posted for card in adaptive_cards(p)]
    extra += [str(p["text"]) for p in posted if p.get("text")]
    if body.get("type") == "application/vnd.microsoft.card.adaptive":
        card, answer = body["value"], words(body["value"])
    else:
        card, answer = None, str(body.get("value"))
    return Said(status, "\n".join([answer, *extra]), card, len(posted))


async def refused_unchanged(
    bot: BotApp,
    connector: FakeConnector,
    redis: Redis,
    who: User,
    verb: str,
    data: Mapping[str, Any],
    inputs: Mapping[str, Any] | None = None,
    **where: Any,
) -> Said:
    """The click is refused politely and nothing in Redis changes."""
    before = await quiet_state(bot, redis)
    said = await click(bot, connector, who, verb, data, inputs, **where)
    assert said.refused, f"{who.name} {verb}: not refused: {said.text[:300]}"
    after = await quiet_state(bot, redis)
    assert after == before, f"{who.name} {verb} changed Redis: {changes(before, after)}"
    return said


def data_of(card: dict[str, Any] | None, verb: str) -> dict[str, Any]:
    """The data a button of the card carries."""
    found = [
        n["data"]
        for n in walk(card or {})
        if n.get("type") == "Action.Execute" and n.get("verb") == verb
    ]
    assert found, f"no {verb} button on the card: {words(card)[:300]}"
    return dict(found[0])


# ---- 7. the permission matrix -------------------------------------------------------------------

ROLES = ("outsider", "trustee", "chair", "clerk")
ALLOWED = {  # role -> the actions it may take; every other (role, action) must be refused
    "outsider": set(),
    "trustee": {"summary.show"},
    "chair": {"round.status", "summary.show", "plan.save", "plan.publish"},
    "clerk": {
        "board.setup",
        "roles.show",
        "roles.save",
        "round.new",
        "round.form",
        "round.open",
        "round.status",
        "round.remind",
        "round.extend",
        "round.close",
        "summary.show",
    },
}
# What the one who may do it sees (on the card that replaces the clicked one, or as the answer).
DONE = {
    "board.setup": "Members brought up to date from Teams",
    "roles.show": "Members 1–3 of 3",
    "roles.save": "Roles saved.",
    "round.new": "choose a framework",
    "round.form": "Open a round",
    "round.open": "Round opened.",
    "round.status": "Responded 0",
    "round.remind": "Reminder on its way to 2 trustees",
    "round.extend": "Deadline moved to",
    "round.close": "Round closed.",
    "summary.show": "Board heat map",
    "plan.save": "Draft saved.",
    "plan.publish": "Published to the board's channel.",
}


async def test_permission_matrix(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    redis = redis_client
    actors = {"outsider": OUTSIDER, "trustee": ADA, "chair": CHAIR, "clerk": CLERK}
    clerk = await set_up(bot, connector, CLERK, [CHAIR, ADA], chair=CHAIR)
    outcome: dict[tuple[str, str], str] = {}  # (role, action) -> allowed or refused
    wrong: list[str] = []  # refusals that changed Redis, allowed actions that did not work

    async def attempt(
        role: str, verb: str, data: Mapping[str, Any], inputs: Any = None, **where: Any
    ) -> Said:
        """Try it; note whether it was refused, and whether a refusal changed nothing."""
        before = await quiet_state(bot, redis)
        said = await click(bot, connector, actors[role], verb, data, inputs, **where)
        # A set-up card clicked once the board is set up: anyone but a clerk is shown the
        # board as it is (the card everyone in the channel sees), which sets nothing up.
        shown_board = (
            verb == "board.setup"
            and said.card is not None
            and "Clerk: Casey Clerk" in said.text
            and DONE[verb] not in said.text
            and "you are its clerk" not in said.text
        )
        if said.refused or shown_board:
            outcome[(role, verb)] = "refused"
            after = await quiet_state(bot, redis)
            if after != before:
                wrong.append(f"{role} {verb}: refused, but Redis changed: {changes(before, after)}")
        else:
            outcome[(role, verb)] = "allowed"
            if verb in ALLOWED[role] and DONE[verb] not in said.text:
                wrong.append(f"{role} {verb}: allowed, but said {said.text[:200]!r}")
        return said

    # The real cards, as the clerk sees them before the round: the set-up card still in the
    # channel, the board card, the roles card, the framework chooser and the round form.
    first_post = connector.calls_of("send", conversation_id=channel(BOARD_TEAM).id)[0].body
    setup = data_of(adaptive_cards(first_post)[0], "board.setup")  # since updated in place
    board = {verb: data_of(clerk.card, verb) for verb in ("roles.show", "round.new")}
    await clerk.click("roles.show")
    roles = data_of(clerk.card, "roles.save")
    as_they_are = {
        str(n["id"]): n["value"]
        for n in walk(clerk.card)
        if n.get("type") == "Input.ChoiceSet" and str(n.get("id", "")).startswith("role.")
    }
    await clerk.click("board.show")
    await to_round_form(clerk)
    opening = data_of(clerk.card, "round.open")
    form = data_of(clerk.card, "round.new")  # its Back button
    choose = {"b": form["b"], "fw": opening["fw"]}

    def own_clerk(role: str) -> dict[str, str]:
        """A roles card, filled in by someone making themselves clerk (the outsider: everyone
        clerk); the clerk saves the roles as they are."""
        if role == "clerk":
            return as_they_are
        me = actors[role].aad_object_id
        return {
            f"role.{i}": "clerk" if key == me or role == "outsider" else "trustee"
            for i, key in enumerate(roles["keys"])
        }

    # Before any round: the board's own actions. The clerk goes last, as opening a round changes
    # what the others could do.
    for role in ROLES:
        await attempt(role, "board.setup", setup, where="channel")
        await attempt(role, "roles.show", board["roles.show"], where="channel")
        await attempt(role, "roles.save", roles, own_clerk(role), where="channel")
        await attempt(role, "round.new", board["round.new"], where="channel")
        await attempt(role, "round.form", choose, where="channel")
        if role != "clerk":
            await attempt(role, "round.open", opening, form_fields(), where="channel")
    # Roles saved by the clerk as they were: Sam is still the chair.
    assert (await click(bot, connector, CLERK, "board.show", board["round.new"])).text.count(
        "Chair: Sam Chair"
    ) == 1
    desk = await clerk_desk(bot, connector, CLERK)
    await to_round_form(desk)
    said = await attempt("clerk", "round.open", data_of(desk.card, "round.open"), form_fields())
    assert said.card is not None
    ids = data_of(said.card, "round.close")  # {b, r}, from the clerk's round card
    remind = data_of(said.card, "round.remind")
    await eventually(lambda: settled(redis, 2), what="invitations")

    # While the round is open: its card's actions, from each one's own chat (the round card
    # lives in the clerk's 1:1 chat; anyone else has to forge it).
    later = (date.today() + timedelta(days=20)).isoformat()
    for role in ROLES[:3]:
        await attempt(role, "round.status", ids)
        await attempt(role, "round.remind", remind)
        await attempt(role, "round.extend", ids, {"deadline": later})
        await attempt(role, "round.close", ids)
    await attempt("clerk", "round.status", ids)
    await attempt("clerk", "round.remind", remind)
    await attempt("clerk", "round.extend", ids, {"deadline": later})
    await eventually(lambda: settled(redis, 4), what="reminders")
    # Ada rates element 1 Red, so the board has a priority for the chair to plan.
    await answer_round(chat_client(bot, connector, ADA), ("R",), finish=True)
    await attempt("clerk", "round.close", ids)

    # Once it has closed: the summary, and the chair's priorities.
    await eventually(
        lambda: [c for c in personal_cards(connector, CHAIR, "") if "plan.save" in str(c)],
        what="the chair's plan card",
    )
    # The summary goes out in the background: wait for it to be done, so Redis is still.
    await eventually(
        lambda: summary_gone_out(connector, redis, ids["r"]), what="the summary to have gone"
    )
    chair = chat_client(bot, connector, CHAIR)
    plan = data_of(chair.card, "plan.save")
    # Both boxes of every priority filled: a plan with gaps is first confirmed, not published
    # (tests/boards/test_board_publish_http.py).
    boxes = {
        str(n["id"]): f"Plan for {n['id']}"
        for n in walk(chair.card)
        if n.get("type") == "Input.Text"
        and str(n.get("id", "")).startswith(("actions.", "progress."))
    }
    for role in ROLES:
        said = await attempt(role, "summary.show", ids)
        if role == "trustee":  # an anonymous round: a trustee's summary names nobody
            assert "Ada Brook" not in said.text
    for role in ("outsider", "trustee", "clerk", "chair"):
        await attempt(role, "plan.save", plan, boxes)
    for role in ("outsider", "trustee", "clerk", "chair"):
        await attempt(role, "plan.publish", {**plan, "v": 1}, boxes)

    expected = {
        (role, verb): "allowed" if verb in ALLOWED[role] else "refused" for role, verb in outcome
    }
    assert outcome == expected
    assert len(outcome) == len(ROLES) * 13
    assert wrong == []
    # The agreed priorities go to the channel through the outbox, a moment after the click.
    published = await eventually(
        lambda: [
            words(c) for _, c in channel_cards(connector) if "agreed by the chair" in words(c)
        ],
        what="the published priorities",
    )
    assert len(published) == 1 and "Plan for actions." in published[0]


# ---- 8. one board's cards cannot reach another's ------------------------------------------------

ELM_TEAM = "Elm Academy Trust board"
ELM_CLERK = user("Elle Clerk")


async def test_boards_are_isolated_from_each_other_and_from_other_tenants(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    redis = redis_client
    await set_up(bot, connector, CLERK, [CHAIR, ADA, DEV], chair=CHAIR)
    await set_up(bot, connector, ELM_CLERK, [BEN], team=ELM_TEAM)
    oak_desk = await clerk_desk(bot, connector, CLERK)
    oak_round = await open_round_here(oak_desk)
    elm_desk = await clerk_desk(bot, connector, ELM_CLERK)
    elm_round = await open_round_here(elm_desk)
    await eventually(lambda: settled(redis, 4), what="the invitations of both boards")
    oak, elm = team_id(BOARD_TEAM), team_id(ELM_TEAM)
    # Ada starts Oak's round and writes evidence only she (and, unnamed, the board) should see.
    ada = chat_client(bot, connector, ADA)
    await answer_round(ada, ("R",), finish=False)
    ada_evidence = f"Minutes show R ({ADA.aad_object_id[:8]})"

    async def refused(who: User, verb: str, data: dict[str, Any], **kw: Any) -> Said:
        return await refused_unchanged(bot, connector, redis, who, verb, data, **kw)

    # Another team's board id in the payload: Oak's trustee and Oak's clerk are not Elm's members.
    not_member = "I don't have you as one of its members"
    for who in (ADA, CLERK):
        assert not_member in (await refused(who, "round.new", {"b": elm})).text
        assert not_member in (await refused(who, "round.close", {"b": elm, "r": elm_round})).text
        assert not_member in (await refused(who, "round.status", {"b": elm, "r": elm_round})).text
    # Elm's round under Oak's board id is no round of Oak's.
    said = await refused(CLERK, "round.close", {"b": oak, "r": elm_round})
    assert "can't find that round on this board" in said.text
    # Elm's card clicked in Oak's channel.
    said = await refused(CLERK, "round.close", {"b": elm, "r": elm_round}, where="channel")
    assert said.text == TAMPERED

    # The same team id, and the very same person, from another tenant: no board there.
    elsewhere = {"tenant": OTHER_TENANT}
    for verb, data in (
        ("round.new", {"b": oak}),
        ("round.close", {"b": oak, "r": oak_round}),
        ("roles.save", {"b": oak, "keys": [DEV.aad_object_id], "role.0": "clerk"}),
        ("board.setup", {"b": oak}),
    ):
        said = await refused(CLERK, verb, data, **elsewhere)
        assert "can't find that board" in said.text
    said = await refused(CLERK, "board.setup", {"b": oak}, where="channel", **elsewhere)
    assert "can't find that board" in said.text

    # Oak's trustee cannot start Elm's round with its ids put in her own invitation's data.
    said = await refused(ADA, "start", {"b": elm, "r": elm_round})
    assert "you are not among them" in said.text

    # Dev, Oak's other trustee, cannot see Ada's answers: not the round's progress, not its
    # summary before it closes, not her cards with their data replayed in his chat.
    said = await refused(DEV, "round.status", {"b": oak, "r": oak_round})
    assert "Ada Brook" not in said.text
    before = await quiet_state(bot, redis)
    seen = [await click(bot, connector, DEV, "summary.show", {"b": oak, "r": oak_round})]
    hers = {"a": data_of(ada.card, "finish")["a"]}  # her assessment's id, from her own card
    for verb in ("review", "results", "resume", "goto", "finish"):
        seen.append(await click(bot, connector, DEV, verb, hers))
    assert await quiet_state(bot, redis) == before
    for said in seen:
        assert ada_evidence not in said.text and "Ada Brook" not in said.text, said.text
    assert ada_evidence in str(await everything_of(redis, ADA))  # hers, under her keys
    assert ada_evidence not in str(await everything_of(redis, DEV))

    # Once it closes (anonymous), Dev's summary names nobody.
    await click(bot, connector, CLERK, "round.close", {"b": oak, "r": oak_round})
    said = await click(bot, connector, DEV, "summary.show", {"b": oak, "r": oak_round})
    assert "Board heat map" in said.text and "Ada Brook" not in said.text
    # And Elm's round is untouched by all of it.
    assert (await round_hash(redis, elm_round))["status"] == "open"
    assert invitations(connector, BEN) == 1 and invitations(connector, ADA) == 1


async def everything_of(redis: Redis, member: User) -> dict[str, Any]:
    """Whatever Redis keeps under a member's own keys (their answers live there)."""
    return {k: v for k, v in (await everything(redis)).items() if member.aad_object_id in k}


# ---- 9. tampered and stale payloads -------------------------------------------------------------


def inputs_of(card: dict[str, Any] | None) -> dict[str, Any]:
    """The values a card's inputs hold, as the clerk would see them filled in."""
    return {
        str(n["id"]): n.get("value")
        for n in walk(card or {})
        if str(n.get("type", "")).startswith("Input.")
    }


async def test_tampered_and_stale_payloads_change_nothing(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    redis = redis_client
    invited = [CHAIR, ADA, BEN]
    await set_up(bot, connector, CLERK, invited, chair=CHAIR)
    desk = await clerk_desk(bot, connector, CLERK)
    await to_round_form(desk)
    opening = data_of(desk.card, "round.open")
    board = opening["b"]

    async def refused(who: User, verb: str, data: dict[str, Any], inputs: Any = None) -> Said:
        return await refused_unchanged(bot, connector, redis, who, verb, data, inputs)

    # Payloads no real card sends: refused outright.
    for typed in (
        {"elements": [1, 2]},
        {"elements": 7},
        {"elements": "1,99"},
        {"elements": "1;2"},
        {"visibility": "public"},
        {"message": {"text": "hi"}},
    ):
        said = await refused(CLERK, "round.open", opening, form_fields(**typed))
        assert said.text == TAMPERED, (typed, said.text)
    said = await refused(CLERK, "round.open", {**opening, "fw": "nope"}, form_fields())
    assert "I don't know that framework" in said.text

    # Mistakes a clerk can make: the form comes back with what they typed and what to change.
    today = date.today()
    long_message = ("Please read the board papers before we meet. " * 23).strip()
    for typed, notice in (
        ({"min": "0"}, "The fewest responses must be a whole number from 1 to 20."),
        ({"min": "21"}, "The fewest responses must be a whole number from 1 to 20."),
        ({"min": "three"}, "The fewest responses must be a whole number from 1 to 20."),
        ({"deadline": (today - timedelta(days=1)).isoformat()}, "has to be today or later"),
        ({"deadline": "next Tuesday"}, "That deadline isn't a date I can read"),
        ({"deadline": (today + timedelta(days=800)).isoformat()}, "has to be within a year"),
        ({"elements": ""}, "Choose at least one element"),
        ({"message": long_message}, f"is {len(long_message):,} characters; the limit is 1,000."),
    ):
        before = await quiet_state(bot, redis)
        fields = form_fields(**{"elements": "1,3", "min": "2", **typed})
        said = await click(bot, connector, CLERK, "round.open", opening, fields)
        assert await quiet_state(bot, redis) == before, typed
        assert said.card is not None, said.text
        assert notice in said.text and "Nothing has been opened yet." in said.text, said.text
        kept = inputs_of(said.card)
        assert kept["message"] == fields["message"], typed  # all of it, for them to shorten
        if "elements" not in typed:
            assert kept["elements"] == "1,3", typed
        if typed.get("deadline", "").startswith("20"):  # a date, if not an allowed one
            assert kept["deadline"] == typed["deadline"]
        if "message" in typed:  # checked last: everything else was read by then, and kept
            assert (kept["deadline"], str(kept["min"])) == (fields["deadline"], "2")
    assert not [k for k in await redis.keys("*") if ":round:" in k]  # no round was opened
    assert all(invitations(connector, m) == 0 for m in invited)

    # Unknown verbs, and ids of the wrong type or shape.
    for verb in ("round.delete", "plan.discard", "roles.grant", "board.destroy"):
        said = await refused(CLERK, verb, {"b": board})
        assert "isn't one I recognise" in said.text
    for bad in (123, ["x"], "", "x" * 500, None):
        assert (await refused(CLERK, "round.new", {"b": bad})).text == TAMPERED
    for bad_round in (5, None, ["r"]):
        assert (await refused(CLERK, "round.close", {"b": board, "r": bad_round})).text == TAMPERED
    said = await refused(CLERK, "round.close", {"b": board, "r": "../../members"})
    assert "can't find that round" in said.text

    # A roles card tampered with.
    member = ADA.aad_object_id
    for data in (
        {"b": board, "keys": member, "role.0": "chair"},
        {"b": board, "keys": [], "role.0": "chair"},
        {"b": board, "keys": [member], "role.0": "admin"},
        {"b": board, "keys": [member] * 21, **{f"role.{i}": "trustee" for i in range(21)}},
    ):
        assert (await refused(CLERK, "roles.save", data)).text == TAMPERED, data
    said = await refused(
        CLERK, "roles.save", {"b": board, "keys": ["no-such-key"], "role.0": "chair"}
    )
    assert "no longer a member of the board" in said.text

    # A round opens as it should; then its Remind button pressed twice (or the card's data
    # replayed) reminds once.
    await to_round_form(desk)
    round_id = await open_round_here(desk, min="1")
    remind = data_of(desk.card, "round.remind")
    close = data_of(desk.card, "round.close")
    await eventually(lambda: settled(redis, 3), what="invitations")
    said = await click(bot, connector, CLERK, "round.remind", remind)
    assert "Reminder on its way to 3 trustees" in said.text
    await eventually(lambda: settled(redis, 6), what="reminders")
    before = await quiet_state(bot, redis)
    said = await click(bot, connector, CLERK, "round.remind", remind)
    assert "A reminder went out from this card already" in said.text
    assert "Reminders sent by a clerk so far: 1." in said.text
    assert await quiet_state(bot, redis) == before
    for bad in ("one", True, None):
        assert (await refused(CLERK, "round.remind", {**remind, "sent": bad})).text == TAMPERED
    await quiet(bot, redis)  # a second reminder, had one been queued, has been sent by now
    assert [reminders(connector, m) for m in invited] == [1, 1, 1]

    # The chair's priorities: a stale version, and text over the limit.
    for member_ in (ADA, BEN):
        await answer_round(chat_client(bot, connector, member_), ("R",), finish=True)
    assert "Round closed." in (await click(bot, connector, CLERK, "round.close", close)).text
    await eventually(
        lambda: [c for c in personal_cards(connector, CHAIR, "") if "plan.save" in str(c)],
        what="the chair's plan card",
    )
    # The summary goes out in the background: wait for it to be done, so Redis is still.
    await eventually(
        lambda: summary_gone_out(connector, redis, round_id), what="the summary to have gone"
    )
    chair = chat_client(bot, connector, CHAIR)
    plan = data_of(chair.card, "plan.save")
    assert plan["v"] == 0 and plan["r"] == round_id
    said = await click(bot, connector, CHAIR, "plan.save", plan, {"actions.1": "First draft"})
    assert "Draft saved." in said.text

    before = await quiet_state(bot, redis)
    said = await click(bot, connector, CHAIR, "plan.save", plan, {"actions.1": "Other device"})
    assert "changed since this card was sent" in said.text and "nothing was saved" in said.text
    assert inputs_of(said.card)["actions.1"] == "First draft"  # the fresh card
    assert data_of(said.card, "plan.save")["v"] == 1
    too_long = ("Recruit two trustees with finance experience. " * 11).strip()  # 505
    said = await click(
        bot, connector, CHAIR, "plan.save", {**plan, "v": 1}, {"actions.1": too_long}
    )
    assert "the limit is 500" in said.text and "Nothing was saved" in said.text, said.text
    assert inputs_of(said.card)["actions.1"] == too_long  # kept whole, for her to shorten
    said = await click(
        bot, connector, CHAIR, "plan.publish", {**plan, "v": 1}, {"progress.1": too_long}
    )
    assert "Nothing was saved" in said.text
    assert await quiet_state(bot, redis) == before
    for bad in ({"v": "one"}, {"v": True}, {"actions.99": "x"}):
        said = await refused(CHAIR, "plan.save", {**plan, "v": 1, **bad})
        assert said.text == TAMPERED, bad
    assert not [c for _, c in channel_cards(connector) if "agreed by the chair" in words(c)]
    stored = await round_hash(redis, round_id)
    assert stored["plan_version"] == "1" and "First draft" in stored["plan"]


async def test_a_minimum_that_is_not_a_whole_number_sends_the_form_back(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    await set_up(bot, connector, CLERK, [CHAIR, ADA], chair=CHAIR)
    desk = await clerk_desk(bot, connector, CLERK)
    await to_round_form(desk)
    opening = data_of(desk.card, "round.open")
    for typed in ("inf", "1e400", "2.5"):
        before = await quiet_state(bot, redis_client)
        chat = Chat(service_url=connector.url, user=CLERK)
        activity = chat.execute("round.open", opening, "1", form_fields(min=typed))
        status, body = await bot.post(activity)
        assert status == 200, (typed, status, body)
        said = words(body.get("value") if isinstance(body.get("value"), dict) else {})
        assert "must be a whole number from 1 to 20" in said, (typed, said[:200])
        assert await quiet_state(bot, redis_client) == before, typed


async def test_a_refused_field_keeps_the_other_fields_as_typed(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    await set_up(bot, connector, CLERK, [CHAIR, ADA], chair=CHAIR)
    desk = await clerk_desk(bot, connector, CLERK)
    await to_round_form(desk)
    opening = data_of(desk.card, "round.open")
    chosen = (date.today() + timedelta(days=3)).isoformat()
    for typed in ({"min": "0"}, {"elements": ""}):
        fields = form_fields(
            **{"deadline": chosen, "visibility": "attributed", "min": "2", **typed}
        )
        said = await click(bot, connector, CLERK, "round.open", opening, fields)
        assert "Nothing has been opened yet." in said.text
        kept = inputs_of(said.card)
        assert kept["deadline"] == chosen, (typed, kept)
        assert kept["visibility"] == "attributed", (typed, kept)
        if "min" not in typed:
            assert str(kept["min"]) == "2", (typed, kept)


async def test_a_roles_card_with_a_tampered_page_changes_nothing(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    clerk = await set_up(bot, connector, CLERK, [CHAIR, ADA], chair=CHAIR)
    await clerk.click("roles.show")
    roles = data_of(clerk.card, "roles.save")
    # The roles card filled in as a clerk would (Ada chair, Sam a trustee), its page tampered.
    change = {ADA.aad_object_id: "chair", CHAIR.aad_object_id: "trustee"}
    shown = inputs_of(clerk.card).values()
    typed = {
        f"role.{i}": change.get(key, value)
        for i, (key, value) in enumerate(zip(roles["keys"], shown, strict=True))
    }
    said = await refused_unchanged(
        bot, connector, redis_client, CLERK, "roles.save", {**roles, "page": "two"}, typed
    )
    assert said.text == TAMPERED
