"""What the board posts on its own initiative, through the outbox, and what became of it.

Nothing the bot sends unasked is posted from a turn: the round-opened notice, the channel's
summary, the chair's copy (summary, plan card, papers), the published priorities and the notices
to clerks are all queued with the `Mailer` (durable, paced, retried; see bot/delivery), each in
a batch of its own so it is sent once however often it is queued:

    <round>.opened      the channel's notice that the round is open
    <round>.summary     the channel's summary
    <round>.chair       the chair's copy (to the clerks while there is no chair)
    <round>.clerks      the clerks' own copies, when the channel cannot have the summary
    <round>.p<version>  the priorities, as published at that version of the plan
    <batch>.told        the clerks told that a channel post of <batch> was refused

Who may receive each is checked when it is sent (audience.py). A board the bot was removed from
(detached) queues nothing for its channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ..messages import Card, Text
from .audience import channel_refusal
from .model import Board, CardRef, Round
from .ports import CHAIR, CLERK_COPIES, CLERKS, Mailer, Outcome

OPENED = "opened"
SUMMARY = "summary"
CHAIR_COPY = "chair"
CLERK_COPY = "clerks"
TOLD = "told"
PUBLISHED = "p"


def batch(round_id: str, what: str) -> str:
    return f"{round_id}.{what}"


def published(round_id: str, version: int) -> str:
    return batch(round_id, f"{PUBLISHED}{version}")


def told(of: str) -> str:
    return f"{of}.{TOLD}"


def round_of(of: str) -> str:
    return of.split(".", 1)[0]


def what(of: str) -> str:
    """The kind of a batch: "" for the invitations, "auto", "r<n>", "summary", "chair", …"""
    return of.split(".", 1)[1] if "." in of else ""


def batches(rnd: Round) -> list[str]:
    """Every batch of what the board posted about a round (for deleting their records)."""
    channel = [batch(rnd.id, OPENED), batch(rnd.id, SUMMARY)]
    channel += [published(rnd.id, v) for v in range(1, rnd.plan_version + 1)]
    copies = [batch(rnd.id, CHAIR_COPY), batch(rnd.id, CLERK_COPY)]
    return [*channel, *(told(b) for b in channel), *copies]


# ---- queueing ---------------------------------------------------------------------------------


async def to_channel(mailer: Mailer, board: Board, of: str, message: Card | Text) -> bool:
    """Queue a post in the board's channel; False (nothing queued) when the board has none or
    the bot has been removed from the team."""
    if channel_refusal(board) is not None:
        return False
    await mailer.post(board.tenant, board.id, of, board.service_url, board.channel, message)
    return True


async def to_chair(mailer: Mailer, board: Board, of: str, messages: Sequence[Card | Text]) -> None:
    """Queue the chair's copy: whoever is chair when it is sent; the clerks while there is none."""
    await mailer.to_role(board.tenant, board.id, of, board.service_url, CHAIR, list(messages))


async def tell_clerks(mailer: Mailer, board: Board, of: str, text: str) -> None:
    """Tell the board's clerks, in their 1:1 chats, once per batch `of`."""
    await mailer.to_role(board.tenant, board.id, told(of), board.service_url, CLERKS, [Text(text)])


# ---- what became of it ------------------------------------------------------------------------


@dataclass(frozen=True)
class Posting:
    """A round's summary: its channel post, and the chair's copy, as far as they have gone."""

    channel: Outcome | None  # None: nothing queued for the channel
    role: Outcome | None  # the chair's copy as queued, before it is handed to anyone
    people: tuple[Outcome, ...] = ()  # the copy of each person it was handed to
    clerks: tuple[Outcome, ...] = ()  # the clerks' own copies, if the channel could not have it

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        found = (self.channel, self.role, *self.people, *self.clerks)
        return tuple(o for o in found if o is not None)

    @property
    def failed(self) -> bool:
        """Teams kept refusing, retryably, for longer than the outbox's own retries."""
        return any(o.state == "failed" for o in self.outcomes)

    @property
    def settled(self) -> bool:
        """Everything has gone, or been refused for good: nothing more to try."""
        return self.role is not None and all(o.final for o in self.outcomes) and not self.failed


async def summary_posting(mailer: Mailer, board: Board, rnd: Round) -> Posting:
    channel = await mailer.outcomes(board.tenant, board.id, batch(rnd.id, SUMMARY))
    chair = await mailer.outcomes(board.tenant, board.id, batch(rnd.id, CHAIR_COPY))
    clerks = await mailer.outcomes(board.tenant, board.id, batch(rnd.id, CLERK_COPY))
    return Posting(
        channel=next((o for o in channel if o.channel), None),
        role=next((o for o in chair if not o.to), None),
        people=tuple(o for o in chair if o.to),
        clerks=tuple(clerks),
    )


