"""A trustee sees what is kept about them and can delete it all; nobody else's data moves."""

from __future__ import annotations

from dialogs.engine import Walkthrough
from dialogs.state import Who
from tests.dialogs.test_engine import ANN, Trustee, stored
from tests.support.redis_state import everything

BEN = Who("tenant-a", "aad-ben", "Ben")
ANN_ELSEWHERE = Who("tenant-b", ANN.user, "Ann")


async def _answer_some(trustee: Trustee) -> None:
    await trustee.say("start governance")
    await trustee.say("AR minutes show the board rarely challenges the budget")
    await trustee.say("G")


async def test_my_data_lists_each_assessment_with_its_counts(ann: Trustee) -> None:
    await _answer_some(ann)
    reply = await ann.say("my data")
    text = reply.texts()[0]
    assert "Improvement capacity" in text or "governance" in text.lower()
    assert "2 ratings and 1 note of evidence" in text
    assert "forget me" in text


async def test_my_data_with_nothing_kept_says_so(ann: Trustee) -> None:
    reply = await ann.say("my data")
    assert "keep nothing about you" in reply.texts()[0]


async def test_forget_me_asks_first_and_changes_nothing_until_confirmed(ann: Trustee) -> None:
    await _answer_some(ann)
    before = await stored(ann.engine)
    await ann.say("forget me")
    assert ann.card is not None and "Delete my data" in str(ann.card)
    assert await stored(ann.engine) == before
    await ann.press("help")  # "Keep it"
    assert await stored(ann.engine) == before


async def test_forget_me_deletes_everything_of_that_trustee_only(engine: Walkthrough) -> None:
    ann, ben, ann_b = Trustee(engine), Trustee(engine, BEN), Trustee(engine, ANN_ELSEWHERE)
    for trustee in (ann, ben, ann_b):
        await _answer_some(trustee)
    await ann.say("pause")
    await ann.say("start strong trusts")
    others_before = {
        k: v for k, v in (await everything(engine.store.redis)).items() if "aad-ann" not in k
    }
    await ann.say("forget me")
    reply = await ann.press("forget.confirm")
    assert "deleted everything" in reply.texts()[0]
    after = await everything(engine.store.redis)
    ann_keys = [k for k in after if "t:tenant-a:u:aad-ann" in k]
    assert ann_keys == []
    # Ben, and Ann's own data in another tenant, are untouched.
    assert {k: v for k, v in after.items() if "aad-ann" not in k} == others_before
    assert any("t:tenant-b:u:aad-ann" in k for k in after)
    assert "keep nothing about you" in (await ann.say("my data")).texts()[0]


async def test_a_tampered_forget_button_from_typed_text_deletes_nothing(ann: Trustee) -> None:
    await _answer_some(ann)
    before = await stored(ann.engine)
    reply = await ann.say("forget.confirm")
    assert reply.texts() and await stored(ann.engine) == before
