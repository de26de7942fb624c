"""TeamsGateway (the board logic's Teams port) against the fake Bot Connector."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.config import Settings
from bot.gateway import TeamsGateway
from bot.root import teams_api
from dialogs.boards.ports import Posted, RosterMember, TeamsError
from dialogs.messages import Card, Text
from tests.delivery.conftest import HangingConnector
from tests.support.fake_connector import ADAPTIVE_CARD, FakeConnector, adaptive_cards, error_body
from tests.support.net import LOOPBACK, free_port

BOT_ID = "28:trustboard-local"
TEAM = "19:team-general@thread.tacv2"
TENANT = "tenant-a"
HANG_BOUND = 10.0  # seconds: what "it did not hang" means, whatever the machine's load


def gateway(call_timeout: float = 2.0, **options: Any) -> TeamsGateway:
    settings = Settings(local_mode=True)
    built = teams_api(settings, call_timeout=call_timeout).gateway()
    for name, value in options.items():
        setattr(built, name, value)
    return built


def members(count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"29:user-{n}", "aadObjectId": f"aad-{n}", "name": f"Trustee {n}", "role": "user"}
        for n in range(count)
    ]


def expected(count: int) -> list[RosterMember]:
    return [RosterMember(f"29:user-{n}", f"aad-{n}", f"Trustee {n}") for n in range(count)]


def a_card(title: str = "Round 3 is open") -> Card:
    content = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": title, "wrap": True}],
    }
    return Card(content=content, summary=title)


# -- roster ------------------------------------------------------------------------------------


async def test_a_roster_of_57_is_read_page_by_page(connector: FakeConnector) -> None:
    connector.set_roster(members(57), TEAM)
    roster = await gateway(page_size=20).roster(connector.url, TEAM)

    assert roster == expected(57)
    calls = connector.calls_of("pagedmembers")
    assert [c.conversation_id for c in calls] == [TEAM] * 3
    assert [c.query.get("pageSize") for c in calls] == ["20"] * 3
    assert [c.query.get("continuationToken") for c in calls] == [None, "20", "40"]
    assert connector.calls_of("members") == []


async def test_the_default_page_size_is_100(connector: FakeConnector) -> None:
    connector.set_roster(members(57), TEAM)
    assert await gateway().roster(connector.url, TEAM) == expected(57)
    connector.clear()
    connector.set_roster(members(230), TEAM)
    assert await gateway().roster(connector.url, TEAM) == expected(230)
    calls = connector.calls_of("pagedmembers")
    assert [(c.query.get("pageSize"), c.query.get("continuationToken")) for c in calls] == [
        ("100", None),
        ("100", "100"),
        ("100", "200"),
    ]


async def test_members_without_an_id_are_skipped_and_repeats_kept_once(
    connector: FakeConnector,
) -> None:
    roster = members(5)
    guest = {"id": "29:guest", "name": None}  # guests may have no AAD object id or name
    # A later page repeating a member of an earlier one, as the API says can happen.
    connector.set_roster([*roster[:3], {"name": "No id"}, *roster[3:], guest, roster[1]], TEAM)
    found = await gateway(page_size=3).roster(connector.url, TEAM)
    assert found == [*expected(5), RosterMember("29:guest", "", "")]
    assert len(connector.calls_of("pagedmembers")) == 3


async def test_without_a_paged_route_the_whole_list_is_read(connector: FakeConnector) -> None:
    connector.set_roster(members(57), TEAM)
    connector.fail_next(1, 404, kinds=["pagedmembers"])
    assert await gateway().roster(connector.url, TEAM) == expected(57)
    assert [(c.kind, c.status) for c in connector.calls] == [
        ("pagedmembers", 404),
        ("members", 200),
    ]


async def test_a_refused_roster_is_not_retried_another_way(connector: FakeConnector) -> None:
    body = error_body("BotNotInConversationRoster", "The bot is not part of the conversation.")
    connector.fail_next(1, 403, body=body, kinds=["pagedmembers"])
    with pytest.raises(TeamsError) as refused:
        await gateway().roster(connector.url, TEAM)
    assert refused.value.status == 403
    assert refused.value.code == "BotNotInConversationRoster"
    assert "BotNotInConversationRoster" in refused.value.summary()
    assert [c.kind for c in connector.calls] == ["pagedmembers"]


# -- posting -----------------------------------------------------------------------------------


async def test_post_sends_the_card_into_the_conversation(connector: FakeConnector) -> None:
    card = a_card()
    posted = await gateway().post(connector.url, TEAM, card)

    (call,) = connector.calls_of("send")
    assert call.conversation_id == TEAM and call.ok
    assert posted == Posted(TEAM, call.assigned_id or "")
    assert call.body["type"] == "message"
    assert call.body["summary"] == card.summary
    assert [a["contentType"] for a in call.body["attachments"]] == [ADAPTIVE_CARD]
    assert adaptive_cards(call.body) == [card.content]


async def test_post_sends_text_as_markdown(connector: FakeConnector) -> None:
    posted = await gateway().post(connector.url, TEAM, Text("The round **closes** on Friday."))
    (sent,) = connector.sent(TEAM)
    assert sent["text"] == "The round **closes** on Friday."
    assert sent["textFormat"] == "markdown"
    assert posted.activity == sent["id"]


async def test_update_replaces_the_message_with_the_new_card(connector: FakeConnector) -> None:
    posted = await gateway().post(connector.url, TEAM, a_card("Round 3 is open"))
    closed = a_card("Round 3 is closed")
    await gateway().update(connector.url, TEAM, posted.activity, closed)

    (call,) = connector.calls_of("update")
    assert call.method == "PUT" and call.ok
    assert (call.conversation_id, call.activity_id) == (TEAM, posted.activity)
    assert call.body["id"] == posted.activity
    assert adaptive_cards(call.body) == [closed.content]
    assert adaptive_cards(connector.activity(posted.activity) or {}) == [closed.content]


async def test_personal_creates_the_chat_then_posts_in_it(connector: FakeConnector) -> None:
    card = a_card("Your ratings for round 3")
    posted = await gateway().personal(connector.url, TENANT, "29:user-7", card)

    (create,) = connector.calls_of("create")
    assert create.body["isGroup"] is False
    assert create.body["bot"]["id"] == BOT_ID
    assert create.body["members"] == [{"id": "29:user-7"}]
    assert create.body["tenantID"] == TENANT
    assert create.body["channelData"] == {"tenant": {"id": TENANT}}
    (send,) = connector.calls_of("send")
    assert send.conversation_id == create.conversation_id
    assert posted == Posted(create.conversation_id or "", send.assigned_id or "")
    assert adaptive_cards(send.body) == [card.content]
    assert [c.kind for c in connector.calls] == ["create", "send"]


# -- failures ----------------------------------------------------------------------------------


async def test_a_block_is_a_403(connector: FakeConnector) -> None:
    connector.block(1, kinds=["send"])
    with pytest.raises(TeamsError) as refused:
        await gateway().personal(connector.url, TENANT, "29:user-1", Text("hello"))
    assert refused.value.status == 403
    assert refused.value.code == "ConversationBlockedByUser"
    assert "ConversationBlockedByUser" in refused.value.summary()


async def test_throttling_is_a_429_with_its_retry_after(connector: FakeConnector) -> None:
    connector.throttle(1, retry_after=7, kinds=["send"])
    with pytest.raises(TeamsError) as throttled:
        await gateway().post(connector.url, TEAM, a_card())
    assert throttled.value.status == 429
    assert (throttled.value.code, throttled.value.retry_after) == ("Throttled", 7.0)


@pytest.mark.parametrize(
    ("kind", "status"),
    [("update", 404), ("update", 500), ("update", 502), ("pagedmembers", 503), ("send", 504)],
)
async def test_other_statuses_come_through(
    connector: FakeConnector, kind: str, status: int
) -> None:
    # GET and PUT too: urllib3 would turn a 5xx into "too many error responses", status lost.
    connector.fail_next(1, status, kinds=[kind])
    teams = gateway()
    with pytest.raises(TeamsError) as refused:
        if kind == "update":
            await teams.update(connector.url, TEAM, "1234", a_card())
        elif kind == "pagedmembers":
            await teams.roster(connector.url, TEAM)
        else:
            await teams.post(connector.url, TEAM, a_card())
    assert refused.value.status == status
    assert len(connector.calls) == 1  # no retry of the client's own


async def test_a_hanging_connector_times_out_with_no_status() -> None:
    async with HangingConnector() as hanging:
        hanging.hang(1, kinds=["pagedmembers"])
        # A bound far above the 0.3 s asked for: a call that ignored it would hang here for
        # ever, not just be slow on a busy machine.
        with pytest.raises(TeamsError) as late:
            async with asyncio.timeout(HANG_BOUND):
                await gateway(call_timeout=0.3).roster(hanging.url, TEAM)
        # The call was given up on; its request goes on from the client's thread and, on a busy
        # machine, may reach the connector only now.
        while not hanging.hung:
            await asyncio.sleep(0.01)
    assert late.value.status is None
    assert "no answer within 0.3 s" in str(late.value)
    assert hanging.hung == 1


async def test_the_gateways_bound_says_what_happened_even_when_the_loop_was_held_up() -> None:
    """The roster is read from a thread, which has a timeout of its own (requests'). On a loaded
    machine the event loop can be held up past both; the thread's read timeout must not be what
    the clerk's error reports (a "connection problem"), but the gateway's own bound."""
    async with HangingConnector() as hanging:
        hanging.hang(1, kinds=["pagedmembers"])
        call = asyncio.create_task(gateway(call_timeout=0.3).roster(hanging.url, TEAM))
        while not hanging.hung:  # the request is at the connector, unanswered
            await asyncio.sleep(0.01)
        time.sleep(0.6)  # the event loop held up, as by other work on a busy machine
        with pytest.raises(TeamsError) as late:
            await call
    assert late.value.status is None
    assert "no answer within 0.3 s" in str(late.value), str(late.value)


async def test_nobody_listening_is_an_error_with_no_status() -> None:
    nowhere = f"http://{LOOPBACK}:{free_port()}/"
    with pytest.raises(TeamsError) as refused:
        await gateway().post(nowhere, TEAM, Text("hello"))
    assert refused.value.status is None
