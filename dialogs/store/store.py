"""The one store layer: a small interface over `redis.asyncio`.

It runs unchanged on a real Redis and on the in-process emulation (see `connect.py`). Every write
that depends on state is a Lua script, so it is atomic and costs one round trip: two turns racing
cannot lose an answer, and nothing is written into an assessment that has been finished.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from redis.asyncio import Redis

from ..state import Answer, Assessment, Profile, RoundLink, Who
from . import text
from .connect import REDIS_FAILURES, is_cluster
from .durable import WAIT_TIMEOUT_MS, check_replicas
from .keys import ASSESSMENT_ID, Keys

T = TypeVar("T")

# KEYS: profile, new assessment, history. ARGV: open-field, new id, score, field/value pairs.
_OPEN = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then return current end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return ARGV[2]
"""

# KEYS: assessment. ARGV: field/value pairs. Writes only while the assessment is open, or, for a
# board round's answers, finished but not yet locked by the round's closing.
_UPDATE = """
local status = redis.call('HGET', KEYS[1], 'status')
local in_round = redis.call('HEXISTS', KEYS[1], 'round') == 1
if status ~= 'open' and not (status == 'done' and in_round) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# KEYS: assessment, profile. ARGV: id, open-field, last-field, finished-at.
_FINISH = """
if redis.call('HGET', KEYS[1], 'status') ~= 'open' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'done', 'cursor', '0')
redis.call('HSET', KEYS[1], 'finished', ARGV[4], 'updated', ARGV[4])
if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[2]) end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

# KEYS: assessment. ARGV: activity id. Returns the card it replaces, so that one can be retired.
_SET_CARD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local previous = redis.call('HGET', KEYS[1], 'card')
redis.call('HSET', KEYS[1], 'card', ARGV[1])
return previous
"""


# KEYS: assessment, profile. ARGV: id, open-field, last-field, now. A round's closing locks its
# answers, finished or not; returns 1 if this call locked them.
_LOCK = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'open' and status ~= 'done' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'closed', 'cursor', '0', 'locked', ARGV[4])
if redis.call('HGET', KEYS[2], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[2], ARGV[2]) end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
return 1
"""


# KEYS: profile, history, then every assessment in the history. ARGV: how many assessments the
# caller saw; if one was started meanwhile, nothing is deleted (-1) and the caller reads again.
_FORGET = """
if redis.call('ZCARD', KEYS[2]) ~= tonumber(ARGV[1]) then return -1 end
return redis.call('DEL', unpack(KEYS))
"""


class StoreUnavailable(RuntimeError):
    """Redis could not be reached or refused the command: nothing was saved."""


async def stored(operation: Callable[[], Awaitable[T]]) -> T:
    """Run one Redis operation; any Redis or network failure becomes StoreUnavailable."""
    try:
        return await operation()
    except REDIS_FAILURES as exc:
        raise StoreUnavailable(str(exc)) from exc


