"""A Redis client that refuses the Nth write, as a full or failing Redis would.

`RefusingRedis(client)` wraps a `redis.asyncio.Redis` in place (the bot's own client, on the
real redis-server the tests start): while `armed`, it counts every write command the client
sends, on its own or inside a pipeline, and answers the `fail_at`-th with the error a Redis at
`maxmemory` with `noeviction` gives ("OOM command not allowed …"). Every other command goes
through untouched. Inside a pipeline the refused command fails alone and the pipeline raises
once it has run, as Redis does: commands before and after it take effect.

Writes the background loops make on their own (the agenda's claims, and its read-only look at
each shard before) are not counted, so the count is the operation's alone: run it once with
`fail_at=None` to count its writes, then once for each N.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from dialogs.boards import agenda

OOM = "OOM command not allowed when used memory > 'maxmemory'."
WRITES = frozenset(
    {
        "SET", "SETNX", "SETEX", "PSETEX", "GETDEL", "GETSET", "DEL", "UNLINK", "EXPIRE",
        "PEXPIRE", "PERSIST", "INCR", "INCRBY", "DECR", "HSET", "HSETNX", "HMSET", "HDEL",
        "HINCRBY", "ZADD", "ZREM", "ZINCRBY", "ZPOPMIN", "SADD", "SREM", "LPUSH", "RPUSH",
        "LPOP", "RPOP", "XADD", "XACK", "XDEL", "XTRIM", "XGROUP", "XCLAIM", "XAUTOCLAIM",
        "XREADGROUP", "EVAL", "EVALSHA",
    }
)  # fmt: skip
# A key only the agenda loop's claims touch: each shard's claim counter, `{agenda:<n>}:claims`.
BACKGROUND = re.compile(r"\{agenda(:\d+)?\}:claims$")
# The agenda loop's look at each shard before it claims: a script, but one that only reads.
READ_ONLY_SCRIPTS = frozenset({hashlib.sha1(agenda._PEEK.encode()).hexdigest()})


class RefusingRedis:
    def __init__(self, client: Redis) -> None:
        self.client = client
        self.armed = False
        self.fail_at: int | None = None
        self.writes = 0
        self.refused: tuple[Any, ...] | None = None  # the command refused, as sent
        self._execute_command = client.execute_command
        self._pipeline = client.pipeline
        client.execute_command = self._command  # type: ignore[method-assign]
        client.pipeline = self._new_pipeline  # type: ignore[method-assign]

    def arm(self, fail_at: int | None) -> None:
        """Count writes from now on, and refuse the `fail_at`-th (None: refuse none)."""
        self.armed, self.fail_at, self.writes, self.refused = True, fail_at, 0, None

    def disarm(self) -> int:
        """Stop counting; the number of writes counted."""
        self.armed = False
        return self.writes

    def restore(self) -> None:
        self.client.execute_command = self._execute_command  # type: ignore[method-assign]
        self.client.pipeline = self._pipeline  # type: ignore[method-assign]

    def _refuses(self, args: Sequence[Any]) -> bool:
        """Count one command; True if it is the one to refuse."""
        if not self.armed or not args or str(args[0]).upper() not in WRITES:
            return False
        if str(args[0]).upper() == "EVALSHA" and len(args) > 1 and args[1] in READ_ONLY_SCRIPTS:
            return False
        if any(isinstance(a, str) and BACKGROUND.search(a) for a in args):
            return False
        self.writes += 1
        if self.writes == self.fail_at:
            self.refused = tuple(args)
            return True
        return False

    async def _command(self, *args: Any, **options: Any) -> Any:
        if self._refuses(args):
            raise ResponseError(OOM)
        return await self._execute_command(*args, **options)

    def _new_pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        pipe = self._pipeline(transaction=transaction, shard_hint=shard_hint)
        run = pipe.execute

        async def execute(raise_on_error: bool = True) -> list[Any]:
            stack = pipe.command_stack
            for index, (args, options) in enumerate(stack):
                if self._refuses(args):
                    # Refused alone: a command Redis answers with an error takes its place.
                    stack[index] = (("HSET",), options)
            return await run(raise_on_error=raise_on_error)

        pipe.execute = execute  # type: ignore[method-assign]
        return pipe
