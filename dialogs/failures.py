"""How a failure is named in a log line: its type and where it was raised, never its message.

An exception's message and arguments can quote what someone typed (evidence, a name, a card's
field), and the logs promise none of that. So a log line names the type, the type of what caused
it (a `StoreUnavailable` from a `ConnectionError`), and the file, line and function it came from.
"""

from __future__ import annotations

import traceback
from pathlib import Path


def where(exc: BaseException) -> str:
    """Where an exception was raised (file:line in function)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno} in {last.name}"


def failure(exc: BaseException) -> str:
    """ "StoreUnavailable (from ConnectionError) at store.py:90 in stored"."""
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    origin = f" (from {type(cause).__name__})" if cause is not None else ""
    return f"{type(exc).__name__}{origin} at {where(exc)}"


def trace(exc: BaseException) -> str:
    """The traceback of `exc` and what caused it, every frame, with each message withheld."""
    chain: list[BaseException] = []
    found: BaseException | None = exc
    while found is not None and all(found is not seen for seen in chain):
        chain.append(found)
        found = found.__cause__ or (None if found.__suppress_context__ else found.__context__)
    parts = []
    for each in reversed(chain):
        frames = traceback.format_list(traceback.extract_tb(each.__traceback__))
        kind = type(each)
        parts.append(
            "Traceback (most recent call last):\n"
            + "".join(frames)
            + f"{kind.__module__}.{kind.__qualname__} (message withheld)"
        )
    return "\n\nwhich led to:\n\n".join(parts)
