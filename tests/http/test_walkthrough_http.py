"""The walkthrough through the real Bot Framework protocol.

Real Activity JSON posted to /api/messages, replies read at a fake connector, state in a real
redis-server. Both frameworks are completed end to end by a real `python -m bot` process, each
with a pause, a restart (graceful, then a hard kill) and a resume; the other tests serve the same
app in-process.
"""

from __future__ import annotations

import json

from redis.asyncio import Redis

from dialogs.store.keys import QUEUE_SHARDS, Keys
from tests.dialogs.cardkit import walk
from tests.http.teams_client import TeamsClient
from tests.support.activities import SAM, Chat, channel
from tests.support.bot_app import BotApp
from tests.support.bot_process import BotProcess
from tests.support.fake_connector import FakeConnector

GOVERNANCE_RATINGS = [
    "AG",
    "G",
    "AG",
    "AR",
    "R",
    "AG",
    "AG",
    "G",
    "AG",
    "AG",
    "G",
    "AR",
    "AG",
    "G",
    "G",
    "AG",
]
TRUSTS_RATINGS = ["AR", "AG", "G", "G", "AG", "R", "AG", "AG", "G", "AR", "G", "AG", "AG", "G"]
TITLES = {"R": "Red", "AR": "Amber Red", "AG": "Amber Green", "G": "Green"}
# Each framework's buttons spell the ratings as its scale list does.
TRUSTS_TITLES = {**TITLES, "AR": "Amber red", "AG": "Amber green"}


async def assessment_hashes(redis: Redis) -> list[dict[str, str]]:
    keys = [k for k in await redis.keys("*:sa:*")]
    return [await redis.hgetall(k) for k in keys]


def restart(client: TeamsClient, redis_url: str, *, hard: bool) -> None:
    old = client.bot
    assert isinstance(old, BotProcess)
    old.kill() if hard else old.stop()
    old.cleanup()
    client.bot = BotProcess({"REDIS_URL": redis_url}).start()


async def test_governance_walkthrough_with_pause_restart_and_resume(
    alex_on_a_process: TeamsClient, redis_client: Redis, redis_url: str
) -> None:
    alex = alex_on_a_process
    await alex.say("hello")
    assert "Board self-assessment" in alex.words()
    await alex.click("start")  # the first framework: trust governance
    assert "Element 1 of 16 · Strategic leadership" in alex.words()

    for number in range(1, 8):
        evidence = f"Evidence for element {number}: minutes of the March board."
        await alex.click("rate", TITLES[GOVERNANCE_RATINGS[number - 1]], evidence=evidence)
    assert "8. Financial frameworks/ accountability" in alex.words()
    await alex.click("pause", via="submit", evidence="Draft: ask the CFO about benchmarking")
    assert "Paused at 8. Financial frameworks/ accountability" in alex.words()
    [saved] = await assessment_hashes(redis_client)
    assert [saved.get(f"r:{n}") for n in range(1, 8)] == GOVERNANCE_RATINGS[:7]

    restart(alex, redis_url, hard=False)
    await alex.say("resume")
    assert "8. Financial frameworks/ accountability" in alex.words()
    assert "7 of 16 rated" in alex.words()
    assert alex.button("rate", "Green")  # a fresh, working card
    draft = _evidence(alex.card)
    assert draft == "Draft: ask the CFO about benchmarking"

    for number in range(8, 17):
        via = "submit" if number % 2 else "execute"
        evidence = "Risk register is reviewed once a year." if number == 12 else ""
        await alex.click(
            "rate", TITLES[GOVERNANCE_RATINGS[number - 1]], via=via, evidence=evidence or None
        )
    assert "Review your answers" in alex.words()
    assert "16 of 16 rated." in alex.words()
    await alex.click("finish")

    words = alex.words()
    assert "Your heat map" in words and "16 of 16 elements rated." in words
    for code in ("R", "AR", "AG", "G"):
        assert code in words.split("\n")
    assert "Collaborative working and civic responsibility (Amber Red)" in words
    assert "Risk management (Red)" in words
    assert "Evidence for element 5: minutes of the March board." in words
    assert "Building an effective team (Amber Red)" in words
    assert "Risk register is reviewed once a year." in words
    [saved] = await assessment_hashes(redis_client)
    assert saved["status"] == "done"
    assert [saved[f"r:{n}"] for n in range(1, 17)] == GOVERNANCE_RATINGS