class Store:
    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self._open = redis.register_script(_OPEN)
        self._update = redis.register_script(_UPDATE)
        self._finish = redis.register_script(_FINISH)
        self._set_card = redis.register_script(_SET_CARD)
        self._lock = redis.register_script(_LOCK)
        self._forget = redis.register_script(_FORGET)

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        return await stored(operation)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except REDIS_FAILURES:
            return False

    async def close(self) -> None:
        await self.redis.aclose()

    async def profile(self, who: Who) -> Profile:
        raw = await self._call(lambda: text.hgetall(self.redis, self.keys.profile(who)))
        return _profile(raw)

    async def save_conversation(self, who: Who, reference: str) -> None:
        key = self.keys.profile(who)
        await self._call(lambda: self.redis.hset(key, "conv", reference))

    async def open_assessment(
        self,
        who: Who,
        framework: str,
        version: str,
        now: str,
        *,
        scope: str | None = None,
        extra: dict[str, str] | None = None,
        cursor: int = 1,
    ) -> str:
        """The id of the trustee's open assessment in `scope` (by default the framework: a private
        self-assessment), created if there is none."""
        new_id = secrets.token_hex(6)
        fields = {
            "framework": framework,
            "version": version,
            "status": "open",
            "started": now,
            "updated": now,
            "cursor": str(cursor),
            **({"scope": scope} if scope else {}),
            **(extra or {}),
        }
        args = [f"open:{scope or framework}", new_id, _score(now), *_flatten(fields)]
        keys = [
            self.keys.profile(who),
            self.keys.assessment(who, new_id),
            self.keys.assessments(who),
        ]
        return str(await self._call(lambda: self._open(keys=keys, args=args)))

    async def assessment(self, who: Who, assessment_id: str) -> Assessment | None:
        if not ASSESSMENT_ID.match(assessment_id):
            return None
        key = self.keys.assessment(who, assessment_id)
        raw = await self._call(lambda: text.hgetall(self.redis, key))
        return _assessment(assessment_id, raw) if raw else None

    async def update(self, who: Who, assessment_id: str, fields: dict[str, str]) -> bool:
        """Write fields into an open assessment; False if it is finished or gone."""
        keys = [self.keys.assessment(who, assessment_id)]
        return bool(await self._call(lambda: self._update(keys=keys, args=_flatten(fields))))

    async def finish(self, who: Who, assessment: Assessment, now: str) -> bool:
        keys, args = self._closing(who, assessment.id, assessment.key_scope, now)
        return bool(await self._call(lambda: self._finish(keys=keys, args=args)))

    async def lock(self, who: Who, assessment: Assessment, now: str) -> bool:
        """Lock a round's answers when the round closes, whether the trustee finished or not."""
        keys, args = self._closing(who, assessment.id, assessment.key_scope, now)
        return bool(await self._call(lambda: self._lock(keys=keys, args=args)))

    async def in_scope(self, who: Who, scope: str) -> Assessment | None:
        """The trustee's assessment in a scope (a round), open or not."""
        profile = await self.profile(who)
        found = profile.open.get(scope) or profile.last.get(scope)
        return await self.assessment(who, found) if found else None

    async def in_scope_many(self, whos: list[Who], scope: str) -> list[Assessment | None]:
        """Many trustees' assessments in one scope (a round), in two pipelined round trips."""
        wanted = await self._in_scope_ids(whos, scope)

        async def assessments() -> list[Any]:
            async with self.redis.pipeline(transaction=False) as pipe:
                for who, i in wanted:
                    pipe.hgetall(self.keys.assessment(who, i))
                return list(await pipe.execute())

        raws = await self._call(assessments) if wanted else []
        return _by_trustee(whos, wanted, raws)

    async def lock_scope(self, whos: list[Who], scope: str, now: str) -> list[Assessment | None]:
        """Lock many trustees' answers in one scope (a round that closed) and read them as
        locked: after this no answer can change, so what is returned is final."""
        wanted = await self._in_scope_ids(whos, scope)

        def lock(who: Who, i: str, client: Any = None) -> Awaitable[Any]:
            keys, args = self._closing(who, i, scope, now)
            return self._lock(keys=keys, args=args, client=client)

        async def lock_and_read() -> list[Any]:
            replicas = getattr(self.redis, "wait_replicas", 0)  # REDIS_WAIT_REPLICAS
            async with self.redis.pipeline(transaction=False) as pipe:
                for who, i in wanted:
                    await lock(who, i, pipe)
                    pipe.hgetall(self.keys.assessment(who, i))
                if replicas:  # the pipeline is one connection: WAIT covers all its locks
                    pipe.wait(replicas, WAIT_TIMEOUT_MS)
                found = list(await pipe.execute())
            if replicas:
                check_replicas(int(found.pop()), replicas)
            return found[1::2]

        async def lock_then_read() -> list[Any]:
            # redis-py's cluster pipelines refuse scripts: each lock is its own call (to its
            # trustee's master), all at once, then one pipelined read of what they locked.
            await asyncio.gather(*(lock(who, i) for who, i in wanted))
            async with self.redis.pipeline(transaction=False) as pipe:
                for who, i in wanted:
                    pipe.hgetall(self.keys.assessment(who, i))
                return list(await pipe.execute())

        run = lock_then_read if is_cluster(self.redis) else lock_and_read
        raws = await self._call(run) if wanted else []
        return _by_trustee(whos, wanted, raws)

    async def _in_scope_ids(self, whos: list[Who], scope: str) -> list[tuple[Who, str]]:
        """Each trustee with an assessment in the scope (open, else the last), and its id: one
        pipelined round trip."""
        fields = (f"open:{scope}", f"last:{scope}")

        async def pointers() -> list[Any]:
            async with self.redis.pipeline(transaction=False) as pipe:
                for who in whos:
                    pipe.hmget(self.keys.profile(who), *fields)
                return list(await pipe.execute())

        found = [(o or last) for o, last in await self._call(pointers)]
        return [
            (who, i) for who, i in zip(whos, found, strict=True) if i and ASSESSMENT_ID.match(i)
        ]

    def _closing(
        self, who: Who, assessment_id: str, scope: str, now: str
    ) -> tuple[list[str], list[str]]:
        """The keys and arguments of the finish and lock scripts, which close the same way."""
        keys = [self.keys.assessment(who, assessment_id), self.keys.profile(who)]
        return keys, [assessment_id, f"open:{scope}", f"last:{scope}", now]

    async def set_fields(self, who: Who, assessment_id: str, fields: dict[str, str]) -> None:
        """Fields that describe an assessment rather than answer it (a round's new deadline)."""
        key = self.keys.assessment(who, assessment_id)
        await self._call(lambda: text.hset(self.redis, key, fields))

    async def set_card(self, who: Who, assessment_id: str, activity_id: str) -> str | None:
        """Remember the live card of an assessment; returns the one it supersedes."""
        keys = [self.keys.assessment(who, assessment_id)]
        previous = await self._call(lambda: self._set_card(keys=keys, args=[activity_id]))
        return previous or None

    async def forget(self, who: Who) -> int:
        """Delete everything kept about one person in one tenant; returns the keys deleted."""
        for _ in range(5):
            ids = await self.history(who)
            keys = [
                self.keys.profile(who),
                self.keys.assessments(who),
                *(self.keys.assessment(who, i) for i in ids if ASSESSMENT_ID.match(i)),
            ]
            seen = [len(ids)]
            deleted = int(await self._call(partial(self._forget, keys=keys, args=seen)))
            if deleted >= 0:
                return deleted
        raise StoreUnavailable("the assessments kept changing while being deleted")

    async def delete_assessment(self, who: Who, assessment: Assessment) -> None:
        """One assessment gone (a round's answers, when the board's data is deleted)."""
        scope = assessment.key_scope
        profile = self.keys.profile(who)

        async def run() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(self.keys.assessment(who, assessment.id))
                pipe.zrem(self.keys.assessments(who), assessment.id)
                pipe.hdel(profile, f"open:{scope}", f"last:{scope}")
                await pipe.execute()

        await self._call(run)

    async def history(self, who: Who) -> list[str]:
        key = self.keys.assessments(who)
        return await self._call(lambda: text.zrange(self.redis, key))


