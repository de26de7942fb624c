"""A whole self-assessment through Microsoft's own Teams emulator, the Agents Playground.

The playground posts to the bot as Teams does and shows the bot's messages and card updates in
its chat; the test reads that chat, so it checks what a trustee would see. Skipped (with the
reason) where Node.js is missing; CI machines have it.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from tests.support.bot_process import BotProcess
from tests.support.playground import Playground, PlaygroundUser, install

pytestmark = [
    pytest.mark.npm,
    pytest.mark.skipif(
        shutil.which("node") is None, reason="the Agents Playground needs Node.js and npm"
    ),
]
TITLES = {"R": "Red", "AR": "Amber Red", "AG": "Amber Green", "G": "Green"}


@pytest.fixture
def bot(redis_client: Redis, redis_url: str) -> Iterator[BotProcess]:
    with BotProcess({"REDIS_URL": redis_url}) as process:
        yield process


@pytest.fixture
async def user(bot: BotProcess, tmp_path: Path) -> AsyncIterator[PlaygroundUser]:
    playground = Playground(install(), bot.messages_url, tmp_path / "playground").start()
    try:
        # A connection per request: Node closes idle keep-alives after 5 s, and the restart in
        # the walkthrough can take longer on a busy machine (the next post met a closed one).
        connector = aiohttp.TCPConnector(force_close=True)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            PlaygroundUser(session, playground) as user,
        ):
            yield user
    finally:
        playground.stop()


async def test_a_trustee_completes_trust_governance_in_the_playground(
    user: PlaygroundUser, bot: BotProcess, redis_url: str
) -> None:
    await user.say("hello")
    assert "Board self-assessment" in user.words()
    await user.click("start")
    assert "Element 1 of 16 · Strategic leadership" in user.words()

    ratings = ["AG", "G", "R", "AR", "G", "AG", "AG", "G", "AG", "G", "AG", "AR", "G", "G", "AG"]
    for code in ratings[:5]:
        await user.click("rate", TITLES[code], evidence=f'Board minutes say "{code}" {{ok}} 😀')
    await user.submit("pause", evidence="Draft for element 6")
    assert "Paused at 6. Educational improvement" in user.words()

    bot.stop()  # the trustee comes back after a restart, as after a deployment
    restarted = BotProcess({"REDIS_URL": redis_url}, port=bot.port).start()
    try:
        await user.say("resume")
        assert "Element 6 of 16" in user.words() and "5 of 16 rated" in user.words()
        assert user.input_value("evidence") == "Draft for element 6"
        for number, code in enumerate(ratings[5:], start=6):
            if number % 2:
                await user.submit("rate", TITLES[code])
            else:
                await user.click("rate", TITLES[code])
        await user.say("G the self-review is annual")  # typed, for element 16
        assert "Every element now has a rating" in user.words()
        await user.click("finish")
    finally:
        restarted.cleanup()

    results = user.words()
    assert "Your heat map" in results and "16 of 16 elements rated." in results
    assert "Collaborative working and civic responsibility (Amber Red)" in results
    assert 'Board minutes say "AR" {ok} 😀' in results
    # One Red and two Amber Red rows, the board's two columns of each said once to be its to fill.
    assert results.count("Decision-making (Red)") == 1
    assert results.count("(Amber Red)") == 2
    assert results.count("For the board to agree") == 1
