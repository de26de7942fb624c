"""The outbox: a durable queue of personal messages in Redis, and what became of each.

How a job moves (keys in jobs.py):

The queue is spread over QUEUE_SHARDS shards (dialogs/store/keys.py), each a stream with its own
hash tag and consumer group and its own due set of retries, so that on a Redis Cluster the work
lands on every master, not on one slot's. A job's shard follows from its id. Every worker reads
every shard in turn (without blocking: a read that finds nothing waits up to `block_ms` for this
process to queue something, and looks again), claims from every shard, and promotes every
shard's due retries; the unsharded stream and due set of an older version are read as one more
shard, so nothing it queued is left behind, and never written.

1. `enqueue_all` (and `enqueue`, for one) writes the job hashes (state `queued`) and the round
   index with one script per board's round (up to ENQUEUE_CHUNK jobs a script), leaving any job
   that exists already, then adds `{job: <id>}` to each new job's shard's stream (one pipeline)
   and marks them `streamed`. A crash between the two leaves a queued job that is not on the
   stream; enqueueing it again (the round logic re-enqueues its recipients when it resumes) puts
   it on, because `streamed` is still unset.
2. A worker reads the entry as a consumer of the group (XREADGROUP). Entries stay pending until
   the job is settled, so a worker that dies mid-way loses nothing: another one claims its entries
   once they have been idle long enough (XAUTOCLAIM).
3. Before sending, `begin` (one script) refuses a job that is already settled (the delivered
   marker), one whose retry is not due yet, and one whose attempt is leased to someone else; else
   it counts the attempt, leases the job to this attempt and returns the job with the 1:1 chat
   remembered for its recipient (the board's `dq:chats`), if any, which the message is posted
   into without opening the chat again. A long wait for a pacing slot renews the lease.
4. Right after the connector answers, `settle` (one script) records the outcome: delivered (the
   marker: activity id and conversation id; a personal job's chat is remembered for the next
   message), unreachable or failed (with the reason), or
   retrying (attempt n, next at). A job of several messages records each one as it is posted
   (`mark_part`, by the lease holder only), so a retry posts only what is left. A job the board
   says its recipient may no longer have is settled `dropped`, unsent; a role job is settled
   `forwarded` once a personal job is queued for each holder of the role. A retry goes into the
   due set, which workers move back onto the stream (one script) when it is due. Then the entry
   is acknowledged and deleted. Once a job is settled for good its message is deleted from the
   record (kept only while it may still be sent: failed, which can be queued again, or a role
   job, which may be handed on again).

A stream entry is only a prompt to look at a job; the job hash decides. So a duplicate entry (a
re-enqueue racing, a claim of a slow worker's entry) sends nothing twice.

What is not guaranteed, honestly:
- A crash (or a lost Redis connection) after Teams accepted a message and before `settle` wrote
  the marker sends that message again when the entry is claimed. So does a call that timed out
  here after Teams had in fact accepted it. The window is one connector round trip plus one
  Redis write; Teams offers no idempotency key to close it.
- The lease is a time limit: a worker frozen for longer than its lease (a stopped VM, say) can
  find that another has sent the same job meanwhile.
- A job in flight when its recipient says `forget me` (or leaves the board) can remember their
  chat again when it settles, a moment after it was forgotten: the window is one send.
- Outcome hooks run after the outcome is stored, at most once; after a crash the round logic
  should read `round_status` rather than wait for a hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import StreamIdT

from dialogs.store import text
from dialogs.store.keys import QUEUE_SHARDS, Keys, Shard, queue_shard, split_job_id

from .jobs import FINAL_STATES, PERSONAL, Job, JobStatus, Recipient, from_ms
from .sender import Sent

GROUP = "senders"
SHARDS: tuple[Shard, ...] = tuple(range(QUEUE_SHARDS))
READ: tuple[Shard, ...] = (*SHARDS, None)  # None: the unsharded stream of before, if any
_FINAL_LUA = "{" + ", ".join(f"['{state}'] = true" for state in sorted(FINAL_STATES)) + "}"
DEFAULT_RETENTION = timedelta(days=90)
# The fields of a job's record that its status is made of (everything but what it sends).
STATUS_FIELDS = (
    "state",
    "round",
    "recipient",
    "conversation",
    "audience",
    "parent",
    "attempts",
    "next_at",
    "activity_id",
    "conversation_id",
    "reason",
    "error",
    "updated",
)

_NOW_MS = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

# KEYS: round index, then the jobs (all of one board's round). ARGV: how many arguments follow
# that every job shares, those field/value pairs, then for each job its id, how many arguments
# of its own follow, and those pairs. A job that exists already is left as it is. Returns, for
# each job, 1 if it still has to go on the stream (new, or never streamed), else 0.
_ENQUEUE = (
    _NOW_MS
    + """