async def advance_summary(
    mailer: Mailer,
    board: Board,
    rnd: Round,
    *,
    public: Callable[[], Awaitable[Card]],
    private: Callable[[bool], Awaitable[list[Card | Text]]],
    record: Callable[[CardRef], Awaitable[None]],
) -> Posting:
    """Take a closed round's summary as far as it can go now; safe to do any number of times.

    Queued once each, neither waiting on the other: the channel's summary (`public`) and the
    chair's copy (`private(True)`: with the plan card). Then, from what became of them: where
    the channel's was posted is `record`ed; if the channel cannot have it (the bot has left the
    team, or Teams refused it for good) the clerks get their own copy (`private(False)`), and a
    refusal is told to them once; what Teams kept refusing for longer than the outbox's own
    retries is queued again. The cards are made only when they are still to be queued."""
    found = await summary_posting(mailer, board, rnd)
    if found.channel is None and rnd.summary_card is None:
        await to_channel(mailer, board, batch(rnd.id, SUMMARY), await public())
    if found.role is None:
        await to_chair(mailer, board, batch(rnd.id, CHAIR_COPY), await private(True))
    channel = found.channel
    where = _where(channel)
    if where is not None and rnd.summary_card is None:
        await record(where)
    if not found.clerks and _channel_cannot(board, rnd, channel):
        copies = await private(False)
        await mailer.to_role(
            board.tenant,
            board.id,
            batch(rnd.id, CLERK_COPY),
            board.service_url,
            CLERK_COPIES,
            copies,
        )
    if channel is not None and channel.state == "unreachable":
        text = refused_text(board, "the board's summary", channel.reason or "")
        await tell_clerks(mailer, board, batch(rnd.id, SUMMARY), text)
    if found.failed:
        for of in (batch(rnd.id, SUMMARY), batch(rnd.id, CHAIR_COPY), batch(rnd.id, CLERK_COPY)):
            await mailer.retry_failed(board.tenant, board.id, of)
    return await summary_posting(mailer, board, rnd)


def _channel_cannot(board: Board, rnd: Round, channel: Outcome | None) -> bool:
    """The channel will not show this summary: nothing could be queued there, or it was refused
    for good, or dropped (the bot left the team before it went)."""
    if rnd.summary_card is not None:
        return False
    if channel is None:
        return channel_refusal(board) is not None
    return channel.state in ("unreachable", "dropped")


def _where(posted: Outcome | None) -> CardRef | None:
    if posted is None or not posted.delivered or not posted.conversation or not posted.activity:
        return None
    return CardRef(posted.conversation, posted.activity)


SHOW_IT = "the chair and clerks can see it in their chat with me (Show the summary)"


def summary_note(board: Board, rnd: Round, posting: Posting) -> str:
    """The round card's line on where the summary has got to: as it is, not as hoped."""
    return f"{_channel_note(board, rnd, posting.channel)} {_chair_note(posting)}"


def _channel_note(board: Board, rnd: Round, channel: Outcome | None) -> str:
    if rnd.summary_card is not None or (channel is not None and channel.delivered):
        return "Summary posted in the board's channel."
    if channel is None and board.detached:
        return (
            "I'm no longer in the board's team, so the summary did not go to its channel: the "
            "chair and the clerks have it privately."
        )
    if channel is None:
        refusal = channel_refusal(board) or "Not posted yet."
        return f"The summary is not in the channel. {refusal} Meanwhile {SHOW_IT}."
    if not channel.final or channel.state == "failed":
        return (
            "The summary is queued for the board's channel: Teams has not taken it yet, and I "
            "keep trying until it does. This card says when it is posted."
        )
    reason = channel.reason or "Teams refused it."
    return f"The summary could not be posted in the board's channel. {reason} Meanwhile {SHOW_IT}."


def _chair_note(posting: Posting) -> str:
    role, people = posting.role, posting.people
    if role is not None and role.state == "dropped":
        return "The chair's copy was not sent: the board has no chair or clerk to send it to."
    if role is None or not role.final or not people:
        return "The chair's copy is on its way to their chat."
    if all(o.delivered for o in people):
        return "The chair has their copy, with the plan to agree."
    if any(not o.final or o.state == "failed" for o in people):
        return "The chair's copy is on its way to their chat."
    reasons = sorted({o.reason for o in people if not o.delivered and o.reason})
    return " ".join(["The chair's copy was not delivered.", *reasons])


def refused_text(board: Board, kind: str, reason: str, after: str = "") -> str:
    """What the clerks are told when a channel post was refused for good."""
    return (
        f"I could not post {kind} in the channel of {board.name or 'the board'}. {reason} "
        f"{after or f'Nothing is lost: {SHOW_IT}.'}"
    )


NOT_POSTED = {
    OPENED: ("the notice that the round is open", "Trustees have their invitations all the same."),
    PUBLISHED: (
        "the agreed priorities",
        "Nothing is lost: they are saved, and the chair can publish them again from the plan "
        "card once that is put right.",
    ),
}


def refused_post(board: Board, of: str, outcome: Outcome) -> str | None:
    """What to tell the clerks about a channel post other than the summary that will not go."""
    kind = what(of)
    key = PUBLISHED if kind.startswith(PUBLISHED) and kind[1:].isdigit() else kind
    if key not in NOT_POSTED or outcome.state not in ("unreachable", "failed"):
        return None
    name, after = NOT_POSTED[key]
    return refused_text(board, name, outcome.reason or "", after)
