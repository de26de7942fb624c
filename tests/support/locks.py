"""One installer at a time across processes: the workers of pytest-xdist (scripts/test runs the
suite in several) would otherwise run the same `npm install` into the same directory at once."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def one_at_a_time(script: Path) -> Iterator[None]:
    """Holds an exclusive advisory lock on the install script itself (a file that is always
    there and that nothing writes), so no lock file is left behind."""
    with script.open("rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
