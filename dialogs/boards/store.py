"""Boards, members and rounds in Redis (the keys: dialogs/store/keys.py).

Every key of a board carries the tenant and the team id in one hash tag, so a board's scripts
are atomic in one Redis Cluster slot and no id from a card can reach another tenant's board: the
tenant always comes from the authenticated activity. Rules that must hold under races (one clerk
at least, one chair at most, one open round per board, a round closed once, a plan saved over
the version it was edited from) are checked inside the scripts that write.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import Any, TypeVar

from redis.asyncio import Redis

from ..store import text
from ..store.keys import ROUND_ID, Keys
from ..store.store import StoreUnavailable, stored
from .model import CLERK, OPEN, TRUSTEE, Board, CardRef, Member, Plan, Round

T = TypeVar("T")

_ROLE = "local function role_of(v) return v and string.match(v, '^([^\\t]*)') end\n"
# A member's value is "role<TAB>Teams id<TAB>name": their Teams id, or nil when it has none.
_TEAMS_ID = """
local function teams_id_of(v)
  local id = v and string.match(v, '^[^\\t]*\\t([^\\t]*)')
  if id ~= '' then return id end
end
"""

# KEYS: board. ARGV: created, then field/value pairs that may change (name, service_url,
# channel). Creates the board if it is new; returns 1 if it was.
_ENSURE = """
local new = redis.call('EXISTS', KEYS[1]) == 0
if new then redis.call('HSET', KEYS[1], 'created', ARGV[1]) end
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
if new then return 1 end
return 0
"""

# KEYS: members. ARGV: the new clerk's key, then key/value pairs of the whole roster.
# The first person to set a board up becomes its clerk; later, nobody can take it that way.
_CLAIM = (
    _ROLE
    + """
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
  if role_of(v) == 'clerk' then return 0 end
