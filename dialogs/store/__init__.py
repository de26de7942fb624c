"""State in Redis: the key layout and the store."""

from .connect import connect
from .keys import Keys
from .store import Store, StoreUnavailable

__all__ = ["Keys", "Store", "StoreUnavailable", "connect"]
