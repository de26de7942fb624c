"""Learning sets in Redis, under their own hash tag.

The keys are laid out, with every other key, in dialogs/store/keys.py.

A set's own keys share the tag `{set:<id>}`, so each script that changes it is atomic in one
Redis Cluster slot; the pointers to it from a board or a person live in *their* tags, so deleting
a board or forgetting a person finds every set they touched. A set spans tenants, so its keys
carry no tenant: who may read or change it is decided from the authenticated turn (the person's
tenant, their role on a member board of that tenant, or being its facilitator), never from a
card. The rules that must hold under races (at most eight members, a code that was withdrawn
admits nobody, a share only from a member) are checked inside the scripts that write.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, TypeVar

from redis.asyncio import Redis

from ..store import text
from ..store.keys import JOIN_CODE as CODE
from ..store.keys import Keys
from ..store.store import stored
from .model import (
    LABELS,
    MAX_MEMBERS,
    SELF,
    SET_ID,
    LearningSet,
    Person,
    SetMember,
    Share,
    member_key,
)

T = TypeVar("T")
WRONG_CODES_PER_HOUR = 10

# KEYS: set, members. ARGV: code, member key, member JSON [tenant, board, name, joined] (its
# label is added here, the first letter no member holds), most members.
# Returns "ok:<label>", or why not: gone, code, full, already.
_JOIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
if redis.call('HGET', KEYS[1], 'code') ~= ARGV[1] then return 'code' end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 'already' end
local values = redis.call('HVALS', KEYS[2])
if #values >= tonumber(ARGV[4]) then return 'full' end
local used = {}
for _, v in ipairs(values) do
  local label = string.match(v, '"([A-H])"%]$')
  if label then used[label] = true end
end
local labels = 'ABCDEFGH'
local label = nil
for i = 1, #labels do
  local l = string.sub(labels, i, i)
  if not used[l] then label = l break end
end
if not label then return 'full' end
redis.call('HSET', KEYS[2], ARGV[2], string.sub(ARGV[3], 1, -2) .. ', "' .. label .. '"]')
return 'ok:' .. label
"""

# KEYS: set, members, shares. ARGV: member key, share JSON. Only a member shares; its share
# before this one is kept as "<key>:prev", for the change since it last shared.
_SHARE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
local before = redis.call('HGET', KEYS[3], ARGV[1])
if before then redis.call('HSET', KEYS[3], ARGV[1] .. ':prev', before) end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return 1
"""

# KEYS: members, votes. ARGV: member key, the vote. Only a member votes; a new vote replaces it.
_VOTE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""

# KEYS: members, shares, votes. ARGV: member key. The board and everything it gave the set.
_LEAVE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1], ARGV[1] .. ':prev')
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""

# KEYS: shares. ARGV: member key, the share as read. Withdraws the member's share only if it is
# still that one (a later share by someone else stays).
_WITHDRAW = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1], ARGV[1] .. ':prev')
return 1
"""

# KEYS: set. ARGV: field/value pairs. Writes only to a set that still exists.
_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""