end
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
local v = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], 'clerk' .. string.sub(v, #role_of(v) + 1))
return 1
"""
)

# KEYS: members. ARGV: who asks, then key/"trustee<TAB>id<TAB>name" pairs of the current roster.
# Members who left are removed (unless they are the last clerk); newcomers join as trustees;
# everyone keeps their role and gets their current name.
_MERGE = (
    _ROLE
    + """
if role_of(redis.call('HGET', KEYS[1], ARGV[1])) ~= 'clerk' then return -1 end
local roster = {}
for i = 2, #ARGV, 2 do roster[ARGV[i]] = ARGV[i + 1] end
local current = redis.call('HGETALL', KEYS[1])
local clerks_left = 0
for i = 1, #current, 2 do
  if roster[current[i]] and role_of(current[i + 1]) == 'clerk' then
    clerks_left = clerks_left + 1
  end
end
local removed = 0
for i = 1, #current, 2 do
  local k, v = current[i], current[i + 1]
  if roster[k] then
    roster[k] = role_of(v) .. string.sub(roster[k], #role_of(roster[k]) + 1)
  elseif not (role_of(v) == 'clerk' and clerks_left == 0) then
    redis.call('HDEL', KEYS[1], k)
    removed = removed + 1
  end
end
for k, v in pairs(roster) do redis.call('HSET', KEYS[1], k, v) end
return removed
"""
)

# KEYS: members. ARGV: who asks, then key/role pairs. Returns "ok", "ok:<demoted chair>", or why
# not: not_clerk, unknown:<key>, bad_role, no_clerk, two_chairs.
_ROLES = (
    _ROLE
    + """
if role_of(redis.call('HGET', KEYS[1], ARGV[1])) ~= 'clerk' then return 'not_clerk' end
local all = redis.call('HGETALL', KEYS[1])
local values = {}
for i = 1, #all, 2 do values[all[i]] = all[i + 1] end
local named_chairs, changed = 0, {}
for i = 2, #ARGV, 2 do
  local k, r = ARGV[i], ARGV[i + 1]
  local v = values[k]
  if not v then return 'unknown:' .. k end
  if r ~= 'clerk' and r ~= 'chair' and r ~= 'trustee' and r ~= 'other' then return 'bad_role' end
  if r == 'chair' then named_chairs = named_chairs + 1 end
  values[k] = r .. string.sub(v, #role_of(v) + 1)
  changed[k] = true
end
if named_chairs > 1 then return 'two_chairs' end
local demoted = ''
if named_chairs == 1 then
  for k, v in pairs(values) do
    if role_of(v) == 'chair' and not changed[k] then
      values[k] = 'trustee' .. string.sub(v, #role_of(v) + 1)
      changed[k] = true
      demoted = k
    end
  end
end
local clerks = 0
for _, v in pairs(values) do if role_of(v) == 'clerk' then clerks = clerks + 1 end end
if clerks == 0 then return 'no_clerk' end
for k, _ in pairs(changed) do redis.call('HSET', KEYS[1], k, values[k]) end
if demoted ~= '' then return 'ok:' .. demoted end
return 'ok'
"""
)

# KEYS: board, round, rounds. ARGV: round id, score, field/value pairs. One open round a board.
# Returns "" when opened, else the id of the round already open. Scores only ever grow, so rounds
# opened within the same second still list in the order they were opened.
_OPEN = """
local current = redis.call('HGET', KEYS[1], 'open')
if current then return current end
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
local score = tonumber(ARGV[2])
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
redis.call('ZADD', KEYS[3], string.format('%.0f', score), ARGV[1])
redis.call('HSET', KEYS[1], 'open', ARGV[1])
return ''
"""

# KEYS: round. ARGV: field/value pairs. Writes only while the round is open.
_WHILE_OPEN = """
if redis.call('HGET', KEYS[1], 'status') ~= 'open' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# KEYS: board, round. ARGV: round id, closed at, closed by, then the steps still to do once
# it is closed (todo:<step> fields, see RoundService.resume). Returns 1 for the one call that
# closed it; every other (a second process, the deadline racing the clerk) gets 0.
_CLOSE = """
if redis.call('HGET', KEYS[2], 'status') ~= 'open' then return 0 end
redis.call('HSET', KEYS[2], 'status', 'closed', 'closed', ARGV[2], 'closed_by', ARGV[3])
for i = 4, #ARGV do redis.call('HSET', KEYS[2], 'todo:' .. ARGV[i], '1') end
redis.call('HDEL', KEYS[2], 'remind_at')
if redis.call('HGET', KEYS[1], 'open') == ARGV[1] then redis.call('HDEL', KEYS[1], 'open') end
return 1
"""

# KEYS: round. ARGV: reminders the clerk's card had seen. A second click of the same card (or
# a card from before the last reminder) sends nothing, unless the reminder it asked for is
# still being sent (a click cut short, tried again): then it carries that one on. Returns the
# reminder's number, or -1. The reminder is a step to do (todo:remind:<n>) until it is queued.
_REMIND = """
if redis.call('HGET', KEYS[1], 'status') ~= 'open' then return -1 end
local seen = tonumber(ARGV[1])
if (redis.call('HGET', KEYS[1], 'reminders') or '0') ~= ARGV[1] then
  if redis.call('HEXISTS', KEYS[1], 'todo:remind:' .. (seen + 1)) == 1 then return seen + 1 end
  return -1
end
local n = redis.call('HINCRBY', KEYS[1], 'reminders', 1)
redis.call('HSET', KEYS[1], 'todo:remind:' .. n, '1')
return n
"""

# KEYS: round. ARGV: the version the chair edited, plan JSON, published-at or "". Returns the
# new version, or -1 when the plan changed meanwhile. A publish leaves a step to do
# (todo:publish: the post to the channel). The same plan sent again over the version it made
# (a click cut short, tried again) is the same save: its version is returned.
_PLAN = """
if redis.call('HGET', KEYS[1], 'status') ~= 'closed' then return -2 end
local version = redis.call('HGET', KEYS[1], 'plan_version') or '0'
if version ~= ARGV[1] then
  local again = tonumber(version) == tonumber(ARGV[1]) + 1
    and redis.call('HGET', KEYS[1], 'plan') == ARGV[2]
    and (ARGV[3] == '' or redis.call('HEXISTS', KEYS[1], 'published') == 1)
  if again then return tonumber(version) end
  return -1
end
redis.call('HSET', KEYS[1], 'plan', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'published', ARGV[3], 'todo:publish', '1') end
return redis.call('HINCRBY', KEYS[1], 'plan_version', 1)
"""

# KEYS: round. ARGV: steps done. Each is removed from the round's steps to do.
_DONE = """
for i = 1, #ARGV do redis.call('HDEL', KEYS[1], 'todo:' .. ARGV[i]) end
return 1
"""


# KEYS: members. ARGV: member keys or Teams ids of people who left the team. Removes them, except
# the board's last clerks (a board keeps someone who can run it, as `_MERGE` does). Returns the
# removed as key, value, key, value...
_REMOVE = (
    _ROLE
    + _TEAMS_ID
    + """
local gone = {}
for i = 1, #ARGV do gone[ARGV[i]] = true end
local current = redis.call('HGETALL', KEYS[1])
local leaving, clerks_staying = {}, 0
for i = 1, #current, 2 do
  local k, v = current[i], current[i + 1]
  local teams_id = teams_id_of(v)
  if gone[k] or (teams_id and gone[teams_id]) then
    leaving[#leaving + 1] = i
  elseif role_of(v) == 'clerk' then
    clerks_staying = clerks_staying + 1
  end
end
local removed = {}
for _, i in ipairs(leaving) do
  local k, v = current[i], current[i + 1]
  if role_of(v) ~= 'clerk' or clerks_staying > 0 then
    redis.call('HDEL', KEYS[1], k)
    -- Their 1:1 chat is no longer remembered for the board's messages either.
    local teams_id = teams_id_of(v)
    if teams_id then redis.call('HDEL', KEYS[2], teams_id) end
    removed[#removed + 1] = k
    removed[#removed + 1] = v
  end
end
return removed
"""
)

# KEYS: members, the board's remembered chats. ARGV: a member key, then Teams ids. Forgets the
# chats of those Teams ids and of the member's own.
_FORGET_CHATS = (
    _TEAMS_ID
    + """
local teams_id = teams_id_of(redis.call('HGET', KEYS[1], ARGV[1]))
if teams_id then redis.call('HDEL', KEYS[2], teams_id) end
for i = 2, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end
return 1
"""
)

# KEYS: members. ARGV: key/"trustee<TAB>id<TAB>name" pairs of people in the team. Newcomers join
# as trustees; members already there keep their role and get their current Teams id and name.
# Returns the keys of the newcomers.
_ADD = (
    _ROLE
    + """
local added = {}
for i = 1, #ARGV, 2 do
  local k, v = ARGV[i], ARGV[i + 1]
  local old = redis.call('HGET', KEYS[1], k)
  if old then
    redis.call('HSET', KEYS[1], k, role_of(old) .. string.sub(v, #role_of(v) + 1))
  else
    redis.call('HSET', KEYS[1], k, v)
    added[#added + 1] = k
  end
end
return added
"""
)

# KEYS: board. ARGV: now. Marks the board detached (the bot left its team); 1 for the call that
# did, 0 if it was already (Teams says so twice: installationUpdate and conversationUpdate).
_DETACH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'detached', ARGV[1]) == 1 then return 1 end
return 0
"""

# KEYS: board. Reattaches it; returns when it had been detached, or "" if it was not.
_REATTACH = """
local was = redis.call('HGET', KEYS[1], 'detached')
if not was then return '' end
redis.call('HDEL', KEYS[1], 'detached')
return was
"""

# KEYS: round. ARGV: field, value. Sets the field once, and only while the round is open.
_MARK_OPEN = """
if redis.call('HGET', KEYS[1], 'status') ~= 'open' then return 0 end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
"""

# KEYS: round. ARGV: the invited list as read, the new list. Replaces it while the round is open
# and nobody changed it meanwhile (1); else 0, and the caller reads again.
_INVITED = """
if redis.call('HGET', KEYS[1], 'status') ~= 'open' then return -1 end
if redis.call('HGET', KEYS[1], 'invited') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'invited', ARGV[2])
return 1
"""

# KEYS: a lease. ARGV: its holder's token. Deletes it only for its holder.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
CARD_TURN_MS = 20_000  # longer than reading a round and one update of a card can take
STEPS_TURN_MS = 60_000  # longer than a round's steps take (a summary to the channel and chair)


class RoleChange:
    """What `set_roles` did: ok, or the reason it did nothing."""

    def __init__(self, answer: str) -> None:
        self.ok = answer.startswith("ok")
        self.demoted = answer[3:] if answer.startswith("ok:") else None
        self.problem = None if self.ok else answer


class BoardStore:
    def __init__(self, redis: Redis, prefix: str = "tb") -> None:
        self.redis = redis
        self.keys = Keys(prefix)
        self._ensure = redis.register_script(_ENSURE)
        self._claim = redis.register_script(_CLAIM)
        self._merge = redis.register_script(_MERGE)
        self._roles = redis.register_script(_ROLES)
        self._open = redis.register_script(_OPEN)
        self._while_open = redis.register_script(_WHILE_OPEN)
        self._close = redis.register_script(_CLOSE)
        self._remind = redis.register_script(_REMIND)
        self._plan = redis.register_script(_PLAN)
        self._release = redis.register_script(_RELEASE)
        self._done = redis.register_script(_DONE)
        self._remove = redis.register_script(_REMOVE)
        self._forget_chats = redis.register_script(_FORGET_CHATS)
        self._add = redis.register_script(_ADD)
        self._detach = redis.register_script(_DETACH)
        self._reattach = redis.register_script(_REATTACH)
        self._mark_open = redis.register_script(_MARK_OPEN)
        self._invited = redis.register_script(_INVITED)

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        return await stored(operation)

    # -- boards and members ----------------------------------------------------------------------

    async def ensure(self, tenant: str, board: str, now: str, fields: Mapping[str, str]) -> bool:
        """Create the board if new (True), else refresh what Teams told us of it."""
        args = [now, *_flatten({k: v for k, v in fields.items() if v})]
        key = self.keys.board(tenant, board)
        created = bool(await self._call(lambda: self._ensure(keys=[key], args=args)))
        # Every time, not only when created: the index lies in another slot, so it cannot be
        # written in the same script, and a refused or lost write of it would otherwise hide
        # the board from its clerk's 1:1 chat for good.
        index = self.keys.tenant_boards(tenant)
        await self._call(lambda: self.redis.sadd(index, board))
        return created

    async def tenant_boards(self, tenant: str) -> list[str]:
        """The boards of one tenant, so a clerk can run theirs from a 1:1 chat."""
        index = self.keys.tenant_boards(tenant)
        return sorted(await self._call(lambda: text.smembers(self.redis, index)))

    async def set_card(self, tenant: str, board: str, activity: str) -> None:
        key = self.keys.board(tenant, board)
        await self._call(lambda: self.redis.hset(key, "card", activity))

    async def board(self, tenant: str, board: str) -> Board | None:
        async def read() -> tuple[dict[str, str], dict[str, str]]:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(self.keys.board(tenant, board))
                pipe.hgetall(self.keys.members(tenant, board))
                found, members = await pipe.execute()
            return found, members

        found, members = await self._call(read)
        if not found:
            return None
        return Board(
            tenant=tenant,
            id=board,
            name=found.get("name", ""),
            service_url=found.get("service_url", ""),
            channel=found.get("channel", ""),
            created=found.get("created", ""),
            card=found.get("card") or None,
            members=tuple(sorted(_members(members), key=lambda m: m.name.casefold())),
            detached=found.get("detached") or None,
        )

    async def open_round_id(self, tenant: str, board: str) -> str | None:
        key = self.keys.board(tenant, board)
        return await self._call(lambda: text.hget(self.redis, key, "open")) or None

    async def claim_clerk(
        self, tenant: str, board: str, clerk: Member, roster: Iterable[Member]
    ) -> bool:
        """Make `clerk` the board's first clerk and load the roster; False if it has one."""
        members = {m.key: m for m in roster}
        members.setdefault(clerk.key, clerk)
        args = [clerk.key, *_flatten({k: _member_value(m, TRUSTEE) for k, m in members.items()})]
        key = self.keys.members(tenant, board)
        return bool(await self._call(lambda: self._claim(keys=[key], args=args)))

    async def merge_roster(
        self, tenant: str, board: str, by: str, roster: Iterable[Member]
    ) -> int | None:
        """Bring the members up to date with Teams; None if `by` is not a clerk."""
        values = {m.key: _member_value(m, TRUSTEE) for m in roster}
        key = self.keys.members(tenant, board)
        removed = int(
            await self._call(lambda: self._merge(keys=[key], args=[by, *_flatten(values)]))
        )
        return None if removed < 0 else removed

    async def set_roles(
        self, tenant: str, board: str, by: str, roles: Mapping[str, str]
    ) -> RoleChange:
        key = self.keys.members(tenant, board)
        args = [by, *_flatten(dict(roles))]
        return RoleChange(str(await self._call(lambda: self._roles(keys=[key], args=args))))

    async def remove_members(self, tenant: str, board: str, ids: Iterable[str]) -> list[Member]:
        """People who left the team (by member key or Teams id), as they were on the board."""
        wanted = [i for i in ids if i]
        if not wanted:
            return []
        keys = [self.keys.members(tenant, board), self.keys.chats(tenant, board)]
        flat = await self._call(lambda: self._remove(keys=keys, args=wanted))
        return _members(dict(zip(flat[::2], flat[1::2], strict=True)))

    async def add_members(self, tenant: str, board: str, people: Iterable[Member]) -> list[str]:
        """People in the team: newcomers join as trustees (their keys are returned); members
        already there keep their role."""
        values = {m.key: _member_value(m, TRUSTEE) for m in people}
        if not values:
            return []
        key = self.keys.members(tenant, board)
        added = await self._call(lambda: self._add(keys=[key], args=_flatten(values)))
        return [str(k) for k in added]

    async def detach(self, tenant: str, board: str, now: str) -> bool:
        """The bot left the board's team; True for the one call that marked it."""
        key = self.keys.board(tenant, board)
        return bool(await self._call(lambda: self._detach(keys=[key], args=[now])))

    async def reattach(self, tenant: str, board: str) -> str | None:
        """The bot is back in the team: when it had been detached, or None if it was not."""
        key = self.keys.board(tenant, board)
        return str(await self._call(lambda: self._reattach(keys=[key]))) or None

    # -- rounds ----------------------------------------------------------------------------------

    async def open_round(self, tenant: str, board: str, rnd: Round) -> str | None:
        """Open `rnd`; None when opened, else the id of the round already open."""
        keys = [
            self.keys.board(tenant, board),
            self.keys.round(tenant, board, rnd.id),
            self.keys.rounds(tenant, board),
        ]
        args = [rnd.id, _score(rnd.opened), *_flatten(_round_fields(rnd))]
        current = await self._call(lambda: self._open(keys=keys, args=args))
        return str(current) or None

    async def round(self, tenant: str, board: str, round_id: str) -> Round | None:
        if not ROUND_ID.match(round_id):
            return None
        key = self.keys.round(tenant, board, round_id)
        raw = await self._call(lambda: text.hgetall(self.redis, key))
        return _round(round_id, raw) if raw else None

    async def rounds(self, tenant: str, board: str) -> list[str]:
        """Round ids, oldest first."""
        key = self.keys.rounds(tenant, board)
        return await self._call(lambda: text.zrange(self.redis, key))

    async def while_open(
        self, tenant: str, board: str, round_id: str, fields: Mapping[str, str]
    ) -> bool:
        key = self.keys.round(tenant, board, round_id)
        args = _flatten(dict(fields))
        return bool(await self._call(lambda: self._while_open(keys=[key], args=args)))

    async def update_round(
        self, tenant: str, board: str, round_id: str, fields: Mapping[str, str]
    ) -> None:
        key = self.keys.round(tenant, board, round_id)
        await self._call(lambda: text.hset(self.redis, key, fields))

    async def close_round(
        self, tenant: str, board: str, round_id: str, now: str, by: str, todo: Iterable[str] = ()
    ) -> bool:
        """Close the round once, leaving `todo`: its steps still to do (RoundService.resume)."""
        keys = [self.keys.board(tenant, board), self.keys.round(tenant, board, round_id)]
        args = [round_id, now, by, *todo]
        return bool(await self._call(lambda: self._close(keys=keys, args=args)))

    async def mark_open(
        self, tenant: str, board: str, round_id: str, field: str, value: str
    ) -> bool:
        """Set a field of an open round once (a team change); False if set or closed."""
        key = self.keys.round(tenant, board, round_id)
        return bool(await self._call(lambda: self._mark_open(keys=[key], args=[field, value])))

    async def mark_once(
        self, tenant: str, board: str, round_id: str, field: str, value: str
    ) -> bool:
        """Set a field of a round if it is not set yet: True for the one call that set it."""
        key = self.keys.round(tenant, board, round_id)
        return bool(await self._call(lambda: self.redis.hsetnx(key, field, value)))

    async def unmark(self, tenant: str, board: str, round_id: str, field: str) -> None:
        key = self.keys.round(tenant, board, round_id)
        await self._call(lambda: self.redis.hdel(key, field))

    async def invite_late(self, tenant: str, board: str, round_id: str, member: Member) -> bool:
        """Add someone to an open round's invited; False if the round is closed (or gone)."""
        key = self.keys.round(tenant, board, round_id)
        for _ in range(5):
            raw = await self._call(lambda: text.hget(self.redis, key, "invited"))
            if raw is None:
                return False
            invited = json.loads(raw)
            if not any(k == member.key for k, _, _ in invited):
                invited.append([member.key, member.teams_id, member.name])
            args = [raw, json.dumps(invited)]
            answer = int(await self._call(partial(self._invited, keys=[key], args=args)))
            if answer != 0:
                return answer == 1
        raise StoreUnavailable("the round's invited list kept changing")

    async def card_stale(self, tenant: str, board: str, round_id: str) -> None:
        """The clerk's round card no longer shows the round as it is."""
        key = self.keys.round(tenant, board, round_id)
        await self._call(lambda: self.redis.hset(key, "card_stale", "1"))

    async def take_card_stale(self, tenant: str, board: str, round_id: str) -> bool:
        """Clear the mark, and say whether it was there (one atomic HDEL)."""
        key = self.keys.round(tenant, board, round_id)
        return bool(await self._call(lambda: self.redis.hdel(key, "card_stale")))

    async def card_turn(self, tenant: str, board: str, round_id: str, token: str) -> bool:
        """The right to update the clerk's card, for one process at a time (a short lease)."""
        key = self.keys.card_turn(tenant, board, round_id)
        return bool(await self._call(lambda: self.redis.set(key, token, nx=True, px=CARD_TURN_MS)))

    async def end_card_turn(self, tenant: str, board: str, round_id: str, token: str) -> None:
        key = self.keys.card_turn(tenant, board, round_id)
        await self._call(lambda: self._release(keys=[key], args=[token]))

    async def steps_turn(self, tenant: str, board: str, round_id: str, token: str) -> bool:
        """The right to do a round's steps still to do, for one process at a time (a lease)."""
        key = self.keys.steps_turn(tenant, board, round_id)
        return bool(await self._call(lambda: self.redis.set(key, token, nx=True, px=STEPS_TURN_MS)))

    async def end_steps_turn(self, tenant: str, board: str, round_id: str, token: str) -> None:
        key = self.keys.steps_turn(tenant, board, round_id)
        await self._call(lambda: self._release(keys=[key], args=[token]))

    async def done(self, tenant: str, board: str, round_id: str, steps: Iterable[str]) -> None:
        """Steps of the round's operation that are done, so nobody does them again."""
        key = self.keys.round(tenant, board, round_id)
        args = list(steps)
        if args:
            await self._call(lambda: self._done(keys=[key], args=args))

    async def count_resume(self, tenant: str, board: str, round_id: str) -> int:
        """How many times the round's unfinished steps have been taken up again, this one too."""
        key = self.keys.round(tenant, board, round_id)
        return int(await self._call(lambda: self.redis.hincrby(key, "resumes", 1)))

    async def count_reminder(self, tenant: str, board: str, round_id: str, seen: int) -> int | None:
        """The number of this reminder, or None if the card was stale or the round closed."""
        key = self.keys.round(tenant, board, round_id)
        answer = int(await self._call(lambda: self._remind(keys=[key], args=[str(seen)])))
        return None if answer < 0 else answer

    async def save_plan(
        self,
        tenant: str,
        board: str,
        round_id: str,
        version: int,
        plan: Mapping[int, Plan],
        published: str | None,
    ) -> int | None:
        """The plan's new version, or None when it changed since `version` (or is not editable)."""
        key = self.keys.round(tenant, board, round_id)
        encoded = json.dumps({str(n): [p.actions, p.progress] for n, p in sorted(plan.items())})
        args = [str(version), encoded, published or ""]
        answer = int(await self._call(lambda: self._plan(keys=[key], args=args)))
        return None if answer < 0 else answer

    async def delete_round(self, tenant: str, board: str, round_id: str) -> None:
        keys = self.keys
        round_key = keys.round(tenant, board, round_id)

        async def run() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(round_key)
                pipe.zrem(keys.rounds(tenant, board), round_id)
                await pipe.execute()

        await self._call(run)

    async def forget_chats(self, tenant: str, teams_ids: Iterable[str], member: str) -> None:
        """`forget me`: the 1:1 chat the outbox remembers for this person (by their Teams ids,
        and by the Teams id each board has for the member key `member`), on every board of the
        tenant."""
        ids = [i for i in teams_ids if i]
        boards = await self.tenant_boards(tenant)

        async def run() -> None:
            for board in boards:
                await self._forget_chats(
                    keys=[self.keys.members(tenant, board), self.keys.chats(tenant, board)],
                    args=[member, *ids],
                )

        await self._call(run)

    async def delete_board(self, tenant: str, board: str) -> int:
        """Every key of the board (its delivery records too), and its place in the tenant."""
        pattern = self.keys.board_pattern(tenant, board)

        async def run() -> int:
            found = [key async for key in self.redis.scan_iter(match=pattern, count=500)]
            deleted = int(await self.redis.delete(*found)) if found else 0
            await self.redis.srem(self.keys.tenant_boards(tenant), board)
            return deleted

        return await self._call(run)


# -- encoding ------------------------------------------------------------------------------------


def _flatten(fields: Mapping[str, str]) -> list[str]:
    return [part for pair in fields.items() for part in pair]


def _score(now: str) -> str:
    return "".join(ch for ch in now if ch.isdigit())[:14] or "0"


def _clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def _member_value(member: Member, role: str) -> str:
    return f"{role}\t{_clean(member.teams_id)}\t{_clean(member.name)}"


def _members(raw: Mapping[str, str]) -> list[Member]:
    found = []
    for key, value in raw.items():
        role, _, rest = value.partition("\t")
        teams_id, _, name = rest.partition("\t")
        found.append(Member(key=key, teams_id=teams_id, name=name, role=role))
    return found


def _card_ref(value: str | None) -> CardRef | None:
    if not value or "\t" not in value:
        return None
    conversation, activity = value.split("\t", 1)
    return CardRef(conversation, activity)


def card_ref_value(ref: CardRef) -> str:
    return f"{ref.conversation}\t{ref.activity}"


def _round_fields(rnd: Round) -> dict[str, str]:
    fields = {
        "framework": rnd.framework,
        "version": rnd.version,
        "elements": ",".join(str(n) for n in rnd.elements),
        "deadline": rnd.deadline,
        "attributed": "1" if rnd.attributed else "0",
        "min": str(rnd.min_responses),
        "message": rnd.message,
        "status": rnd.status,
        "opened": rnd.opened,
        "opened_by": rnd.opened_by,
        "invited": json.dumps([[m.key, m.teams_id, m.name] for m in rnd.invited]),
        "reminders": str(rnd.reminders),
        "plan_version": str(rnd.plan_version),
    }
    optional = {
        "remind_at": rnd.remind_at,
        "previous": rnd.previous,
        "clerk_card": card_ref_value(rnd.clerk_card) if rnd.clerk_card else None,
        "issues": "team" if rnd.issues_to_team else None,
    }
    fields.update({k: v for k, v in optional.items() if v})
    fields.update({f"todo:{step}": "1" for step in rnd.todo})
    return fields


def _round(round_id: str, raw: Mapping[str, str]) -> Round:
    invited = tuple(
        Member(key=k, teams_id=i, name=n, role=TRUSTEE) for k, i, n in _json(raw, "invited", [])
    )
    plan = {
        int(n): Plan(actions=str(pair[0]), progress=str(pair[1]))
        for n, pair in _json(raw, "plan", {}).items()
        if str(n).isdigit()
    }
    return Round(
        id=round_id,
        framework=raw.get("framework", ""),
        version=raw.get("version", ""),
        elements=tuple(int(n) for n in raw.get("elements", "").split(",") if n.isdigit()),
        deadline=raw.get("deadline", ""),
        attributed=raw.get("attributed") == "1",
        min_responses=int(raw.get("min") or 3),
        message=raw.get("message", ""),
        status=raw.get("status", OPEN),
        opened=raw.get("opened", ""),
        opened_by=raw.get("opened_by", ""),
        invited=invited,
        remind_at=raw.get("remind_at") or None,
        closed=raw.get("closed") or None,
        closed_by=raw.get("closed_by") or None,
        clerk_card=_card_ref(raw.get("clerk_card")),
        summary_card=_card_ref(raw.get("summary_card")),
        reminders=int(raw.get("reminders") or 0),
        previous=raw.get("previous") or None,
        plan=plan,
        plan_version=int(raw.get("plan_version") or 0),
        published=raw.get("published") or None,
        left=_prefixed(raw, "left:"),
        joined=_prefixed(raw, "joined:"),
        todo=tuple(sorted(_prefixed(raw, "todo:"))),
        issues_to_team=raw.get("issues") == "team",
    )


def _prefixed(raw: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}


def _json(raw: Mapping[str, str], field: str, default: Any) -> Any:
    try:
        return json.loads(raw[field]) if raw.get(field) else default
    except ValueError:
        return default


__all__ = ["CLERK", "BoardStore", "RoleChange", "card_ref_value"]
