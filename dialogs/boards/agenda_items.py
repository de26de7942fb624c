"""The agenda's items for a round, written and read in one place.

An item is "<kind>|<tenant>|<board>|<round>", tenant and board percent-encoded (a "|" in an id
cannot split it). The agenda (agenda.py) treats items as opaque strings; the round service
(round_service.py) says what each kind does when it comes due.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

REMIND = "remind"  # the automatic reminder, before the deadline
CLOSE = "close"  # the deadline
SUMMARY = "summary"  # the backstop for posting a closed round's summary
PURGE = "purge"  # a closed round deleted after the retention period
RESUME = "resume"  # carry on a round's operation that was cut short (see RoundService.resume)
KINDS = (REMIND, CLOSE, SUMMARY, PURGE, RESUME)


@dataclass(frozen=True)
class Item:
    kind: str
    tenant: str
    board: str
    round: str

    def encode(self) -> str:
        return (
            f"{self.kind}|{quote(self.tenant, safe='')}|{quote(self.board, safe='')}|{self.round}"
        )


def item(kind: str, tenant: str, board: str, round_id: str) -> str:
    return Item(kind, tenant, board, round_id).encode()


def parse(value: str) -> Item | None:
    parts = value.split("|")
    if len(parts) != 4 or parts[0] not in KINDS:
        return None
    return Item(parts[0], unquote(parts[1]), unquote(parts[2]), parts[3])