class SetStore:
    def __init__(self, redis: Redis, keys: Keys | None = None) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self._join = redis.register_script(_JOIN)
        self._share = redis.register_script(_SHARE)
        self._vote = redis.register_script(_VOTE)
        self._leave = redis.register_script(_LEAVE)
        self._withdraw = redis.register_script(_WITHDRAW)
        self._if_exists = redis.register_script(_IF_EXISTS)

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        return await stored(operation)

    # -- a set -----------------------------------------------------------------------------------

    async def create(self, learning_set: LearningSet) -> None:
        keys, s = self.keys, learning_set
        fac = s.facilitator
        fields = {
            "name": s.name,
            "framework": s.framework,
            "named": "1" if s.named else "0",
            "created": s.created,
            "updated": s.created,
            "fac_tenant": fac.tenant,
            "fac_user": fac.user,
            "fac_name": fac.name,
            "fac_teams": fac.teams_id,
            "fac_service": fac.service_url,
        }
        if s.code:
            fields["code"] = s.code

        async def run() -> None:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(keys.learning_set(s.id), mapping=text.mapping(fields))
                if s.code:
                    pipe.set(keys.join_code(s.code), s.id)
                pipe.sadd(keys.facilitated(fac.tenant, fac.user), s.id)
                await pipe.execute()

        await self._call(run)

    async def get(self, set_id: str) -> LearningSet | None:
        if not SET_ID.match(set_id):
            return None
        keys = self.keys

        async def read() -> list[dict[str, str]]:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(keys.learning_set(set_id))
                pipe.hgetall(keys.set_members(set_id))
                pipe.hgetall(keys.set_shares(set_id))
                pipe.hgetall(keys.set_votes(set_id))
                return list(await pipe.execute())

        found, members, shares, votes = await self._call(read)
        if not found:
            return None
        return _learning_set(set_id, found, members, shares, votes)

    async def set_fields(self, set_id: str, fields: Mapping[str, str]) -> bool:
        """Change a set that still exists (a closed set is not brought back by a late click)."""
        key = self.keys.learning_set(set_id)
        args = [part for pair in fields.items() for part in pair]
        return bool(await self._call(lambda: self._if_exists(keys=[key], args=args)))

    async def new_code(self, set_id: str, code: str, old: str | None) -> bool:
        keys = self.keys
        if not await self.set_fields(set_id, {"code": code}):
            return False

        async def run() -> None:
            await self.redis.set(keys.join_code(code), set_id)
            if old and CODE.match(old):
                await self.redis.delete(keys.join_code(old))

        await self._call(run)
        return True

    async def withdraw_code(self, set_id: str, code: str | None) -> None:
        keys = self.keys

        async def run() -> None:
            await self.redis.hdel(keys.learning_set(set_id), "code")
            if code and CODE.match(code):
                await self.redis.delete(keys.join_code(code))

        await self._call(run)

    async def by_code(self, code: str) -> str | None:
        if not CODE.match(code):
            return None
        key = self.keys.join_code(code)
        return await self._call(lambda: text.get(self.redis, key)) or None

    async def wrong_code(self, tenant: str, user: str) -> int:
        """Count a wrong code tried by this person this hour; returns the count."""
        key = self.keys.wrong_codes(tenant, user)

        async def run() -> int:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 3600, nx=True)
                count, _ = await pipe.execute()
            return int(count)

        return await self._call(run)

    async def wrong_codes(self, tenant: str, user: str) -> int:
        key = self.keys.wrong_codes(tenant, user)
        return int(await self._call(lambda: self.redis.get(key)) or 0)

    # -- members ---------------------------------------------------------------------------------

    async def join(self, set_id: str, code: str, member: SetMember) -> str:
        """ "ok:<label>", or why not: gone, code, full, already."""
        keys = self.keys
        value = json.dumps([member.tenant, member.board, member.name, member.joined])
        index = keys.board_sets(member.tenant, member.board)
        # The board's pointer first: a crash after it leaves a pointer to a set the board is not
        # in (harmless), never a board in a set that deleting the board cannot find.
        await self._call(lambda: self.redis.sadd(index, set_id))
        answer = str(
            await self._call(
                lambda: self._join(
                    keys=[keys.learning_set(set_id), keys.set_members(set_id)],
                    args=[code, member.key, value, MAX_MEMBERS],
                )
            )
        )
        if answer != "already" and not answer.startswith("ok"):
            await self._call(lambda: self.redis.srem(index, set_id))
        return answer

    async def leave(self, set_id: str, tenant: str, board: str) -> bool:
        keys = self.keys
        mkey = member_key(tenant, board)
        left = bool(
            await self._call(
                lambda: self._leave(
                    keys=[
                        keys.set_members(set_id),
                        keys.set_shares(set_id),
                        keys.set_votes(set_id),
                    ],
                    args=[mkey],
                )
            )
        )
        index = keys.board_sets(tenant, board)
        await self._call(lambda: self.redis.srem(index, set_id))
        return left

    async def board_sets(self, tenant: str, board: str) -> list[str]:
        key = self.keys.board_sets(tenant, board)
        return sorted(await self._call(lambda: text.smembers(self.redis, key)))

    async def facilitated(self, tenant: str, user: str) -> list[str]:
        key = self.keys.facilitated(tenant, user)
        return sorted(await self._call(lambda: text.smembers(self.redis, key)))

    async def rename_member(self, set_id: str, member: SetMember, name: str) -> None:
        """A board renamed in Teams shows by its new name (where names are shown)."""
        keys = self.keys
        value = json.dumps([member.tenant, member.board, name, member.joined, member.label])

        async def run() -> None:
            if await self.redis.hexists(keys.set_members(set_id), member.key):
                await self.redis.hset(keys.set_members(set_id), member.key, value)

        await self._call(run)

    # -- shares and votes -----------------------------------------------------------------------

    async def share(
        self, set_id: str, tenant: str, board: str, share: Share, user: str | None = None
    ) -> bool:
        """`user`: the chair, when they shared their own self-assessment (for `forget me`)."""
        keys = self.keys
        mkey = member_key(tenant, board)
        value = json.dumps(_share_value(share), sort_keys=True)
        done = bool(
            await self._call(
                lambda: self._share(
                    keys=[
                        keys.learning_set(set_id),
                        keys.set_members(set_id),
                        keys.set_shares(set_id),
                    ],
                    args=[mkey, value],
                )
            )
        )
        if done and user is not None:
            index = keys.self_shares(tenant, user)
            await self._call(lambda: self.redis.sadd(index, f"{set_id} {mkey}"))
        return done

    async def withdraw_self_shares(self, tenant: str, user: str, ref: str) -> int:
        """`forget me`: every share of this person's own self-assessment (`ref`: theirs, as the
        share records it), gone from its set."""
        keys = self.keys
        index = keys.self_shares(tenant, user)
        withdrawn = 0
        for entry in await self._call(lambda: text.smembers(self.redis, index)):
            set_id, _, mkey = str(entry).partition(" ")
            if not SET_ID.match(set_id):
                continue
            raw = await self._call(partial(text.hget, self.redis, keys.set_shares(set_id), mkey))
            share = _share(raw) if raw else None
            if raw is None or share is None or share.source != SELF or share.by != ref:
                continue
            withdrawn += int(
                await self._call(
                    partial(self._withdraw, keys=[keys.set_shares(set_id)], args=[mkey, raw])
                )
            )
        await self._call(lambda: self.redis.delete(index))
        return withdrawn

    async def vote(self, set_id: str, tenant: str, board: str, elements: tuple[int, ...]) -> bool:
        keys = self.keys
        mkey = member_key(tenant, board)
        value = ",".join(str(n) for n in elements)
        return bool(
            await self._call(
                lambda: self._vote(
                    keys=[keys.set_members(set_id), keys.set_votes(set_id)], args=[mkey, value]
                )
            )
        )

    # -- the end of a set ------------------------------------------------------------------------

    async def delete(self, learning_set: LearningSet) -> None:
        """The set, its members, shares and votes, its code, and every pointer to it."""
        keys, s = self.keys, learning_set

        async def run() -> None:
            await self.redis.delete(
                keys.learning_set(s.id), keys.set_members(s.id), keys.set_shares(s.id)
            )
            await self.redis.delete(keys.set_votes(s.id))
            if s.code and CODE.match(s.code):
                await self.redis.delete(keys.join_code(s.code))
            for member in s.members:
                await self.redis.srem(keys.board_sets(member.tenant, member.board), s.id)
            fac = s.facilitator
            await self.redis.srem(keys.facilitated(fac.tenant, fac.user), s.id)

        await self._call(run)

    async def forget_board(self, tenant: str, board: str) -> None:
        key = self.keys.board_sets(tenant, board)
        await self._call(lambda: self.redis.delete(key))

    async def forget_facilitator(self, tenant: str, user: str) -> None:
        key = self.keys.facilitated(tenant, user)
        await self._call(lambda: self.redis.delete(key))