def _flatten(fields: dict[str, str]) -> list[str]:
    return [part for pair in fields.items() for part in pair]


def _score(now: str) -> str:
    # ISO-8601 UTC timestamps sort as text; the score only needs to order them.
    digits = "".join(ch for ch in now if ch.isdigit())[:14]
    return digits or "0"


def _profile(raw: dict[str, Any]) -> Profile:
    opened = {k[5:]: v for k, v in raw.items() if k.startswith("open:")}
    last = {k[5:]: v for k, v in raw.items() if k.startswith("last:")}
    return Profile(open=opened, last=last, conversation=raw.get("conv"))


def _by_trustee(
    whos: list[Who], wanted: list[tuple[Who, str]], raws: list[Any]
) -> list[Assessment | None]:
    """The assessments read for `wanted`, in the order of `whos` (None where there is none)."""
    by_user = {
        who.user: _assessment(i, raw) for (who, i), raw in zip(wanted, raws, strict=True) if raw
    }
    return [by_user.get(who.user) for who in whos]


def _assessment(assessment_id: str, raw: dict[str, str]) -> Assessment:
    answers: dict[int, Answer] = {}
    for number in {int(k[2:]) for k in raw if k[:2] in ("r:", "e:") and k[2:].isdigit()}:
        answers[number] = Answer(
            rating=raw.get(f"r:{number}") or None,
            evidence=raw.get(f"e:{number}", ""),
            at=raw.get(f"t:{number}"),
        )
    return Assessment(
        id=assessment_id,
        framework=raw.get("framework", ""),
        version=raw.get("version", ""),
        status=raw.get("status", "open"),
        started=raw.get("started", ""),
        updated=raw.get("updated", ""),
        cursor=int(raw.get("cursor", "1") or 1),
        answers=answers,
        finished=raw.get("finished"),
        card=raw.get("card"),
        scope=raw.get("scope", ""),
        elements=_numbers(raw.get("elements")),
        round=_round_link(raw),
        locked=raw.get("locked"),
    )


def _numbers(value: str | None) -> tuple[int, ...] | None:
    if not value:
        return None
    return tuple(int(n) for n in value.split(",") if n.isdigit())


def _round_link(raw: dict[str, str]) -> RoundLink | None:
    if not raw.get("round"):
        return None
    return RoundLink(
        board=raw.get("board", ""),
        round=raw["round"],
        board_name=raw.get("board_name", ""),
        deadline=raw.get("deadline", ""),
        review=raw.get("kind") == "review",
    )
