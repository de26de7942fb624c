"""The Redis key layout: every key the bot reads or writes is built here, and only here.

Prefix `p` (REDIS_KEY_PREFIX, default `tb`); tenant, user, board and round ids percent-encoded
(`key_part`), so that a `:`, `{` or `}` in an id can neither break the layout nor move a key to
another slot. The part in braces is the Redis Cluster hash tag: keys with the same tag live in
one slot, so a script or transaction over them is legal.

A trustee, `{t:<tenant>:u:<user>}`:

    p:{t:…:u:…}:profile              hash    open:<framework> -> assessment id,
                                             last:<framework> -> last finished id,
                                             conv -> conversation reference (JSON)
    p:{t:…:u:…}:sa                   zset    assessment ids by start time (history)
    p:{t:…:u:…}:sa:<id>              hash    framework, version, status, started, updated,
                                             finished, cursor, card, and per element n:
                                             r:<n> rating, e:<n> evidence, t:<n> saved at;
                                             in a board round also scope ("round:<id>"),
                                             elements, round, board, board_name, deadline,
                                             locked

A trustee's answers in a board round are an assessment like any other, in the trustee's own keys,
with the profile fields `open:round:<id>` / `last:round:<id>`; the board's keys only point at
trustees by member key.

A board, `{t:<tenant>:b:<board>}` (`board_tag`; every key below starts with it, which is what
lets `delete_board` find them all with one pattern):

    p:{t:…:b:…}:board                hash    name, service_url, channel, created, card,
                                             open (the id of the round now open),
                                             detached (when the bot left the team)
    p:{t:…:b:…}:members              hash    member key -> "role<TAB>teams id<TAB>name"
    p:{t:…:b:…}:rounds               zset    round ids by opening time
    p:{t:…:b:…}:round:<id>           hash    the round (fields: see boards/store.py; left:<key>,
                                             joined:<key>: the team's changes while open;
                                             todo:<step>: an operation's steps still to do)
    p:{t:…:b:…}:round:<id>:card      string  lease on updating the clerk's round card
    p:{t:…:b:…}:round:<id>:steps     string  lease on doing the round's steps still to do
    p:{t:…:b:…}:dq:job:<digest>      hash    one delivery job (see bot/delivery/jobs.py)
    p:{t:…:b:…}:dq:chats             hash    Teams user id -> the bot's 1:1 conversation id with
                                             them, as Teams answered the first create (later
                                             messages skip it; cleared when they leave the
                                             board, say forget me, or the board is deleted)
    p:{t:…:b:…}:dq:round:<id>        zset    delivery job ids of one round in the order queued
                                             (enqueue time in ms, each above the last)

A learning set, `{set:<id>}` (it spans tenants, so its keys carry none; dialogs/sets/store.py):

    p:{set:<id>}:set                 hash    name, framework, named, created, code, focus,
                                             focus_by, and the facilitator (fac_*)
    p:{set:<id>}:members             hash    member key -> JSON [tenant, board, name, joined, label]
    p:{set:<id>}:shares              hash    member key -> JSON of its latest share;
                                             "<member key>:prev" -> the share before
    p:{set:<id>}:votes               hash    member key -> "1,5,7"
    p:{setcode}:<code>               string  the set id a join code admits to
    p:{t:…:b:…}:sets                 set     ids of the sets the board is in
    p:{t:…:u:…}:sets                 set     ids of the sets the person facilitates
    p:{t:…:u:…}:setshares            set     "<set id> <member key>": shares of their own
                                             self-assessment, for `forget me`
    p:{t:…:u:…}:setcodes             string  wrong join codes tried this hour (expires)

A peer review, `{review:<id>}` (the reviewed board and the reviewer may be in two tenants):

    p:{review:<id>}:review           hash    framework, version, elements, the reviewed board
                                             (tenant, board, name), asked_by, created, deadline,
                                             set, code, status, done_at, the reviewer (rev_*)
    p:{reviewcode}:<code>            string  the review id an invitation code admits to
    p:{t:…:b:…}:reviews              set     ids of the reviews of the board
    p:{t:…:u:…}:reviews              set     ids of the reviews the person was asked to make

A tenant, and what all processes share:

    p:{t:<tenant>}:boards            set     the tenant's board ids
    p:{dq:<n>}:stream                stream  delivery work items {job: <job id>}, shard n
    p:{dq:<n>}:due                   zset    delivery job id -> time (ms) a retry is due
    p:{dq:t:<tenant>}:rate           zset    sliding log of the tenant's recent sends
    p:{dq:t:<tenant>}:rate:u:<user>  zset    sliding log of recent sends to one person
    p:{dq:t:<tenant>}:hold           string  present (with a TTL) while Teams throttles the tenant
    p:{agenda:<n>}:due               zset    agenda item -> time (ms) it is due, shard n
    p:{agenda:<n>}:claims            string  counter that makes each agenda lease its own
    p:{links}:secret                 string  the download links' signing secret, when not set
    p:{health}:<process>             string  /healthz's probe write (expires after 30 s)
    p:{health:<n>}:<process>         string  the same on a cluster, one for each master

The delivery queue and the agenda are what every process shares, so each is spread over a fixed
number of shards (QUEUE_SHARDS, AGENDA_SHARDS), each shard its own hash tag: on a Redis Cluster
their work lands on every master rather than on one slot's. A job's shard follows from its id
(`queue_shard`) and an agenda item's from its text (`agenda_shard`), so the same job or item
always goes to the same shard; every process reads every shard. The numbers are fixed because
an item's shard must not change under it. The unsharded keys of before (`{dq}:stream`,
`{dq}:due`, `{agenda}:due`, `{agenda}:claims`: shard None below) are still read, so that what a
process of an older version queued is done, but nothing new is written there.

A delivery job id is `<tenant>/<board>/<digest>`, the first two percent-encoded (so neither holds
a `/`), the digest a hash of (round id, address: the recipient's Teams user id, `#<conversation>`
for a channel post, `@<audience>` for a role): enqueueing the same person for the same round
twice names the same job, and the id alone says where the job is stored.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, unquote

from ..state import Who

ASSESSMENT_ID = re.compile(r"^[0-9a-f]{12}$")
ROUND_ID = ASSESSMENT_ID  # 12 hex digits too
SET_ID = re.compile(r"^[0-9a-f]{16}$")
JOIN_CODE = re.compile(r"^[A-HJ-NP-Z2-9]{8}$")  # no I, O, 0 or 1: read aloud, never confused


QUEUE_SHARDS = 8  # the delivery queue's shards: {dq:0} ... {dq:7}; never change it
AGENDA_SHARDS = 8  # the agenda's shards: {agenda:0} ... {agenda:7}; never change it
Shard = int | None  # None: the unsharded keys of before, read but never written


def queue_shard(job_id: str) -> int:
    """The delivery queue's shard of a job: from the digest its id ends with."""
    return int(split_job_id(job_id)[2][:8], 16) % QUEUE_SHARDS


