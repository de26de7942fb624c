"""The board follows its team as Teams reports it (issue 11, part 2): people removed from the team
mid-round, people added, the team renamed. Everything goes over HTTP to a real bot process on the
throwaway Redis, with the events shaped as Microsoft documents them (tests/support/team_events.py),
and what each person receives is read at the fake connector.
"""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from tests.boards.scripted import (
    BOARD_TEAM,
    CHAIR,
    CLERK,
    HEAT_MAP,
    answer_round,
    chat_client,
    clerk_desk,
    eventually,
    invitations,
    open_round_here,
    personal_cards,
    reminders,
    roster,
    set_up,
    settled,
    summaries_in_channel,
    team_id,
    words,
)
from tests.dialogs.cardkit import walk
from tests.support.activities import channel, user
from tests.support.bot_http import BotHttp
from tests.support.fake_connector import FakeConnector
from tests.support.team_events import members_added, members_removed, team_renamed

ADA, BEN, CARA, DEV = (user(n) for n in ("Ada Brook", "Ben Carr", "Cara Dunn", "Dev Ellis"))
TEAM = channel(BOARD_TEAM)
CHAIR_LEFT = "has left the board's team"
PLAN = "Priorities for improvement"


async def members(redis: Redis) -> dict[str, str]:
    (key,) = [k async for k in redis.scan_iter("*:members")]
    return await redis.hgetall(key)


async def post(bot: BotHttp, activity: dict[str, Any]) -> None:
    status, _ = await bot.post(activity)
    assert status in (200, 201), status


def rating_button(card: dict[str, Any] | None, rating: str) -> dict[str, Any]:
    found = [
        n
        for n in walk(card or {})
        if n.get("type") == "Action.Execute" and n["data"].get("rating") == rating
    ]
    assert found, f"no {rating} button"
    return found[0]


