"""The Redis key layout, in one place.

    {p}:{t:<tenant>:u:<user>}:profile      hash   open:<framework> -> assessment id,
                                                  last:<framework> -> last finished id,
                                                  conv -> conversation reference (JSON)
    {p}:{t:<tenant>:u:<user>}:sa           zset   assessment ids by start time (history)
    {p}:{t:<tenant>:u:<user>}:sa:<id>      hash   framework, version, status, started, updated,
                                                  finished, cursor, card, and per element n:
                                                  r:<n> rating, e:<n> evidence, t:<n> saved at;
                                                  in a board round also scope ("round:<id>"),
                                                  elements, round, board, board_name, deadline,
                                                  locked

A trustee's answers in a board round are an assessment like any other, in the trustee's own
keys, with the profile fields `open:round:<id>` / `last:round:<id>`; the board's keys (see
dialogs/boards/store.py) hold the round itself and only point at trustees by member key.

Everything of one trustee shares the hash tag `{t:…:u:…}`, so it lives in one Redis Cluster slot
and a multi-key script or transaction over it is legal. Boards and rounds take
`{t:<tenant>:b:<board>}` the same way. Tenant and user ids are percent-encoded so that a `:`, `{`
or `}` in an id can neither break the layout nor move a key to another slot.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ..state import Who

ASSESSMENT_ID = re.compile(r"^[0-9a-f]{12}$")


def key_part(value: str) -> str:
    """An id as it appears in a key, percent-encoded: `:`, `{` or `}` cannot change the layout."""
    return quote(value, safe="-._~@")


class Keys:
    def __init__(self, prefix: str = "tb") -> None:
        self.prefix = prefix

    def user(self, who: Who) -> str:
        return f"{self.prefix}:{{t:{key_part(who.tenant)}:u:{key_part(who.user)}}}"

    def profile(self, who: Who) -> str:
        return f"{self.user(who)}:profile"

    def assessments(self, who: Who) -> str:
        return f"{self.user(who)}:sa"

    def assessment(self, who: Who, assessment_id: str) -> str:
        if not ASSESSMENT_ID.match(assessment_id):
            raise ValueError("not an assessment id")
        return f"{self.user(who)}:sa:{assessment_id}"