def agenda_shard(item: str) -> int:
    return int(hashlib.sha256(item.encode()).hexdigest()[:8], 16) % AGENDA_SHARDS


def key_part(value: str) -> str:
    """An id as it appears in a key, percent-encoded: `:`, `{` or `}` cannot change the layout."""
    return quote(value, safe="-._~@")


def glob_escape(text: str) -> str:
    """`text` as a SCAN/KEYS pattern that matches only itself."""
    return "".join(f"\\{ch}" if ch in "*?[]\\" else ch for ch in text)


def job_id_for(tenant_id: str, board_id: str, round_id: str, address: str) -> str:
    digest = hashlib.sha256(f"{round_id}\0{address}".encode()).hexdigest()[:32]
    return f"{key_part(tenant_id)}/{key_part(board_id)}/{digest}"


def split_job_id(job_id: str) -> tuple[str, str, str]:
    """(tenant, board, digest) of a delivery job id; ValueError if it is not one."""
    parts = job_id.split("/")
    if len(parts) != 3 or not all(parts) or len(parts[2]) != 32:
        raise ValueError(f"not a delivery job id: {job_id!r}")
    return unquote(parts[0]), unquote(parts[1]), parts[2]


class Keys:
    def __init__(self, prefix: str = "tb") -> None:
        self.prefix = prefix

    def _tagged(self, tag: str) -> str:
        return f"{self.prefix}:{{{tag}}}"

    # -- a trustee ------------------------------------------------------------------------------

    def user(self, who: Who) -> str:
        return self._tagged(f"t:{key_part(who.tenant)}:u:{key_part(who.user)}")

    def user_pattern(self, who: Who) -> str:
        """A SCAN pattern that matches every key of one trustee, and no other key."""
        return f"{glob_escape(self.user(who))}:*"

    def profile(self, who: Who) -> str:
        return f"{self.user(who)}:profile"

    def assessments(self, who: Who) -> str:
        return f"{self.user(who)}:sa"

    def assessment(self, who: Who, assessment_id: str) -> str:
        if not ASSESSMENT_ID.match(assessment_id):
            raise ValueError("not an assessment id")
        return f"{self.user(who)}:sa:{assessment_id}"

    # -- a board --------------------------------------------------------------------------------

    def board_tag(self, tenant: str, board: str) -> str:
        """The start of every key of one board."""
        return self._tagged(f"t:{key_part(tenant)}:b:{key_part(board)}")

    def board_pattern(self, tenant: str, board: str) -> str:
        """A SCAN pattern that matches every key of one board, and no other key."""
        return f"{glob_escape(self.board_tag(tenant, board))}:*"

    def board(self, tenant: str, board: str) -> str:
        return f"{self.board_tag(tenant, board)}:board"

    def members(self, tenant: str, board: str) -> str:
        return f"{self.board_tag(tenant, board)}:members"

    def rounds(self, tenant: str, board: str) -> str:
        return f"{self.board_tag(tenant, board)}:rounds"

    def round(self, tenant: str, board: str, round_id: str) -> str:
        if not ROUND_ID.match(round_id):
            raise ValueError("not a round id")
        return f"{self.board_tag(tenant, board)}:round:{round_id}"

    def card_turn(self, tenant: str, board: str, round_id: str) -> str:
        return f"{self.round(tenant, board, round_id)}:card"

    def steps_turn(self, tenant: str, board: str, round_id: str) -> str:
        return f"{self.round(tenant, board, round_id)}:steps"

    def job(self, job_id: str) -> str:
        tenant, board, digest = split_job_id(job_id)
        return f"{self.board_tag(tenant, board)}:dq:job:{digest}"

    def round_jobs(self, tenant: str, board: str, round_id: str) -> str:
        return f"{self.board_tag(tenant, board)}:dq:round:{key_part(round_id)}"

    def chats(self, tenant: str, board: str) -> str:
        """The 1:1 chats the outbox has opened for the board's messages, by Teams user id: in
        the board's slot, so the scripts that begin and settle a job read and write it."""
        return f"{self.board_tag(tenant, board)}:dq:chats"

    def board_sets(self, tenant: str, board: str) -> str:
        return f"{self.board_tag(tenant, board)}:sets"

    # -- a learning set, and the pointers to it -------------------------------------------------

    def set_tag(self, set_id: str) -> str:
        if not SET_ID.match(set_id):
            raise ValueError("not a set id")
        return self._tagged(f"set:{set_id}")

    def learning_set(self, set_id: str) -> str:
        return f"{self.set_tag(set_id)}:set"

    def set_members(self, set_id: str) -> str:
        return f"{self.set_tag(set_id)}:members"

    def set_shares(self, set_id: str) -> str:
        return f"{self.set_tag(set_id)}:shares"

    def set_votes(self, set_id: str) -> str:
        return f"{self.set_tag(set_id)}:votes"

    def join_code(self, code: str) -> str:
        if not JOIN_CODE.match(code):
            raise ValueError("not a join code")
        return f"{self._tagged('setcode')}:{code}"

    def facilitated(self, tenant: str, user: str) -> str:
        return f"{self.user(Who(tenant, user))}:sets"

    def self_shares(self, tenant: str, user: str) -> str:
        return f"{self.user(Who(tenant, user))}:setshares"

    def wrong_codes(self, tenant: str, user: str) -> str:
        return f"{self.user(Who(tenant, user))}:setcodes"

    # -- a peer review ---------------------------------------------------------------------------

    def review(self, review_id: str) -> str:
        if not ROUND_ID.match(review_id):
            raise ValueError("not a review id")
        return f"{self._tagged(f'review:{review_id}')}:review"

    def review_code(self, code: str) -> str:
        if not JOIN_CODE.match(code):
            raise ValueError("not an invitation code")
        return f"{self._tagged('reviewcode')}:{code}"

    def board_reviews(self, tenant: str, board: str) -> str:
        return f"{self.board_tag(tenant, board)}:reviews"

    def reviewer_reviews(self, tenant: str, user: str) -> str:
        return f"{self.user(Who(tenant, user))}:reviews"

    # -- a tenant, and what every process shares ------------------------------------------------

    def tenant_boards(self, tenant: str) -> str:
        return f"{self._tagged(f't:{key_part(tenant)}')}:boards"

    def job_stream(self, shard: Shard) -> str:
        return f"{self._tagged(_shard_tag('dq', shard))}:stream"

    def jobs_due(self, shard: Shard) -> str:
        """Same hash tag as its shard's stream: promoting a due retry onto it is one script."""
        return f"{self._tagged(_shard_tag('dq', shard))}:due"

    def jobs_pattern(self) -> str:
        """A SCAN pattern that matches every delivery job of every board."""
        return f"{glob_escape(self.prefix)}:*:dq:job:*"

    def tenant_rate(self, tenant: str) -> str:
        return f"{self._tagged(f'dq:t:{key_part(tenant)}')}:rate"

    def recipient_rate(self, tenant: str, recipient: str) -> str:
        return f"{self.tenant_rate(tenant)}:u:{key_part(recipient)}"

    def tenant_hold(self, tenant: str) -> str:
        """Same hash tag as the tenant's rate logs: one script checks them all."""
        return f"{self._tagged(f'dq:t:{key_part(tenant)}')}:hold"

    def agenda_due(self, shard: Shard) -> str:
        return f"{self._tagged(_shard_tag('agenda', shard))}:due"

    def agenda_claims(self, shard: Shard) -> str:
        """Same hash tag as its shard's due set: a claim reads and writes both in one script."""
        return f"{self._tagged(_shard_tag('agenda', shard))}:claims"

    def link_secret(self) -> str:
        return f"{self._tagged('links')}:secret"

    def health(self, process: str) -> str:
        """One process's /healthz probe: a short-lived write proving the store accepts one."""
        return f"{self._tagged('health')}:{key_part(process)}"

    def health_probe(self, process: str, n: int) -> str:
        """The same on a cluster, one per master: the n-th tag whose slot that master serves."""
        return f"{self._tagged(f'health:{n}')}:{key_part(process)}"


def _shard_tag(name: str, shard: Shard) -> str:
    return name if shard is None else f"{name}:{shard}"
