"""The engine on each store backend, and Ann, a trustee talking to it."""

from __future__ import annotations

import pytest

from dialogs.engine import Walkthrough
from dialogs.store import Store
from frameworks import load_all
from tests.dialogs.test_engine import Trustee


@pytest.fixture
def engine(store: Store) -> Walkthrough:
    return Walkthrough(store, load_all())


@pytest.fixture
def ann(engine: Walkthrough) -> Trustee:
    return Trustee(engine)
