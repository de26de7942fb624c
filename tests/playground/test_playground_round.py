"""A whole board round through Microsoft's Teams emulator, the Agents Playground.

The Playground runs the board's mock tenant (deploy/playground/board.yml): Helen Whitfield, the
current user, sets the board up in its channel and clerks it; Richard Ashworth chairs it; Amara
Okafor, Gareth Llewellyn and Fiona MacLeod are trustees; Siobhan Doyle, the chief executive, is
not on the board. Everyone presses buttons as themselves; the test reads the channel and the
clerk's chat as the Playground shows them, and the others' 1:1 chats from the Playground's log
(the Playground keeps them but never shows them). Skipped (with the reason) where Node.js is
missing; CI machines have it.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from tests.support.bot_process import BotProcess
from tests.support.playground import (
    BOARD_CONFIG,
    Member,
    Message,
    Playground,
    PlaygroundTeam,
    install,
)

pytestmark = [
    pytest.mark.npm,
    pytest.mark.skipif(
        shutil.which("node") is None, reason="the Agents Playground needs Node.js and npm"
    ),
]
TITLES = {"R": "Red", "AR": "Amber Red", "AG": "Amber Green", "G": "Green"}
ROLES = {"Helen Whitfield": "clerk", "Richard Ashworth": "chair", "Siobhan Doyle": "other"}
# Elements 1-3 of the trust governance framework. Three finish; Fiona stops after two.
RATINGS = {
    "Richard Ashworth": ("AR", "G", "AG"),
    "Amara Okafor": ("AG", "R", "G"),
    "Gareth Llewellyn": ("AR", "AG", "G"),
    "Fiona MacLeod": ("R", "AG"),
}


@pytest.fixture
def bot(redis_client: Redis, redis_url: str) -> Iterator[BotProcess]:
    with BotProcess({"REDIS_URL": redis_url}) as process:
        yield process


@pytest.fixture
async def team(bot: BotProcess, tmp_path: Path) -> AsyncIterator[PlaygroundTeam]:
    playground = Playground(
        install(), bot.messages_url, tmp_path / "playground", config=BOARD_CONFIG
    ).start()
    # No keep-alive: Node closes idle connections after 5 s, and a request sent on one just as it
    # closes fails with ServerDisconnectedError.
    connector = aiohttp.TCPConnector(force_close=True)
    try:
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            PlaygroundTeam(session, playground.url) as t,
        ):
            yield t
    finally:
        playground.stop()


def card(answer: Message | str) -> Message:
    assert isinstance(answer, Message), f"the bot answered with text: {answer}"
    return answer


def board_line(summary: str, element: str) -> str:
    """The "Board: …" line (rating, then how many rated R, AR, AG, G) under an element."""
    lines = summary.splitlines()
    return next(line for line in lines[lines.index(element) :] if line.startswith("Board:"))


async def set_up(team: PlaygroundTeam) -> Message:
    """The bot joins the channel, Helen sets the board up and names its roles."""
    helen = team.me
    # deploy/playground/board.yml, as the Playground loaded it
    assert team.team_name == "Oak Learning Trust board" and len(team.members) == 6
    assert helen.name == "Helen Whitfield"
    await team.add_bot()
    setup = await team.card_in(team.channel, "Whoever sets up the board becomes its clerk")
    board = card(await helen.click(setup, "board.setup"))
    assert "you are its clerk. I found 6 members" in board.words()

    roles = card(await helen.click(board, "roles.show"))
    keys = roles.button("roles.save")["data"]["keys"]  # members' Entra object ids, in page order
    names = {m.aad_object_id: m.name for m in team.members.values()}
    assert sorted(names[key] for key in keys) == sorted(team.members)
    chosen = {f"role.{i}": ROLES.get(names[key], "trustee") for i, key in enumerate(keys)}
    assert "Roles saved" in card(await helen.click(roles, "roles.save", **chosen)).words()

    # Typed in the channel: "@trustboard board" posts the board's card afresh, as it is now (the
    # one before says it has moved on, tests/boards/test_board_views_http.py): one live card.
    await team.post_mention("board")
    board = await team.card_in(team.channel, "Chair: Richard Ashworth")
    assert "4 trustees (the chair included) and 2 other members" in board.words()
    # As posted it is everyone's; Helen, a clerk, gets her buttons by refresh or My options.
    if not board.buttons("round.new"):
        board = card(await helen.click(board, "board.show"))
    assert board.buttons("round.new")
    return board


async def open_round(team: PlaygroundTeam, board: Message) -> Message:
    helen = team.me
    choose = card(await helen.click(board, "round.new"))
    governance = next(
        b for b in choose.buttons("round.form") if b["data"]["fw"] == "cst-trust-governance"
    )
    form = card(await helen.press(choose, governance))
    assert "Open a round" in form.words()
    deadline = (date.today() + timedelta(days=14)).isoformat()
    opened = card(
        await helen.click(
            form,
            "round.open",
            elements="1,2,3",
            deadline=deadline,
            visibility="anonymous",
            min="3",
            message="Please answer before the December board meeting.",
        )
    )
    assert "Round opened" in opened.words() and "3 of 16 elements: 1, 2, 3" in opened.words()
    await team.card_in(team.channel, "Round open")  # the board card, updated for everyone
    # The announcement goes out through the outbox apart from the card: it may come after it.
    await team.wait_for(
        lambda: any("round on Improvement capacity" in m.text for m in team.shown_in(team.channel)),
        "the round's announcement in the channel",
    )
    # The round card goes to the clerk's own 1:1 chat: the Playground shows it.
    return await team.card_in(team.personal_chat, "0 of 4 trustees")


async def answer(member: Member, ratings: tuple[str, ...], finish: bool, submit: int = -1) -> None:
    """A trustee starts from the invitation in their 1:1 chat and rates element by element.

    The rating at index `submit` goes as Action.Submit (a message; the bot updates the card)."""
    element = card(await member.click_in_chat("start"))
    assert "Board round: Oak Learning Trust board" in element.words()
    for index, code in enumerate(ratings):
        evidence = f"Seen in the minutes: {TITLES[code]}"
        if index == submit:
            element = await member.submit(element, "rate", TITLES[code], evidence=evidence)
        else:
            element = card(await member.click(element, "rate", TITLES[code], evidence=evidence))
    if finish:
        assert "Every element now has a rating" in element.words()
        done = card(await member.click(element, "finish"))
        assert "your answers are in the board's round" in done.words()


async def test_a_board_round_in_the_playground(team: PlaygroundTeam) -> None:
    board = await set_up(team)
    round_card = await open_round(team, board)
    assert "Not started 4" in round_card.words()

    # Invitations went to the chair and the three trustees, each in a 1:1 chat the Playground
    # created for them; none to Siobhan (not on the board) or to Helen (the clerk).
    invited = ["Richard Ashworth", "Amara Okafor", "Gareth Llewellyn", "Fiona MacLeod"]
    for name in invited:
        await team.member(name).chat()
    assert team.member("Siobhan Doyle").id not in team.chats
    assert team.me.id not in team.chats or team.chats[team.me.id] == team.personal_chat

    for name, ratings in RATINGS.items():
        submit = 1 if name == "Gareth Llewellyn" else -1
        await answer(team.member(name), ratings, finish=len(ratings) == 3, submit=submit)

    # Helen's round card, in her chat, kept up to date as answers arrive (each update waits
    # half a second for more, so wait for the one after Fiona's second rating).
    round_card = await team.card_in(team.personal_chat, "Fiona MacLeod — In progress (2 of 3")
    assert "Responded 3 · In progress 1 · Not started 0" in round_card.words()

    closed = card(await team.me.click(round_card, "round.close"))
    assert "Round closed" in closed.words()
    summary = (await team.card_in(team.channel, "Board heat map")).words()
    assert "Response rate: 3 of 4 trustees (75%). 1 more was in progress" in summary
    # Board rating: the middle rating, the weaker of the two middle ones for an even count.
    # 1. Setting direction: AR AG AR R → AR; views differ by two steps (R and AG).
    assert board_line(summary, "1. Setting direction") == "Board: AR · R 1 · AR 2 · AG 1 · G 0"
    # 2. Culture, values and ethos: G R AG AG → AG.
    assert (
        board_line(summary, "2. Culture, values and ethos") == "Board: AG · R 1 · AR 0 · AG 2 · G 1"
    )
    # 3. Decision-making: AG G G (Fiona did not get to it) → G.
    assert board_line(summary, "3. Decision-making") == "Board: G · R 0 · AR 0 · AG 1 · G 2"
    # The draft priorities: the AR element, and both where views differ.
    assert "Setting direction (Amber Red; views differ)" in summary
    assert "Culture, values and ethos (Amber Green; views differ)" in summary
    assert "Decision-making (G)" not in summary
    # As posted the channel's copy quotes no evidence: Siobhan, not a trustee, sees it as it is;
    # Teams shows the key issues to the board's trustees, chair and clerk.
    assert "Seen in the minutes" not in summary
    assert "are shown to the board's trustees, chair and clerks" in summary
    assert not any(name in summary for name in team.members)

    # The chair has the summary and the draft priorities in his chat, and publishes them.
    richard = team.member("Richard Ashworth")
    plan = {"actions.1": "A strategy away-day in January", "progress.1": "A strategy agreed"}
    # One of the two priorities has no plan yet: Publish asks first, then goes ahead.
    asked = card(await richard.click_in_chat("plan.publish", **plan))
    assert "1 priority has no plan yet (2. Culture, values and ethos)" in asked.words()
    published = card(await richard.click(asked, "plan.publish", **plan))
    assert "Published to the board's channel" in published.words()
    agreed = (await team.card_in(team.channel, "A strategy away-day in January")).words()
    assert "Priorities for improvement, agreed by the chair" in agreed
    assert not any(name in agreed for name in team.members)