async def test_strong_trusts_walkthrough_survives_a_killed_process(
    alex_on_a_process: TeamsClient, redis_client: Redis, redis_url: str
) -> None:
    alex = alex_on_a_process
    await alex.say("start strong trusts")
    assert "Element 1 of 14 · Strategic governance" in alex.words()
    for number in range(1, 7):
        await alex.click(
            "rate",
            TRUSTS_TITLES[TRUSTS_RATINGS[number - 1]],
            via="submit",
            evidence=f'Note {number} ✓ "quoted" {{braces}} <b>bold</b>',
        )
    assert "7. Culture of improvement" in alex.words()

    restart(alex, redis_url, hard=True)  # no goodbye: kill -9 mid-assessment
    await alex.say("resume")
    assert "7. Culture of improvement" in alex.words()
    for number in range(7, 15):
        await alex.click("rate", TRUSTS_TITLES[TRUSTS_RATINGS[number - 1]])
    await alex.say("finish")

    words = alex.words()
    assert "Your heat map" in words and "14 of 14 elements rated." in words
    assert "Strategy and culture (Amber Red)" in words
    assert "Inclusion (Red)" in words
    assert 'Note 6 ✓ "quoted" {braces} <b>bold</b>' in words
    assert "Workload and wellbeing (Amber Red)" in words
    [saved] = await assessment_hashes(redis_client)
    assert [saved[f"r:{n}"] for n in range(1, 15)] == TRUSTS_RATINGS
    assert saved["e:1"] == 'Note 1 ✓ "quoted" {braces} <b>bold</b>'


async def test_a_card_that_has_moved_on_is_retired(
    alex: TeamsClient, connector: FakeConnector
) -> None:
    await alex.say("start governance")
    first = alex.card_id
    await alex.say("resume")  # typed: a new card takes over the assessment
    assert alex.card_id != first
    retired = connector.activity(first)
    assert "This card has moved on" in json.dumps(retired)
    assert "Action.Execute" not in json.dumps(retired)


async def test_over_long_evidence_comes_back_unsaved(
    alex: TeamsClient, redis_client: Redis
) -> None:
    await alex.say("start governance")
    note = "x" * 1501
    await alex.click("rate", "Green", via="submit", evidence=note)
    assert "Your note is 1,501 characters; the limit is 1,500" in alex.words()
    assert _evidence(alex.card) == note
    [saved] = await assessment_hashes(redis_client)
    assert "r:1" not in saved and "e:1" not in saved


async def test_install_welcomes_and_remembers_the_chat(
    alex: TeamsClient, redis_client: Redis
) -> None:
    assert await alex.post(alex.chat.bot_added()) == 200
    assert "Board self-assessment" in alex.words()
    [profile_key] = await redis_client.keys("*:profile")
    reference = json.loads(await redis_client.hget(profile_key, "conv"))
    assert reference["conversation"]["id"] == alex.chat.where.id


async def test_in_a_channel_it_asks_for_a_private_chat(
    bot: BotApp, connector: FakeConnector, redis_client: Redis
) -> None:
    board = TeamsClient(
        bot, connector, Chat(service_url=connector.url, user=SAM, conversation=channel())
    )
    await board.say("start governance")
    assert board.card is None
    assert "private chat" in board.texts[0]
    # Nothing of anyone's is stored (the delivery queue's streams and the secret that signs
    # download links are the bot's own).
    streams = {Keys().job_stream(shard) for shard in range(QUEUE_SHARDS)}
    assert set(await redis_client.keys("*")) <= {*streams, "tb:{links}:secret"}
    await board.say("board")
    assert board.card is not None and "Set up this board" in str(board.card)


def _evidence(card: dict | None) -> str:
    return next(n for n in walk(card or {}) if n.get("id") == "evidence")["value"]
