"""One reading of a round: every invited trustee's answers, read once, and what follows from them.

An operation (closing a round, showing its card, the chair's plan, a download) reads the round
once with `Reader.read` and hands the `RoundReading` to whatever renders it: the summary, the
progress on the clerk's card, the ratings for the CSV all come from that one reading, so a close
reads the round's answers once (and the previous round's once, for the comparison).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from frameworks import Framework

from ..refusals import Refusal
from ..rounds import Response, RoundSettings, RoundSummary, summarise
from ..state import Assessment, Who
from ..store import Store
from . import membership
from .model import IN_PROGRESS, NOT_STARTED, RESPONDED, UNREACHABLE, Board, Member, Progress, Round
from .ports import Mailer
from .records import BoardRecords

NO_FRAMEWORK = "That round uses a framework I no longer have."


def who_of(board: Board, member: Member) -> Who:
    return Who(board.tenant, member.key, member.name)


def batches(rnd: Round) -> list[str]:
    """The delivery batches of a round: the invitations (with those of people who joined the team
    while it was open) and every reminder."""
    return [
        rnd.id,
        f"{rnd.id}.late",
        f"{rnd.id}.auto",
        *(f"{rnd.id}.r{n}" for n in range(1, rnd.reminders + 1)),
    ]


@dataclass
class RoundReading:
    board: Board
    round: Round
    framework: Framework
    answers: Mapping[str, Assessment]  # by member key; none for who has not started
    previous: RoundReading | None = None  # the board's previous round on the same framework
    _summaries: dict[bool, RoundSummary] = field(default_factory=dict, repr=False)

    def with_round(self, rnd: Round) -> RoundReading:
        """The same answers beside the round as it is now (its card refs, plan, status)."""
        return replace(self, round=rnd, _summaries={})

    def summary(self, attributed: bool) -> RoundSummary:
        """The board's summary; `attributed` only for the chair's and clerks' eyes. Each element
        shows its change since the previous round, which is summed up without one of its own."""
        if attributed not in self._summaries:
            rnd = self.round
            responses = [
                Response(m.key, m.name, a.answers, a.finished is not None)
                for m in rnd.invited
                if (a := self.answers.get(m.key)) is not None
            ]
            settings = RoundSettings(
                attributed=attributed and rnd.attributed, min_responses=rnd.min_responses
            )
            before = self.previous.summary(False) if self.previous else None
            invited = membership.counted(rnd, self.answers)
            self._summaries[attributed] = summarise(
                self.framework, rnd.elements, responses, invited, settings, before
            )
        return self._summaries[attributed]

    def ratings(self) -> list[tuple[int, str]]:
        """Every rating given in the round, as (element, rating), with nothing of who gave it."""
        return [
            (n, a.rating)
            for assessment in self.answers.values()
            for n, a in assessment.answers.items()
            if a.rating and assessment.covers(n)
        ]

    def progress(self, unreachable: Mapping[str, str]) -> list[Progress]:
        found = []
        for member in self.round.invited:
            assessment = self.answers.get(member.key)
            left = self.round.left.get(member.key)
            if assessment is not None and assessment.finished:
                found.append(Progress(member, RESPONDED, assessment.rated_count(), left=left))
            elif assessment is not None:
                found.append(Progress(member, IN_PROGRESS, assessment.rated_count(), left=left))
            elif member.teams_id in unreachable:
                reason = unreachable[member.teams_id]
                found.append(Progress(member, UNREACHABLE, reason=reason, left=left))
            else:
                found.append(Progress(member, NOT_STARTED, left=left))
        return found

    def not_finished(self, unreachable: Mapping[str, str]) -> list[Member]:
        """Who a reminder is for: not finished, not known to be unreachable, not left the team."""
        waiting = (NOT_STARTED, IN_PROGRESS)
        return [p.member for p in self.progress(unreachable) if p.state in waiting and not p.left]


class Reader:
    def __init__(self, store: Store, frameworks: Mapping[str, Framework], mailer: Mailer) -> None:
        self.store = store
        self.frameworks = frameworks
        self.mailer = mailer

    def framework_of(self, rnd: Round) -> Framework:
        framework = self.frameworks.get(rnd.framework)
        if framework is None:
            raise Refusal(NO_FRAMEWORK)
        return framework

    async def read(
        self,
        records: BoardRecords,
        board: Board,
        rnd: Round,
        *,
        compare: bool = True,
        locking: str | None = None,
    ) -> RoundReading:
        """The round's answers, read once; with `locking` (a closed round's closing time) they
        are locked first and read as locked, so no answer can change after the reading."""
        previous = None
        if compare and rnd.previous:
            before = await records.round(rnd.previous)
            if before is not None and before.framework == rnd.framework:
                previous = await self.read(records, board, before, compare=False)
        framework = self.framework_of(rnd)
        answers = await (self.locked(board, rnd, locking) if locking else self.answers(board, rnd))
        return RoundReading(board, rnd, framework, answers, previous)

    async def answers(self, board: Board, rnd: Round) -> dict[str, Assessment]:
        """Each invited trustee's answers in the round, by member key (none if not started)."""
        whos = [who_of(board, m) for m in rnd.invited]
        found = await self.store.in_scope_many(whos, rnd.scope)
        return {m.key: a for m, a in zip(rnd.invited, found, strict=True) if a is not None}

    async def locked(self, board: Board, rnd: Round, now: str) -> dict[str, Assessment]:
        whos = [who_of(board, m) for m in rnd.invited]
        found = await self.store.lock_scope(whos, rnd.scope, now)
        return {m.key: a for m, a in zip(rnd.invited, found, strict=True) if a is not None}

    async def unreachable(self, board: Board, rnd: Round) -> dict[str, str]:
        return await self.mailer.unreachable(board.tenant, board.id, batches(rnd))