# -- encoding ------------------------------------------------------------------------------------


def _share_value(share: Share) -> dict[str, Any]:
    return {
        "ratings": {str(n): r for n, r in sorted(share.ratings.items())},
        "at": share.at,
        "source": share.source,
        "ref": share.ref,
        "by": share.by,
    }


def _share(raw: str | None, before: str | None = None) -> Share | None:
    data = _json(raw)
    if not isinstance(data, dict):
        return None
    prev = _json(before) if before else None
    return Share(
        ratings=_ratings(data.get("ratings")),
        at=str(data.get("at", "")),
        source=str(data.get("source", "")),
        ref=str(data.get("ref", "")),
        by=str(data.get("by", "")),
        previous=_ratings(prev.get("ratings")) if isinstance(prev, dict) else {},
        previous_at=str(prev.get("at")) if isinstance(prev, dict) else None,
    )


def _ratings(value: Any) -> dict[int, str]:
    if not isinstance(value, dict):
        return {}
    return {int(n): str(r) for n, r in value.items() if str(n).isdigit()}


def _json(raw: str | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _member(raw: str) -> SetMember | None:
    data = _json(raw)
    if not isinstance(data, list) or len(data) != 5:
        return None
    tenant, board, name, joined, label = (str(part) for part in data)
    return SetMember(tenant, board, name, joined, label)


def _numbers(value: str | None) -> tuple[int, ...]:
    return tuple(int(n) for n in (value or "").split(",") if n.isdigit())


def _learning_set(
    set_id: str,
    found: Mapping[str, str],
    members: Mapping[str, str],
    shares: Mapping[str, str],
    votes: Mapping[str, str],
) -> LearningSet:
    listed = [m for m in (_member(v) for v in members.values()) if m is not None]
    listed.sort(key=lambda m: (m.joined, LABELS.find(m.label)))
    keys = {m.key for m in listed}
    return LearningSet(
        id=set_id,
        name=found.get("name", ""),
        framework=found.get("framework", ""),
        named=found.get("named") == "1",
        created=found.get("created", ""),
        facilitator=Person(
            tenant=found.get("fac_tenant", ""),
            user=found.get("fac_user", ""),
            name=found.get("fac_name", ""),
            teams_id=found.get("fac_teams", ""),
            service_url=found.get("fac_service", ""),
        ),
        code=found.get("code") or None,
        members=tuple(listed),
        shares={
            k: share
            for k, v in shares.items()
            if k in keys and (share := _share(v, shares.get(f"{k}:prev"))) is not None
        },
        votes={k: _numbers(v) for k, v in votes.items() if k in keys},
        focus=_numbers(found.get("focus")),
        focus_by=found.get("focus_by", ""),
    )