local now = string.format('%d', now_ms())
local shared = tonumber(ARGV[1])
local common = {}
for i = 2, 1 + shared do common[#common + 1] = ARGV[i] end
local at = 2 + shared
local out = {}
-- The round's index keeps the order they were queued in: each job a score above the last.
local score = tonumber(now)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
for k = 2, #KEYS do
  local id, own = ARGV[at], tonumber(ARGV[at + 1])
  if redis.call('EXISTS', KEYS[k]) == 1 then
    out[#out + 1] = redis.call('HGET', KEYS[k], 'streamed') == '1' and 0 or 1
  else
    redis.call('HSET', KEYS[k], 'state', 'queued', 'attempts', '0', 'streamed', '0',
      'enqueued', now, 'updated', now, unpack(common))
    if own > 0 then redis.call('HSET', KEYS[k], unpack(ARGV, at + 2, at + 1 + own)) end
    redis.call('ZADD', KEYS[1], string.format('%d', score), id)
    score = score + 1
    out[#out + 1] = 1
  end
  at = at + 2 + own
end
return out
"""
)
ENQUEUE_CHUNK = 250  # jobs per enqueue script: one script holds Redis up for a few ms at most

# KEYS: job, the board's chats. ARGV: attempt token, lease ms. Returns {verdict, detail, the
# job's fields (when it goes), the 1:1 chat remembered for its recipient (or '')}.
_BEGIN = (
    _NOW_MS
    + f"local FINAL = {_FINAL_LUA}\n"
    + """
local found = redis.call('HMGET', KEYS[1], 'state', 'lease', 'next_at', 'to')
local state = found[1]
if not state then return {'missing', ''} end
if FINAL[state] then return {'settled', state} end
local now = now_ms()
local lease = tonumber(found[2] or '0')
if lease > now then return {'busy', string.format('%d', lease - now)} end
local next_at = tonumber(found[3] or '0')
if next_at > now then return {'later', string.format('%d', next_at)} end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[1],
  'lease', string.format('%d', now + tonumber(ARGV[2])), 'updated', string.format('%d', now))
local chat = found[4] and redis.call('HGET', KEYS[2], found[4]) or ''
return {'go', tostring(attempts), redis.call('HGETALL', KEYS[1]), chat or ''}
"""
)

# KEYS: job, round index, the board's chats. ARGV: attempt token, new state, retry delay ms,
# retention ms, field/value pairs. The first delivery stands; other outcomes only from the lease
# holder of an unsettled job. A personal job delivered leaves its 1:1 chat remembered. Returns
# {0} if nothing was written, else {the due time (ms) of a retry, or 1; the job's fields now}.
_SETTLE = (
    _NOW_MS
    + f"local FINAL = {_FINAL_LUA}\n"
    + """
local found = redis.call('HMGET', KEYS[1], 'state', 'owner', 'to')
local state = found[1]
if not state or state == 'delivered' then return {0} end
if ARGV[2] ~= 'delivered' then
  if FINAL[state] then return {0} end
  if found[2] ~= ARGV[1] then return {0} end
end
local now = now_ms()
redis.call('HDEL', KEYS[1], 'owner', 'lease')
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updated', string.format('%d', now))
if #ARGV > 4 then redis.call('HSET', KEYS[1], unpack(ARGV, 5)) end
if ARGV[2] == 'retrying' then
  local due = now + tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'next_at', string.format('%d', due))
  return {due, redis.call('HGETALL', KEYS[1])}
end
redis.call('HDEL', KEYS[1], 'next_at')
if ARGV[2] ~= 'failed' and ARGV[2] ~= 'forwarded' then
  -- Sent, or never to be: what it said (a summary's evidence, say) is not kept with the record.
  redis.call('HDEL', KEYS[1], 'message', 'more')
end
if ARGV[2] == 'delivered' then
  local chat = redis.call('HGET', KEYS[1], 'conversation_id')
  if found[3] and chat and chat ~= '' then redis.call('HSET', KEYS[3], found[3], chat) end
end
local keep = tonumber(ARGV[4])
if keep > 0 then
  redis.call('PEXPIRE', KEYS[1], keep)
  redis.call('PEXPIRE', KEYS[2], keep)
end
return {1, redis.call('HGETALL', KEYS[1])}
"""
)

# KEYS: job. ARGV: attempt token, lease ms. The attempt holding the job keeps it a while longer
# (it waited for a slot). Returns 1 if it still holds it.
_RENEW = (
    _NOW_MS
    + """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease', string.format('%d', now_ms() + tonumber(ARGV[2])))
return 1
"""
)

# KEYS: the board's chats. ARGV: Teams user id, the conversation id that Teams refused. Forgets
# it, unless another has been remembered since.
_FORGET_CHAT = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 1
"""

# KEYS: due set, stream. ARGV: how many. Moves due retries onto the stream, atomically, so two
# workers cannot both move the same one.
_PROMOTE = (
    _NOW_MS
    + """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms(), 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(ids) do
  redis.call('XADD', KEYS[2], '*', 'job', id)
  redis.call('ZREM', KEYS[1], id)
end
return #ids
"""
)

# KEYS: job. ARGV: attempt token, part number, activity id, conversation id. One message of a
# job posted, recorded by the attempt holding the lease only. Returns 1 if it was written.
_PART = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'part:' .. ARGV[2], ARGV[3], 'conversation_id', ARGV[4])
return 1
"""

# KEYS: job, round index. A job that failed (Teams kept refusing, retryably) made new: queued,
# no attempts, to go on the stream again. Returns 1 if it was failed and is now queued.
_REQUEUE = (
    _NOW_MS
    + """
if redis.call('HGET', KEYS[1], 'state') ~= 'failed' then return 0 end
redis.call('HDEL', KEYS[1], 'next_at', 'reason', 'owner', 'lease')
redis.call('HSET', KEYS[1], 'state', 'queued', 'attempts', '0', 'streamed', '0',
  'updated', string.format('%d', now_ms()))
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
return 1
"""
)

# KEYS: jobs (of one board). Marks each as on the stream, unless it has expired meanwhile.
_MARK_STREAMED = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'streamed', '1') end
end
return 1
"""


@dataclass(frozen=True)
class Entry:
    """One stream entry: a prompt to look at a job, in the stream of one shard of the queue."""

    entry_id: str
    job_id: str
    shard: Shard = None


class _Wake:
    """A worker's read waiting for this process to queue something, and where it was queued."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.shards: set[int] = set()

    def queued(self, shard: int) -> None:
        self.shards.add(shard)
        self.event.set()


@dataclass(frozen=True)
class Begin:
    verdict: str  # go, settled, busy, later, missing
    attempt: int = 0
    due_ms: int = 0  # for `later`: when the retry is due
    job: Job | None = None  # for `go`: the job, as stored
    posted: dict[int, Sent] = field(default_factory=dict)  # its messages posted already
    chat: str = ""  # the 1:1 chat remembered for its recipient, if any


class Outbox:
    def __init__(
        self,
        redis: Redis,
        prefix: str = "tb",
        *,
        retention: timedelta | None = DEFAULT_RETENTION,
    ) -> None:
        self.redis = redis
        self.keys = Keys(prefix)
        self.retention_ms = int(retention.total_seconds() * 1000) if retention else 0
        self._enqueue = redis.register_script(_ENQUEUE)
        self._begin = redis.register_script(_BEGIN)
        self._settle = redis.register_script(_SETTLE)
        self._promote = redis.register_script(_PROMOTE)
        self._mark_streamed = redis.register_script(_MARK_STREAMED)
        self._part = redis.register_script(_PART)
        self._requeue = redis.register_script(_REQUEUE)
        self._renew = redis.register_script(_RENEW)
        self._forget_chat = redis.register_script(_FORGET_CHAT)
        self._ready: set[Shard] = set()  # the streams whose consumer group is known to exist
        self._turn = 0  # which shard a read looks at first: each in turn
        self._waiting: set[_Wake] = set()  # reads waiting for this process to queue something

    # -- for the round logic -------------------------------------------------------------------

    async def enqueue(self, job: Job) -> str:
        """Queue one message; the same (round, recipient) again changes nothing. Returns its id."""
        return (await self.enqueue_all([job]))[0]

    async def enqueue_all(self, jobs: Sequence[Job]) -> list[str]:
        """Queue many messages (a round's invitations): as `enqueue` for each, in a few round
        trips whatever their number. One script per board's round writes its jobs and their
        index, then one pipeline puts them on their shards' streams, then one script per board
        marks them streamed. Returns their ids, in order."""
        checked: set[int] = set()  # messages found fine: a batch shares one, measured once
        for job in jobs:
            problems = job.problems(checked)
            if problems:
                raise ValueError("cannot queue this message: " + "; ".join(problems))
        encoded: dict[int, str] = {}  # json of each message, by id(): encoded once a batch
        rounds: dict[tuple[str, str, str], list[Job]] = {}
        for job in jobs:
            rounds.setdefault((job.tenant_id, job.board_id, job.round_id), []).append(job)
        fresh: list[str] = []
        for (tenant, board, round_id), group in rounds.items():
            index = self.keys.round_jobs(tenant, board, round_id)
            for start in range(0, len(group), ENQUEUE_CHUNK):
                chunk = group[start : start + ENQUEUE_CHUNK]
                fresh += await self._write_jobs(index, chunk, encoded)
        await self._stream(fresh)
        return [job.job_id for job in jobs]

    async def _write_jobs(
        self, index: str, jobs: Sequence[Job], encoded: dict[int, str]
    ) -> list[str]:
        """The jobs written (those that are new), with what they share sent once; the ids of
        those still to go on the stream."""
        fields = [_job_fields(job, encoded) for job in jobs]
        shared = {k: v for k, v in fields[0].items() if all(f.get(k) == v for f in fields[1:])}
        args: list[str | int] = [2 * len(shared), *_flatten(shared)]
        for job, own in zip(jobs, fields, strict=True):
            rest = _flatten({k: v for k, v in own.items() if k not in shared})
            args += [job.job_id, len(rest), *rest]
        keys = [index, *(self.keys.job(job.job_id) for job in jobs)]
        flags = await self._enqueue(keys=keys, args=args)
        return [job.job_id for job, flag in zip(jobs, flags, strict=True) if int(flag)]

    async def _stream(self, job_ids: Sequence[str]) -> None:
        """Put jobs on their shards' streams (one pipeline), then mark them streamed."""
        if not job_ids:
            return
        await self.ensure_group()
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.xadd(self.keys.job_stream(queue_shard(job_id)), {"job": job_id})
            await pipe.execute()
        boards: dict[tuple[str, str], list[str]] = {}
        for job_id in job_ids:
            boards.setdefault(split_job_id(job_id)[:2], []).append(self.keys.job(job_id))
        for keys in boards.values():
            await self._mark_streamed(keys=keys)
        for waiting in self._waiting:  # this process's workers look at once, not at their next poll
            for job_id in job_ids:
                waiting.queued(queue_shard(job_id))

    async def requeue(self, job_id: str) -> bool:
        """Try a failed job again from the start (Teams was down for longer than the worker's
        retries last); a job in any other state is left as it is. True if it was requeued."""
        tenant_id, board_id, _ = split_job_id(job_id)
        raw = await text.hget(self.redis, self.keys.job(job_id), "round")
        if raw is None:
            return False
        keys = [self.keys.job(job_id), self.keys.round_jobs(tenant_id, board_id, raw)]
        if not int(await self._requeue(keys=keys)):
            return False
        await self._stream([job_id])
        return True

    async def status(self, job_id: str) -> JobStatus | None:
        try:
            key = self.keys.job(job_id)
        except ValueError:
            return None
        raw = await text.hgetall(self.redis, key)
        return _status(job_id, raw) if raw else None

    async def round_status(self, tenant_id: str, board_id: str, round_id: str) -> list[JobStatus]:
        """Every job of one round, in the order they were queued."""
        ids = await text.zrange(self.redis, self.keys.round_jobs(tenant_id, board_id, round_id))
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in ids:
                # What the status says, not the message still waiting to go (a card each).
                pipe.hmget(self.keys.job(job_id), *STATUS_FIELDS)
            found = await pipe.execute()
        raws = [{k: v for k, v in zip(STATUS_FIELDS, values, strict=True) if v} for values in found]
        return [_status(job_id, raw) for job_id, raw in zip(ids, raws, strict=True) if raw]

    async def forget_rounds(self, tenant_id: str, board_id: str, round_ids: Sequence[str]) -> int:
        """Delete the jobs of these rounds and their indexes (a round's data is deleted)."""
        deleted = 0
        for round_id in round_ids:
            index = self.keys.round_jobs(tenant_id, board_id, round_id)
            ids = await text.zrange(self.redis, index)
            keys = [index, *(self.keys.job(job_id) for job_id in ids)]
            deleted += int(await self.redis.delete(*keys))
        return deleted

    # -- for workers ---------------------------------------------------------------------------

    async def ensure_group(self) -> None:
        """The consumer group on every shard's stream (made with it if need be)."""
        for shard in SHARDS:
            if shard in self._ready:
                continue
            try:
                await self.redis.xgroup_create(
                    self.keys.job_stream(shard), GROUP, id="0", mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._ready.add(shard)

    async def _look_for_the_stream_of_before(self) -> None:
        """Whether the unsharded stream of an older version is there to be read (an older
        process may still be queueing into it); it is never made here."""
        if None in self._ready:
            return
        try:
            await self.redis.xgroup_create(self.keys.job_stream(None), GROUP, id="0")
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                return  # no such stream
        self._ready.add(None)

    def _streams(self) -> list[Shard]:
        """The shards to read, each in turn first, the stream of before (if any) among them."""
        shards = [shard for shard in READ if shard in self._ready]
        start = self._turn % len(shards) if shards else 0
        self._turn += 1
        return shards[start:] + shards[:start]

    @contextlib.asynccontextmanager
    async def _group_check(self, shard: Shard) -> AsyncIterator[None]:
        try:
            yield
        except ResponseError as exc:
            if "NOGROUP" in str(exc):
                self._ready.discard(shard)  # the stream was deleted: make the group again
            raise

    async def read(self, consumer: str, count: int, block_ms: int) -> list[Entry]:
        """New entries for this consumer, from every shard; they stay pending until `ack`.
        With none anywhere, waits up to `block_ms` for this process to queue something."""
        wake = _Wake()  # before the sweep: a job queued during it wakes this read
        self._waiting.add(wake)
        try:
            found = await self._sweep(consumer, count, self._streams())
            if not found and block_ms > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.event.wait(), block_ms / 1000)
                    # Woken: the shards just queued to first (the rest at the next read).
                    found = await self._sweep(consumer, count, sorted(wake.shards))
            return found
        finally:
            self._waiting.discard(wake)

    async def _sweep(self, consumer: str, count: int, shards: Sequence[Shard]) -> list[Entry]:
        found: list[Entry] = []
        for shard in shards:
            if len(found) >= count:
                break
            async with self._group_check(shard):
                entries = await text.xreadgroup(
                    self.redis, GROUP, consumer, self.keys.job_stream(shard), count - len(found)
                )
            found += _entries(entries, shard)
        return found

    async def claim(self, consumer: str, min_idle_ms: int, count: int) -> list[Entry]:
        """Entries other consumers left pending for longer than `min_idle_ms`, now ours."""
        await self._look_for_the_stream_of_before()
        found: list[Entry] = []
        for shard in self._streams():
            if len(found) >= count:
                break
            async with self._group_check(shard):
                answer = await self.redis.xautoclaim(
                    self.keys.job_stream(shard),
                    GROUP,
                    consumer,
                    min_idle_ms,
                    "0-0",
                    count=count - len(found),
                )
            found += _entries(answer[1], shard)
        return found

    async def touch(self, consumer: str, entries: Sequence[Entry]) -> None:
        """Reset the idle time of entries still being worked on, so nobody claims them."""
        by_shard: dict[Shard, list[StreamIdT]] = {}
        for entry in entries:
            by_shard.setdefault(entry.shard, []).append(entry.entry_id)
        for shard, ids in by_shard.items():
            await self.redis.xclaim(
                self.keys.job_stream(shard), GROUP, consumer, 0, ids, justid=True
            )

    async def promote_due(self, limit: int = 100) -> int:
        """Move due retries onto their shard's stream, in every shard."""
        moved = 0
        for shard in READ:
            keys = [self.keys.jobs_due(shard), self.keys.job_stream(shard)]
            moved += int(await self._promote(keys=keys, args=[limit]))
        return moved

    async def load(self, job_id: str) -> tuple[Job, JobStatus] | None:
        raw = await text.hgetall(self.redis, self.keys.job(job_id))
        if not raw:
            return None
        return _job(raw), _status(job_id, raw)

    async def mark_part(self, job: Job, token: str, index: int, sent: Sent) -> bool:
        """Record one message of a job as posted; False if this attempt no longer holds it."""
        args: list[str | int] = [token, index, sent.activity_id, sent.conversation_id]
        return bool(int(await self._part(keys=[self.keys.job(job.job_id)], args=args)))

    async def begin(self, job_id: str, token: str, lease_ms: int) -> Begin:
        """One script: whether this attempt may send the job (then leased to it), and with it
        the job, what of it was posted already and its recipient's remembered 1:1 chat."""
        tenant, board, _ = split_job_id(job_id)
        keys = [self.keys.job(job_id), self.keys.chats(tenant, board)]
        answer = await self._begin(keys=keys, args=[token, lease_ms])
        verdict, detail = str(answer[0]), answer[1]
        if verdict == "go":
            raw = _pairs(answer[2])
            return Begin(
                verdict, int(detail), job=_job(raw), posted=_posted(raw), chat=str(answer[3])
            )
        if verdict == "later":
            return Begin(verdict, due_ms=int(detail))
        return Begin(verdict)

    async def renew(self, job_id: str, token: str, lease_ms: int) -> bool:
        """Lengthen this attempt's lease; False if it no longer holds the job."""
        return bool(int(await self._renew(keys=[self.keys.job(job_id)], args=[token, lease_ms])))

    async def forget_chat(self, job: Job, conversation: str) -> None:
        """Teams refused to post into the remembered 1:1 chat: it is opened afresh next time."""
        key = self.keys.chats(job.tenant_id, job.board_id)
        await self._forget_chat(keys=[key], args=[job.recipient.id, conversation])

    async def settle(
        self,
        job: Job,
        token: str,
        state: str,
        fields: dict[str, str],
        retry_in_ms: int = 0,
    ) -> JobStatus | None:
        """Record an outcome; for a retry, also schedule it. The job's status as written, or
        None if nothing was written."""
        job_id = job.job_id
        keys = [
            self.keys.job(job_id),
            self.keys.round_jobs(job.tenant_id, job.board_id, job.round_id),
            self.keys.chats(job.tenant_id, job.board_id),
        ]
        args: list[Any] = [token, state, retry_in_ms, self.retention_ms]
        args += [part for pair in fields.items() for part in pair]
        answer = await self._settle(keys=keys, args=args)
        written = int(answer[0])
        if written == 0:
            return None
        if written > 1:
            await self.schedule(job_id, written)
        return _status(job_id, _pairs(answer[1]))

    async def schedule(self, job_id: str, due_ms: int) -> None:
        await self.redis.zadd(self.keys.jobs_due(queue_shard(job_id)), {job_id: due_ms})

    async def ack(self, entry: Entry) -> None:
        stream = self.keys.job_stream(entry.shard)
        # No transaction: an entry acknowledged but not yet deleted is never read again.
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xack(stream, GROUP, entry.entry_id)
            pipe.xdel(stream, entry.entry_id)
            await pipe.execute()

    async def pending(self) -> int:
        """How many stream entries are taken but not yet settled, across all consumers and
        every shard."""
        await self.ensure_group()
        await self._look_for_the_stream_of_before()
        total = 0
        for shard in READ:
            if shard in self._ready:
                info = await self.redis.xpending(self.keys.job_stream(shard), GROUP)
                total += int(info["pending"])
        return total


def _job_fields(job: Job, encoded: dict[int, str]) -> dict[str, str]:
    fields = {
        "tenant": job.tenant_id,
        "board": job.board_id,
        "round": job.round_id,
        "service_url": job.service_url,
        "recipient": job.recipient.to_json(),
        "message": _encoded(job.message, encoded),
    }
    optional = {
        "to": job.recipient.id if job.kind == PERSONAL else "",  # whose 1:1 chat it goes to
        "conversation": job.conversation,
        "audience": job.audience,
        "more": json.dumps(list(job.more)) if job.more else "",
        "parent": job.parent,
    }
    return {**fields, **{name: value for name, value in optional.items() if value}}


def _encoded(message: dict[str, Any], encoded: dict[int, str]) -> str:
    """A message's JSON, made once for every job of a batch that shares it."""
    found = encoded.get(id(message))
    if found is None:
        found = encoded[id(message)] = json.dumps(message)
    return found


def _flatten(fields: dict[str, str]) -> list[str]:
    return [part for pair in fields.items() for part in pair]


def _pairs(flat: Any) -> dict[str, str]:
    """A script's HGETALL, a flat list of fields and values, as a dict."""
    items = [str(item) for item in flat or []]
    return dict(zip(items[::2], items[1::2], strict=True))


def _job(raw: dict[str, str]) -> Job:
    return Job(
        tenant_id=raw["tenant"],
        service_url=raw["service_url"],
        recipient=Recipient.from_json(raw["recipient"]),
        board_id=raw["board"],
        round_id=raw["round"],
        message=json.loads(raw.get("message") or "{}"),
        conversation=raw.get("conversation", ""),
        audience=raw.get("audience", ""),
        more=tuple(json.loads(raw.get("more") or "[]")),
        parent=raw.get("parent", ""),
    )


def _posted(raw: dict[str, str]) -> dict[int, Sent]:
    """The messages of a job posted so far, by part number."""
    conversation = raw.get("conversation_id", "")
    return {
        int(name[5:]): Sent(conversation, value)
        for name, value in raw.items()
        if name.startswith("part:") and name[5:].isdigit()
    }


def _entries(messages: Any, shard: Shard) -> list[Entry]:
    found = []
    for entry_id, fields in messages or []:
        if fields and fields.get("job"):  # a claimed entry deleted meanwhile has no fields
            found.append(Entry(entry_id, fields["job"], shard))
    return found


def _status(job_id: str, raw: dict[str, str]) -> JobStatus:
    split_job_id(job_id)
    state = raw.get("state", "queued")
    recipient = Recipient.from_json(raw["recipient"]) if raw.get("recipient") else Recipient("")
    return JobStatus(
        job_id=job_id,
        state=state,
        round_id=raw.get("round", ""),
        recipient=recipient,
        conversation=raw.get("conversation", ""),
        audience=raw.get("audience", ""),
        parent=raw.get("parent", ""),
        attempts=int(raw.get("attempts") or 0),
        next_at=from_ms(raw.get("next_at")) if state not in FINAL_STATES else None,
        activity_id=raw.get("activity_id") or None,
        conversation_id=raw.get("conversation_id") or None,
        reason=raw.get("reason") or None,
        error=raw.get("error") or None,
        updated=from_ms(raw.get("updated")),
    )
