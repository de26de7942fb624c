"""Peer reviews in Redis, each under its own hash tag `{review:<id>}` (see dialogs/store/keys.py).

A review names the reviewed board (tenant and team id) and, once known, its reviewer (tenant and
user). Who may act on it is decided from the authenticated turn against those, never from a card.
Taking a review by its invitation code is one script: the first person to accept it becomes its
reviewer, and the code then admits nobody else.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from redis.asyncio import Redis

from ..store import text
from ..store.keys import JOIN_CODE, ROUND_ID, Keys
from ..store.store import stored
from .model import DONE, INVITED, STARTED, Person, Review, SetMember

T = TypeVar("T")

# KEYS: review. ARGV: code, then the reviewer's fields. Returns "ok", "already" (they hold it
# already), or why not: gone, code, taken.
_ACCEPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local tenant, user = ARGV[3], ARGV[5]
local held = redis.call('HMGET', KEYS[1], 'rev_tenant', 'rev_user')
if held[1] == tenant and held[2] == user then return 'already' end
if redis.call('HGET', KEYS[1], 'code') ~= ARGV[1] then return 'code' end
if redis.call('HEXISTS', KEYS[1], 'rev_user') == 1 then return 'taken' end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('HDEL', KEYS[1], 'code')
return 'ok'
"""

# KEYS: review. ARGV: status, then field/value pairs. Moves a review on only from where it was:
# started from invited, done from invited or started (done once, whoever races).
_STATUS = """
local now = redis.call('HGET', KEYS[1], 'status')
if not now then return 0 end
if ARGV[1] == 'started' and now ~= 'invited' then return 0 end
if ARGV[1] == 'done' and now == 'done' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], unpack(ARGV, 2))
return 1
"""


class ReviewStore:
    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self._accept = redis.register_script(_ACCEPT)
        self._status = redis.register_script(_STATUS)

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        return await stored(operation)

    async def create(self, review: Review) -> None:
        keys, r = self.keys, review
        fields = {
            "framework": r.framework,
            "version": r.version,
            "elements": ",".join(str(n) for n in r.elements),
            "b_tenant": r.board.tenant,
            "b_board": r.board.board,
            "b_name": r.board.name,
            "asked_by": r.asked_by,
            "created": r.created,
            "deadline": r.deadline,
            "set": r.set_id,
            "status": r.status,
            **({"code": r.code} if r.code else {}),
            **(_reviewer_fields(r.reviewer) if r.reviewer else {}),
        }

        async def run() -> None:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(keys.review(r.id), mapping=text.mapping(fields))
                if r.code:
                    pipe.set(keys.review_code(r.code), r.id)
                pipe.sadd(keys.board_reviews(r.board.tenant, r.board.board), r.id)
                if r.reviewer:
                    pipe.sadd(keys.reviewer_reviews(r.reviewer.tenant, r.reviewer.user), r.id)
                await pipe.execute()

        await self._call(run)

    async def get(self, review_id: str) -> Review | None:
        if not ROUND_ID.match(review_id):
            return None
        raw = await self._call(lambda: text.hgetall(self.redis, self.keys.review(review_id)))
        return _review(review_id, raw) if raw else None

    async def by_code(self, code: str) -> str | None:
        if not JOIN_CODE.match(code):
            return None
        return await self._call(lambda: text.get(self.redis, self.keys.review_code(code))) or None

    async def accept(self, review: Review, code: str, reviewer: Person) -> str:
        keys = self.keys
        fields = _reviewer_fields(reviewer)
        args = [code, *[part for pair in fields.items() for part in pair]]
        answer = str(
            await self._call(lambda: self._accept(keys=[keys.review(review.id)], args=args))
        )
        if answer == "ok":

            async def tidy() -> None:
                await self.redis.delete(keys.review_code(code))
                await self.redis.sadd(
                    keys.reviewer_reviews(reviewer.tenant, reviewer.user), review.id
                )

            await self._call(tidy)
        return answer

    async def move(self, review_id: str, status: str, fields: Mapping[str, str] = {}) -> bool:
        args = [status, *[part for pair in fields.items() for part in pair]]
        key = self.keys.review(review_id)
        return bool(await self._call(lambda: self._status(keys=[key], args=args)))

    async def of_board(self, tenant: str, board: str) -> list[str]:
        key = self.keys.board_reviews(tenant, board)
        return sorted(await self._call(lambda: text.smembers(self.redis, key)))

    async def of_reviewer(self, tenant: str, user: str) -> list[str]:
        key = self.keys.reviewer_reviews(tenant, user)
        return sorted(await self._call(lambda: text.smembers(self.redis, key)))

    async def delete(self, review: Review) -> None:
        keys, r = self.keys, review

        async def run() -> None:
            await self.redis.delete(keys.review(r.id))
            if r.code and JOIN_CODE.match(r.code):
                await self.redis.delete(keys.review_code(r.code))
            await self.redis.srem(keys.board_reviews(r.board.tenant, r.board.board), r.id)
            if r.reviewer:
                await self.redis.srem(
                    keys.reviewer_reviews(r.reviewer.tenant, r.reviewer.user), r.id
                )

        await self._call(run)


def _reviewer_fields(person: Person) -> dict[str, str]:
    return {
        "rev_tenant": person.tenant,
        "rev_user": person.user,
        "rev_name": person.name,
        "rev_teams": person.teams_id,
        "rev_service": person.service_url,
    }


def _review(review_id: str, raw: Mapping[str, str]) -> Review:
    reviewer = None
    if raw.get("rev_user"):
        reviewer = Person(
            tenant=raw.get("rev_tenant", ""),
            user=raw["rev_user"],
            name=raw.get("rev_name", ""),
            teams_id=raw.get("rev_teams", ""),
            service_url=raw.get("rev_service", ""),
        )
    status = raw.get("status", INVITED)
    return Review(
        id=review_id,
        framework=raw.get("framework", ""),
        version=raw.get("version", ""),
        elements=tuple(int(n) for n in raw.get("elements", "").split(",") if n.isdigit()),
        board=SetMember(
            raw.get("b_tenant", ""), raw.get("b_board", ""), raw.get("b_name", ""), "", ""
        ),
        asked_by=raw.get("asked_by", ""),
        created=raw.get("created", ""),
        deadline=raw.get("deadline", ""),
        set_id=raw.get("set", ""),
        code=raw.get("code") or None,
        status=status if status in (INVITED, STARTED, DONE) else INVITED,
        reviewer=reviewer,
        done_at=raw.get("done_at") or None,
        peer=_peer(raw.get("peer", "")),
    )


def peer_field(peer: Mapping[int, tuple[str | None, str]]) -> str:
    return json.dumps({str(n): [r, e] for n, (r, e) in peer.items()})


def _peer(raw: str) -> dict[int, tuple[str | None, str]]:
    try:
        found = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {
        int(n): (v[0] if isinstance(v[0], str) else None, str(v[1]))
        for n, v in found.items()
        if n.isdigit() and isinstance(v, list) and len(v) == 2
    }