async def test_the_chair_removed_mid_round_gets_nothing_more_and_the_clerks_stand_in(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    invited = [CHAIR, ADA, BEN]
    await set_up(board_bot, connector, CLERK, invited, chair=CHAIR)
    desk = await clerk_desk(board_bot, connector, CLERK)
    await open_round_here(desk, elements="1,2", visibility="attributed")
    await eventually(lambda: all(invitations(connector, m) for m in invited), what="invitations")
    chair = chat_client(board_bot, connector, CHAIR)
    await answer_round(chair, ("AG",), finish=False)  # one of the two elements rated
    await answer_round(chat_client(board_bot, connector, ADA), ("G", "AR"), finish=True)

    # Teams: the chair is removed from the team.
    connector.set_roster(roster(CLERK, ADA, BEN), conversation_id=team_id())
    await post(board_bot, members_removed(connector.url, TEAM, CLERK, [CHAIR]))

    assert CHAIR.aad_object_id not in await members(redis_client)  # no role on the board
    told = await eventually(
        lambda: personal_cards(connector, CLERK, CHAIR_LEFT), what="the clerk told"
    )
    assert "name a new chair" in words(told[0])
    assert any(n.get("verb") == "roles.show" for n in walk(told[0]))  # Manage roles, right there

    # The chair can no longer answer: the rating is refused and not saved.
    data = rating_button(chair.card, "G")["data"]
    assert await chair.post(chair.chat.execute("rate", data, str(chair.card_id))) == 200
    assert "nothing was changed" in chair.said(), chair.said()

    # A reminder goes to Ben, who is still in the team and has not answered; not to the chair.
    assert await desk.click("round.remind") == 200
    assert "Reminder on its way to 1 trustee " in desk.words(), desk.words()
    await eventually(lambda: reminders(connector, BEN) == 1, what="Ben's reminder")
    # Three invitations, the clerk's notice and one reminder, every one settled.
    await eventually(lambda: settled(redis_client, 5), what="delivery to settle")
    assert reminders(connector, CHAIR) == 0

    # The round card says the chair left, and what they had rated still counts.
    card = desk.words()
    assert "Sam Chair — Left the team on" in card and "1 of 2 rated: those count" in card, card
    assert "of 2 trustees · Left the team: 1" in card, card

    # Closing: the clerk gets the chair's copy (attributed, with the plan); the chair nothing.
    chair_saw = len(personal_cards(connector, CHAIR, ""))
    assert await desk.click("round.close") == 200
    assert len(personal_cards(connector, CHAIR, "")) == chair_saw
    assert not personal_cards(connector, CHAIR, HEAT_MAP)
    assert not personal_cards(connector, CHAIR, PLAN)
    (summary,) = personal_cards(connector, CLERK, HEAT_MAP)
    assert ADA.name in words(summary)  # attributed: names beside evidence, for the clerk only
    assert "1 of 3 trustees (33%)" in words(summary)  # the chair's rating was given as a trustee
    assert personal_cards(connector, CLERK, PLAN)


@pytest.mark.also_on_cluster  # and on a Redis Cluster (tests/conftest.py)
async def test_a_trustee_removed_mid_round_keeps_their_answers_and_shows_as_left(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    invited = [ADA, BEN, CARA]
    await set_up(board_bot, connector, CLERK, invited)
    desk = await clerk_desk(board_bot, connector, CLERK)
    await open_round_here(desk, elements="1")
    await eventually(lambda: all(invitations(connector, m) for m in invited), what="invitations")
    await answer_round(chat_client(board_bot, connector, ADA), ("R",), finish=True)
    await answer_round(chat_client(board_bot, connector, CARA), ("R",), finish=True)
    ben = chat_client(board_bot, connector, BEN)  # on his invitation, not started

    # Ada (who answered) and Ben (who did not) are removed from the team.
    connector.set_roster(roster(CLERK, CARA), conversation_id=team_id())
    await post(board_bot, members_removed(connector.url, TEAM, CLERK, [ADA, BEN]))

    # Ben can no longer start his answers.
    assert await ben.click("start") == 200
    assert "no longer a member of the board's team" in ben.said(), ben.said()

    assert await desk.click("round.status") == 200
    card = desk.words()
    assert "Ada Brook — Left the team on" in card
    assert "having responded: their answers count" in card
    assert "Ben Carr — Left the team on" in card and "before answering" in card
    assert "Responded 1 · In progress 0 · Not started 0 · Unreachable 0 of 1 trustee" in card
    # Nobody is left to remind.
    assert not [n for n in walk(desk.card) if n.get("verb") == "round.remind"]

    assert await desk.click("round.close") == 200
    (summary,) = summaries_in_channel(connector)
    # Ada's rating counts; Ben, who left before answering, is not among those who could respond.
    assert "2 of 2 trustees (100%)" in summary, summary


async def test_someone_added_mid_round_shows_as_joined_after_and_can_be_invited(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    invited = [ADA, BEN]
    await set_up(board_bot, connector, CLERK, invited)
    desk = await clerk_desk(board_bot, connector, CLERK)
    round_id = await open_round_here(desk, elements="1")
    await eventually(lambda: all(invitations(connector, m) for m in invited), what="invitations")

    # Teams: Dev is added to the team. The event carries ids only; his name is in the roster.
    connector.set_roster(roster(CLERK, ADA, BEN, DEV), conversation_id=team_id())
    await post(board_bot, members_added(connector.url, TEAM, CLERK, [DEV]))

    assert (await members(redis_client))[DEV.aad_object_id].startswith("trustee\t")
    assert await desk.click("round.status") == 200
    card = desk.words()
    assert "Joined after the round opened (1)" in card, card
    assert "Dev Ellis — joined the team on" in card
    assert invitations(connector, DEV) == 0  # not invited until the clerk says so

    assert await desk.click("round.invite", "Invite Dev Ellis") == 200
    assert "Invitation on its way to Dev Ellis" in desk.words(), desk.words()
    await eventually(lambda: invitations(connector, DEV) == 1, what="Dev's invitation")
    assert "Joined after the round opened" not in desk.words()
    assert "Dev Ellis — Not started" in desk.words()

    dev = chat_client(board_bot, connector, DEV)
    await answer_round(dev, ("G",), finish=True)
    assert await desk.click("round.close") == 200
    summaries = summaries_in_channel(connector)
    assert summaries and "1 of 3 trustees (33%)" in summaries[-1], summaries
    assert round_id


async def test_the_team_renamed_renames_the_board_on_the_next_invitation(
    board_bot: BotHttp, connector: FakeConnector, redis_client: Redis
) -> None:
    await set_up(board_bot, connector, CLERK, [ADA])
    renamed = "Oak Learning Trust: board of trustees"
    await post(board_bot, team_renamed(connector.url, TEAM, CLERK, renamed))

    desk = await clerk_desk(board_bot, connector, CLERK)
    assert renamed in desk.words()
    await open_round_here(desk, elements="1")
    (invitation,) = await eventually(
        lambda: personal_cards(connector, ADA, "has opened a self-assessment round"),
        what="Ada's invitation",
    )
    assert renamed in words(invitation), words(invitation)
