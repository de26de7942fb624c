"""Learning sets: the service the bot hands set turns to, and the hooks the rest of the bot calls
(a board's data exported or deleted, a person forgotten, a set's retention period ending).

    "sets" ──► your sets ──set.new──► form ──set.create──► the set (you facilitate it; a code)
    "join set <code>" (or set.join) ──► the set, with your board as a member
    the set ──set.offer──► what could be shared ──set.share──► its ratings in the set (chair)
    the set ──set.vote (members) / set.focus (facilitator)──► three or four focus elements
    the set ──set.compare──► the comparison; set.send: to every member's chair and clerks
    the set ──set.leave──► the board and all it shared gone; set.close: the whole set deleted

Everything is in 1:1 chats: a set verb from a channel or a group chat is refused, and nothing of
a set is ever posted to a channel.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from frameworks import Framework

from ..boards.model import CHAIR, CLERK, Board, Member, Round
from ..boards.ports import CHAIR as CHAIR_AND_CLERKS
from ..boards.ports import PeerResult
from ..cards import Notice
from ..failures import failure
from ..messages import Card, Reply, Text, Turn
from ..payloads import Payload, Tampered
from ..refusals import NOT_SAVED, UNKNOWN_BUTTON, Refusal
from ..state import Who
from ..store import StoreUnavailable
from ..text import escape_markdown as md
from . import cards as set_cards
from . import end_steps, focus_steps, review_steps, set_steps, share_steps
from .audience import for_set, set_batch
from .compare import comparison, interests
from .context import PRIVATE_ONLY, TAMPERED, SetContext, SetHandler, person_ref
from .model import DONE, ROUND, SET_ID, LearningSet, SetMember, member_key
from .paper import comparison_html
from .payloads import REVIEWS, SETS, ReviewAccept, SetJoin, SetList, SetNew
from .review_store import ReviewStore
from .store import SetStore

if TYPE_CHECKING:
    from ..boards.desk import Desk

log = logging.getLogger("trustboard.sets")

VERBS: dict[str, SetHandler] = {
    **set_steps.VERBS,
    **share_steps.VERBS,
    **focus_steps.VERBS,
    **end_steps.VERBS,
    **review_steps.VERBS,
}
PREFIXES = ("set.", "review.")
LIST_WORDS = {"sets", "set", "my sets", "learning set", "learning sets", "my learning sets"}
NEW_WORDS = {"new set", "create set", "new learning set", "create a learning set"}
NEW_WORDS |= {"create learning set", "create a set"}
JOIN_WORDS = ("join set ", "join learning set ", "join the set ")
AGENDA_PREFIX = "set|"


class Sets:
    def __init__(
        self,
        store: SetStore,
        desk: Desk,
        retention_days: int | None = 730,
        reviews: ReviewStore | None = None,
    ) -> None:
        self.store = store
        self.desk = desk
        self.retention_days = retention_days
        self.reviews = reviews or ReviewStore(store.redis, store.keys)

    def walkthrough_rounds(self) -> review_steps.ReviewRounds:
        """The walkthrough's board side: peer reviews here, real rounds at the desk."""
        return review_steps.ReviewRounds(self.desk, self)

    @property
    def mode(self) -> str:
        return self.desk.mode

    @property
    def frameworks(self) -> dict[str, Framework]:
        return self.desk.frameworks

    # -- entry points ------------------------------------------------------------------------------

    def handles(self, turn: Turn) -> bool:
        if turn.action is not None:
            return turn.action.verb.startswith(PREFIXES)
        if turn.place is not None and not turn.place.personal:
            return False
        return typed_verb(turn.text) is not None

    async def handle(self, turn: Turn) -> Reply:
        try:
            if turn.place is not None and not turn.place.personal:
                raise Refusal(PRIVATE_ONLY)
            payload = _typed(turn.text) if turn.action is None else _clicked(turn)
            return await VERBS[payload.verb](SetContext(self, turn, payload))
        except Tampered:
            return Reply(send=[Text(TAMPERED)])
        except Refusal as refusal:
            return refusal.reply
        except StoreUnavailable as exc:
            log.warning("store unavailable: %s", failure(exc))
            return Reply(send=[Text(NOT_SAVED)])

    # -- what the handlers share ------------------------------------------------------------------

    def framework(self, learning_set: LearningSet) -> Framework:
        framework = self.frameworks.get(learning_set.framework)
        if framework is None:
            raise Refusal("That set uses a framework I no longer have.")
        return framework

    async def set_card(
        self, learning_set: LearningSet, viewer: set_cards.Viewer, notice: Notice | None = None
    ) -> Card:
        framework = self.framework(learning_set)
        ranked = interests(framework, learning_set)
        return set_cards.set_card(learning_set, framework, viewer, ranked, self.mode, notice)

    async def sets_of(self, who: Who) -> list[tuple[LearningSet, set_cards.Viewer]]:
        """The sets the person facilitates, and those of the boards they chair or clerk."""
        found: dict[tuple[str, str], tuple[LearningSet, set_cards.Viewer]] = {}
        for set_id in await self.store.facilitated(who.tenant, who.user):
            learning_set = await self.store.get(set_id)
            if learning_set and learning_set.is_facilitator(who.tenant, who.user):
                found[(set_id, "")] = (learning_set, set_cards.Viewer(True))
        for board in await self._boards_of(who):
            for set_id in await self.store.board_sets(board.tenant, board.id):
                learning_set = await self.store.get(set_id)
                member = learning_set.member(board.tenant, board.id) if learning_set else None
                if learning_set is None or member is None:
                    continue
                facilitator = learning_set.is_facilitator(who.tenant, who.user)
                viewer = set_cards.Viewer(facilitator, member, board.role(who.user))
                found.pop((set_id, ""), None)
                found[(set_id, board.id)] = (learning_set, viewer)
        return list(found.values())

    async def _boards_of(self, who: Who) -> list[Board]:
        boards = []
        for board_id in await self.desk.boards.tenant_boards(who.tenant):
            board = await self.desk.boards.board(who.tenant, board_id)
            if board is not None and board.role(who.user) in (CHAIR, CLERK):
                boards.append(board)
        return boards

    async def reach_facilitator(self, learning_set: LearningSet, turn: Turn) -> None:
        """Remember where the facilitator is reached, as their latest turn says."""
        place = turn.place
        if place is None or not place.sender_id:
            return
        fac = learning_set.facilitator
        if (fac.teams_id, fac.service_url, fac.name) != (
            place.sender_id,
            place.service_url,
            turn.who.name or fac.name,
        ):
            fields = {"fac_teams": place.sender_id, "fac_service": place.service_url}
            if turn.who.name:
                fields["fac_name"] = turn.who.name
            await self.store.set_fields(learning_set.id, fields)

    async def personal(self, service_url: str, tenant: str, teams_id: str, message: Any) -> bool:
        """One message to one person's 1:1 chat now, for someone who is no board's (the
        facilitator); False (logged) if Teams would not take it. A member board's people are
        sent a set's messages through the outbox (`queue`)."""
        from ..boards.ports import TeamsError

        try:
            await self.desk.teams.personal(service_url, tenant, teams_id, message)
        except TeamsError as exc:
            log.warning("could not send a learning set's message: %s", exc.brief())
            return False
        return True

    async def queue(
        self,
        board: Board,
        batch: str,
        people: Sequence[Member],
        message: Card | Text,
        audience: str,
        more: Sequence[Card | Text] = (),
    ) -> None:
        """Queue a set's message for people of a member board, in the durable outbox: retried
        while Teams is busy, sent once per batch and person, and only if the outbox's gate says
        when it goes that they may still have it (audience.py)."""
        recipients = [(m.teams_id, m.name) for m in people if m.teams_id]
        if recipients:
            await self.desk.mailer.queue(
                board.tenant,
                board.id,
                batch,
                board.service_url,
                recipients,
                message,
                audience=audience,
                more=more,
            )

    async def tell_facilitator(self, learning_set: LearningSet, message: Text | Card) -> None:
        fac = learning_set.facilitator
        if fac.teams_id and fac.service_url:
            await self.personal(fac.service_url, fac.tenant, fac.teams_id, message)

    async def tell_members(self, learning_set: LearningSet, what: str, message: Text) -> None:
        """Each member board's chair and clerks, through the outbox, while they hold the role
        (the set itself may be gone by then: this is how its closing is told)."""
        for member in learning_set.members:
            board = await self.desk.boards.board(member.tenant, member.board)
            if board is None:
                continue
            batch = set_batch(learning_set.id, what)
            await self.queue(board, batch, board.chair_and_clerks, message, CHAIR_AND_CLERKS)

    async def keep_until(self, set_id: str, now: datetime) -> None:
        """A set is deleted `retention_days` after anything last happened in it."""
        if self.retention_days:
            await self.desk.agenda.schedule(
                f"{AGENDA_PREFIX}purge|{set_id}", now + timedelta(days=self.retention_days)
            )

    async def close(self, learning_set: LearningSet, why: str) -> None:
        await self.store.delete(learning_set)
        await self.desk.agenda.cancel(f"{AGENDA_PREFIX}purge|{learning_set.id}")
        log.info("learning set deleted: %s", why)
        await self.tell_members(
            learning_set,
            "closed",
            Text(
                f"The learning set {md(learning_set.name)} has been {why}: it and everything its "
                "members shared are deleted."
            ),
        )

    # -- hooks: the agenda, board data, forget me --------------------------------------------------

    @staticmethod
    def owns(item: str) -> bool:
        return item.startswith(AGENDA_PREFIX)

    async def due(self, item: str) -> None:
        """A set's retention period ended: it is deleted, as a closed round is."""
        parts = item.split("|")
        if len(parts) != 3 or parts[1] != "purge" or not SET_ID.match(parts[2]):
            log.warning("agenda item not understood: %s", item)
            return
        learning_set = await self.store.get(parts[2])
        if learning_set is not None:
            await self.close(learning_set, "deleted at the end of its retention period")

    async def board_export(self, board: Board) -> list[dict[str, Any]]:
        """For the board's data export: what it shared with which set, and when; and the peer
        reviews of it it asked for."""
        found: list[dict[str, Any]] = []
        for review_id in await self.reviews.of_board(board.tenant, board.id):
            review = await self.reviews.get(review_id)
            if review is not None:
                found.append(
                    {
                        "peer_review": review.id,
                        "framework": review.framework,
                        "elements": list(review.elements),
                        "asked": review.created,
                        "reviewer": review.reviewer.name if review.reviewer else None,
                        "status": review.status,
                        "done": review.done_at,
                    }
                )
        for set_id in await self.store.board_sets(board.tenant, board.id):
            learning_set = await self.store.get(set_id)
            member = learning_set.member(board.tenant, board.id) if learning_set else None
            if learning_set is None or member is None:
                continue
            share = learning_set.shares.get(member.key)
            found.append(
                {
                    "set": learning_set.name,
                    "set_id": learning_set.id,
                    "framework": learning_set.framework,
                    "joined": member.joined,
                    "vote": list(learning_set.votes.get(member.key, ())),
                    "shared": None
                    if share is None
                    else {
                        "at": share.at,
                        "from": share.source,
                        "ratings": {str(n): r for n, r in sorted(share.ratings.items())},
                    },
                }
            )
        return found

    async def peer_results(self, board: Board, framework: str) -> list[PeerResult]:
        found = []
        for review_id in await self.reviews.of_board(board.tenant, board.id):
            review = await self.reviews.get(review_id)
            if (
                review is not None
                and review.status == DONE
                and review.framework == framework
                and review.board.key == member_key(board.tenant, board.id)
                and review.peer
            ):
                found.append(PeerResult(review.done_at or "", dict(review.peer)))
        return sorted(found, key=lambda r: r.done)

    async def comparison_page(self, board: Board, set_id: str) -> str | None:
        """The comparison as a printable page for one member board (a signed link's), or None
        if the set is gone, the board has left it, or it has no focus yet."""
        learning_set = await self.store.get(set_id) if SET_ID.match(set_id) else None
        member = learning_set.member(board.tenant, board.id) if learning_set else None
        framework = self.frameworks.get(learning_set.framework) if learning_set else None
        if learning_set is None or member is None or framework is None or not learning_set.focus:
            return None
        rows = comparison(framework, learning_set)
        return comparison_html(learning_set, framework, set_cards.Viewer(False, member), rows)

    async def comparison_link(self, learning_set: LearningSet, member: SetMember) -> Text | None:
        """A link to that page, for a member board's chair or clerk, in their 1:1 chat only;
        none while links are off or the link secret cannot be read."""
        links = self.desk.links
        if links is None:
            return None
        try:
            url = await links.url("comparison", member.tenant, member.board, learning_set.id)
        except StoreUnavailable:
            log.warning("no comparison link: the link secret could not be read")
            return None
        shown = "names the member trusts" if learning_set.named else "names no trust"
        return Text(
            f"For the board's papers: [the comparison, to print]({url}). Like the card, it "
            f"{shown} and quotes no evidence. The link works for an hour; open The comparison "
            "again for a fresh one."
        )

    async def round_closed(self, board: Board, rnd: Round) -> None:
        """A round closed: its chair is asked, in their 1:1 chat, whether to share it with each
        set the board is in on that framework. Nothing is shared until they press Share."""
        chair = board.chair
        if chair is None or not chair.teams_id:
            return
        for set_id in await self.store.board_sets(board.tenant, board.id):
            learning_set = await self.store.get(set_id)
            member = learning_set.member(board.tenant, board.id) if learning_set else None
            if learning_set is None or member is None or learning_set.framework != rnd.framework:
                continue
            ratings, withheld = await share_steps.round_ratings(self, board, rnd)
            if not ratings:
                continue
            framework = self.framework(learning_set)
            title = f"The board's round, closed {set_cards.day(rnd.closed)}"
            offer = set_cards.Offer(ROUND, rnd.id, title, ratings, withheld)
            viewer = set_cards.Viewer(False, member, CHAIR)
            notice = Notice(
                f"The board's round has closed. Share its ratings with {learning_set.name}? "
                "Nothing is shared unless you press Share.",
                "accent",
            )
            card = set_cards.offer_card(learning_set, framework, viewer, [offer], self.mode, notice)
            batch = set_batch(learning_set.id, f"offer-{rnd.id}")
            await self.queue(board, batch, [chair], card, for_set(learning_set.id))

    async def board_deleted(self, board: Board) -> None:
        """A board's data deleted: it leaves every set, and what it shared goes with it."""
        for set_id in await self.store.board_sets(board.tenant, board.id):
            await self.store.leave(set_id, board.tenant, board.id)
        await self.store.forget_board(board.tenant, board.id)
        for review_id in await self.reviews.of_board(board.tenant, board.id):
            review = await self.reviews.get(review_id)
            if review is not None:
                await self.reviews.delete(review)

    async def forget(self, who: Who) -> None:
        """`forget me`: shares of their own self-assessment withdrawn; sets they facilitate are
        closed (the facilitator's name and chat are in them)."""
        await self.store.withdraw_self_shares(
            who.tenant, who.user, person_ref(who.tenant, who.user)
        )
        for set_id in await self.store.facilitated(who.tenant, who.user):
            learning_set = await self.store.get(set_id)
            if learning_set is not None and learning_set.is_facilitator(who.tenant, who.user):
                await self.close(learning_set, "closed, as its facilitator asked me to forget them")
        await self.store.forget_facilitator(who.tenant, who.user)
        # The reviews they were asked to make: who they are is in them (their answers go with
        # their own data; a board keeps the self-versus-peer card it was sent, in Teams).
        for review_id in await self.reviews.of_reviewer(who.tenant, who.user):
            review = await self.reviews.get(review_id)
            if review is not None and review.is_reviewer(who.tenant, who.user):
                await self.reviews.delete(review)


def typed_verb(text: str) -> Payload | None:
    """What typed words ask of the sets, or None when they are not the sets' business."""
    said = " ".join(text.split())
    lowered = said.lower().strip(" .!?")
    if lowered in LIST_WORDS:
        return SetList()
    if lowered in NEW_WORDS:
        return SetNew()
    for words in JOIN_WORDS:
        if lowered == words.strip():  # the manifest's command, before the code is typed
            return SetJoin(code="")
        if lowered.startswith(words):
            return SetJoin(code=said[len(words) :].strip(" .!?")[:40])
    # "review" alone is the walkthrough's (a trustee's own answers); "review <code>" is ours.
    if lowered.startswith("review ") and set_steps.read_code(said[7:].strip(" .!?")):
        return ReviewAccept(code=said[7:].strip(" .!?")[:40])
    return None


def _typed(text: str) -> Payload:
    return typed_verb(text) or SetList()


def _clicked(turn: Turn) -> Payload:
    assert turn.action is not None
    kind = SETS.get(turn.action.verb) or REVIEWS.get(turn.action.verb)
    if kind is None or turn.action.verb not in VERBS:
        raise Refusal(UNKNOWN_BUTTON)
    return kind.unpack(turn.action.data)
