"""Who may do what with a learning set, across tenants, and what forged ids do: nothing.

Three trusts in three Entra tenants and a facilitator in a fourth, on one bot served over HTTP.
Every set action is posted as the Action.Execute invoke Teams sends, with the data a real card
carries (a forged payload is a real one with a field changed). A refusal must be polite, say
that nothing was changed, and leave Redis exactly as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.app import DESK
from tests.boards.test_board_permissions import Said, click
from tests.sets.trusts import (
    ASH,
    CST_TENANT,
    ELM,
    FACILITATOR,
    FRAMEWORK,
    OAK,
    Running,
    create_set,
    join,
    running_set,
)
from tests.support.activities import User
from tests.support.bot_app import BotApp, StartBot
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector
from tests.support.quiet import changes, quiet_state

FAST = {"DELIVERY_CLAIM_IDLE": "2", "DELIVERY_ATTEMPT_TIMEOUT": "3"}
TAMPERED = "That card's details don't look right, so nothing was changed."
NOT_YOURS = "I can't find that learning set among yours, so nothing was changed."

# Who clicks, in which tenant, naming which board on the card (None: the facilitator's card).
ROLES: dict[str, tuple[User, str, str | None]] = {
    "facilitator": (FACILITATOR, CST_TENANT, None),
    "member chair": (OAK.chair, OAK.tenant, OAK.team_id),
    "member clerk": (OAK.clerk, OAK.tenant, OAK.team_id),
    "member trustee": (OAK.trustees[0], OAK.tenant, OAK.team_id),
    "non-member chair": (ASH.chair, ASH.tenant, ASH.team_id),
    # Oak's chair's very ids, in another tenant, with Oak's card: not Oak's chair there.
    "another tenant": (OAK.chair, ASH.tenant, OAK.team_id),
}
ACTIONS = (
    "set.show",
    "set.code.new",
    "set.code.withdraw",
    "set.offer",
    "set.share",
    "set.vote",
    "set.focus",
    "set.compare",
    "set.round",
    "set.send",
    "set.leave",
    "set.close",
    "set.join",
    "set.list",
    "set.new",
    "set.create",
    "review.new",
    "review.ask",
)
ANYONE = {"set.list", "set.new", "set.create"}  # one's own sets; a set of one's own
ALLOWED = {
    "facilitator": {
        "set.show",
        "set.code.new",
        "set.code.withdraw",
        "set.focus",
        "set.compare",
        "set.send",
        "set.close",
        *ANYONE,
    },
    "member chair": {
        "set.show",
        "set.offer",
        "set.share",
        "set.vote",
        "set.compare",
        "set.leave",
        "set.join",
        "review.new",
        "review.ask",
        *ANYONE,
    },
    "member clerk": {
        "set.show",
        "set.vote",
        "set.compare",
        "set.round",
        "set.leave",
        "set.join",
        *ANYONE,
    },
    "member trustee": ANYONE,
    "non-member chair": {"set.join", *ANYONE},
    "another tenant": ANYONE,
}
LOOKING = (
    "set.show",
    "set.compare",
    "set.offer",
    "set.round",
    "set.list",
    "set.new",
    "review.new",
)  # allowed and changing nothing: tried too


@pytest.fixture
async def bot(bot_app_with: StartBot) -> BotApp:
    return await bot_app_with(FAST)


async def focused(bot: BotApp, connector: FakeConnector) -> Running:
    """The running set, with its focus chosen by the facilitator."""
    running = await running_set(bot, connector)
    fay = running.facilitator
    assert await fay.say("sets") == 200
    assert await fay.click("set.show") == 200
    assert await fay.click("set.focus", focus="1,5,16") == 200
    assert "chosen by the facilitator" in fay.words()
    await bot.app[DESK].settle()  # the clerks' round cards, refreshed after the answers
    return running


def payload(running: Running, verb: str, board: str | None) -> tuple[dict, dict]:
    """(the button's data, the inputs typed with it) as the role's own card would post them."""
    data: dict[str, Any] = {"s": running.set_id}
    if board is not None:
        data["b"] = board
    inputs: dict[str, Any] = {}
    if verb in ("set.list", "set.new"):
        data = {}
    elif verb == "set.create":
        data, inputs = {}, {"name": "A set of my own", "fw": FRAMEWORK, "named": "unnamed"}
    elif verb == "review.ask":
        data["fw"] = FRAMEWORK
        inputs.update(elements="1,5", reviewer="B")
    if verb == "set.share":
        data.update(src="round", ref=running.rounds[OAK.name])
    elif verb == "set.vote":
        inputs["vote"] = "1,5,16"
    elif verb == "set.focus":
        inputs["focus"] = "1,5,15"
    elif verb == "set.join":
        data = {"code": running.code, **({"b": board} if board else {})}
    return data, inputs


async def refused(
    bot: BotHttp,
    connector: FakeConnector,
    redis: Redis,
    who: User,
    tenant: str,
    verb: str,
    data: Mapping[str, Any],
    inputs: Mapping[str, Any] | None = None,
    *,
    counted: bool = False,
    **where: Any,
) -> Said:
    """Refused, and Redis as it was; `counted`: but for the count of wrong join codes the person
    tried this hour (that count is what stops codes being guessed)."""
    before = await _state(bot, redis, counted)
    said = await click(bot, connector, who, verb, data, inputs, tenant=tenant, **where)
    assert said.refused, f"{who.name} ({tenant[:4]}) {verb}: not refused: {said.text[:300]}"
    after = await _state(bot, redis, counted)
    assert after == before, f"{who.name} {verb} changed Redis: {changes(before, after)}"
    return said


async def _state(bot: BotHttp, redis: Redis, counted: bool) -> dict[str, Any]:
    found = await quiet_state(bot, redis)
    return {k: v for k, v in found.items() if not (counted and k.endswith(":setcodes"))}


async def test_every_role_against_every_set_action(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await focused(bot, connector)
    tried = 0
    for role, (who, tenant, board) in ROLES.items():
        for verb in ACTIONS:
            data, inputs = payload(running, verb, board)
            if verb in ALLOWED[role]:
                if verb in LOOKING:
                    said = await click(bot, connector, who, verb, data, inputs, tenant=tenant)
                    assert not said.refused and said.card is not None, (role, verb, said.text)
                continue
            await refused(bot, connector, redis_client, who, tenant, verb, data, inputs)
            tried += 1
    assert tried == len(ROLES) * len(ACTIONS) - sum(len(a) for a in ALLOWED.values())


async def test_what_each_viewer_sees_of_the_set(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await focused(bot, connector)
    facilitator = await click(
        bot, connector, FACILITATOR, "set.show", {"s": running.set_id}, tenant=CST_TENANT
    )
    assert "Join code:" in facilitator.text
    assert "Oak Learning Trust: shared the board's round" in facilitator.text
    assert "Elm Academies: not shared yet" in facilitator.text
    clerk = await click(
        bot,
        connector,
        ELM.clerk,
        "set.show",
        {"s": running.set_id, "b": ELM.team_id},
        tenant=ELM.tenant,
    )
    assert "Join code" not in clerk.text and running.code not in clerk.text
    assert "Trust A: shared the board's round" in clerk.text
    assert "Trust B (your board): not shared yet" in clerk.text
    assert "Oak Learning Trust" not in clerk.text
    compared = await click(
        bot,
        connector,
        ELM.clerk,
        "set.compare",
        {"s": running.set_id, "b": ELM.team_id},
        tenant=ELM.tenant,
    )
    assert "Trust A: Red (first share)" in compared.text
    assert "Trust B (your board): not shared" in compared.text


async def test_forged_set_ids_board_ids_and_tenants_change_nothing(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await focused(bot, connector)
    oak_chair = (OAK.chair, OAK.tenant)
    s = running.set_id
    # A set id that is no set, or not one at all.
    for verb in ("set.show", "set.vote", "set.leave", "set.close", "set.share"):
        data, inputs = payload(running, verb, OAK.team_id)
        said = await refused(
            bot, connector, redis_client, *oak_chair, verb, {**data, "s": "f" * 16}, inputs
        )
        assert NOT_YOURS in said.text
        for forged in ("F" * 16, s[:12], s + "0", "../" + s, 42, [s], None):
            said = await refused(
                bot, connector, redis_client, *oak_chair, verb, {**data, "s": forged}, inputs
            )
            assert TAMPERED in said.text, (forged, said.text)
    # Another set of the same facilitator, which Oak is not in.
    _, other_set, _ = await create_set(bot, connector, name="Another set")
    for verb in ("set.show", "set.vote", "set.leave", "set.offer"):
        data, inputs = payload(running, verb, OAK.team_id)
        await refused(
            bot, connector, redis_client, *oak_chair, verb, {**data, "s": other_set}, inputs
        )
    # Board ids: a member board of another tenant, a non-member board, a board id that is none.
    for board in (ELM.team_id, ASH.team_id, "19:nobody@thread.tacv2", "x" * 401):
        for verb in ("set.show", "set.vote", "set.leave", "set.offer", "set.compare"):
            data, inputs = payload(running, verb, board)
            await refused(bot, connector, redis_client, *oak_chair, verb, data, inputs)
    # Tenants: Elm's clerk saying they are in Oak's tenant; Oak's chair in Elm's.
    for who, tenant, board in (
        (ELM.clerk, OAK.tenant, ELM.team_id),
        (OAK.chair, ELM.tenant, OAK.team_id),
        (OAK.chair, ELM.tenant, ELM.team_id),
    ):
        for verb in ("set.show", "set.vote", "set.leave", "set.share", "set.compare"):
            data, inputs = payload(running, verb, board)
            await refused(bot, connector, redis_client, who, tenant, verb, data, inputs)
    # The facilitator's own tenant and id, but another tenant's activity: not the facilitator.
    for verb in ("set.close", "set.code.new", "set.send", "set.focus"):
        data, inputs = payload(running, verb, None)
        await refused(bot, connector, redis_client, FACILITATOR, OAK.tenant, verb, data, inputs)
    # What is shared: another board's round, a round that is none, a result of another kind.
    share = {"s": s, "b": OAK.team_id, "src": "round"}
    for ref in (running.rounds[ELM.name], "0" * 12):
        await refused(bot, connector, redis_client, *oak_chair, "set.share", {**share, "ref": ref})
    for forged in ({"src": "self", "ref": "0" * 12}, {"src": "evidence"}, {"ref": "../x"}):
        data = {**share, "ref": running.rounds[OAK.name], **forged}
        await refused(bot, connector, redis_client, *oak_chair, "set.share", data)
    # Keys nobody expects: tampering.
    data = {"s": s, "b": OAK.team_id, "role": "facilitator"}
    said = await refused(bot, connector, redis_client, *oak_chair, "set.show", data)
    assert TAMPERED in said.text
    # A verb that is no set verb, and a set verb clicked in a team's channel.
    await refused(bot, connector, redis_client, *oak_chair, "set.nope", {"s": s})
    said = await refused(
        bot,
        connector,
        redis_client,
        *oak_chair,
        "set.show",
        {"s": s, "b": OAK.team_id},
        where="channel",
        team=OAK.team,
    )
    assert "never in a channel" in said.text


async def test_forged_withdrawn_and_guessed_codes_admit_nobody(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await focused(bot, connector)
    ash = (ASH.chair, ASH.tenant)
    for code in ("ABCD-EFGH", "kq7m", "' OR 1=1 --", "", "A" * 41):
        data = {"code": code, "b": ASH.team_id}
        await refused(bot, connector, redis_client, *ash, "set.join", data, counted=True)
    wrong = await redis_client.keys("*:setcodes")
    assert len(wrong) == 1 and await redis_client.get(wrong[0]) == "1"  # one well-formed guess
    # The right code, but naming a board of another tenant, or one the person does not chair.
    for board in (OAK.team_id, "19:nobody@thread.tacv2"):
        await refused(
            bot, connector, redis_client, *ash, "set.join", {"code": running.code, "b": board}
        )
    # Withdrawn: nobody joins with it, not even with the code the card showed.
    fay = running.facilitator
    assert await fay.click("set.code.withdraw") == 200
    assert "Join code withdrawn" in fay.words()
    await refused(
        bot, connector, redis_client, *ash, "set.join", {"code": running.code}, counted=True
    )
    # A new code works; the old one still does not.
    assert await fay.click("set.code.new") == 200
    new = fay.words().split("New join code: ", 1)[1][:9]
    await refused(
        bot, connector, redis_client, *ash, "set.join", {"code": running.code}, counted=True
    )
    assert "Ash Schools Trust joined" in await join(bot, connector, ASH.chair, ASH.tenant, new)
    # Too many wrong codes in an hour: refused, even the right one.
    for _ in range(10):
        await click(bot, connector, ELM.chair, "set.join", {"code": "ZZZZ-ZZZZ"}, tenant=ELM.tenant)
    said = await refused(
        bot, connector, redis_client, ELM.chair, ELM.tenant, "set.join", {"code": new}
    )
    assert "Too many wrong join codes" in said.text


async def test_a_review_code_is_taken_up_only_from_outside_the_reviewed_board(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    running = await focused(bot, connector)
    asked = await click(
        bot,
        connector,
        OAK.chair,
        "review.ask",
        {"s": running.set_id, "b": OAK.team_id, "fw": FRAMEWORK},
        {"elements": "1,5", "reviewer": "code"},
        tenant=OAK.tenant,
    )
    code = asked.text.split("invitation code for your peer review: ", 1)[1][:9]
    # Oak's own people cannot review Oak: refused, nothing changed, not counted as a guess.
    for who in (OAK.chair, OAK.clerk, OAK.trustees[0]):
        said = await refused(
            bot, connector, redis_client, who, OAK.tenant, "review.accept", {"code": code}
        )
        assert "you are one of its members" in said.text, said.text
    # Someone outside the board takes it up; then it admits nobody else.
    taken = await click(
        bot, connector, FACILITATOR, "review.accept", {"code": code}, tenant=CST_TENANT
    )
    assert "Rate Oak Learning Trust's board" in taken.text, taken.text
    for who, tenant in ((ASH.chair, ASH.tenant), (ELM.clerk, ELM.tenant)):
        await refused(
            bot, connector, redis_client, who, tenant, "review.accept", {"code": code}, counted=True
        )
