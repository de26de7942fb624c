"""The names of the environment variables the bot reads, found from the code itself.

Two ways, so neither a helper function nor a direct `os.environ` read is missed: the settings
parsers run against an environment that records every name looked up, and the sources under
bot/ and dialogs/ are scanned for direct reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.adapter import open_id_metadata_url
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DIRECT = re.compile(r"""(?:os\.environ\.get|os\.getenv|os\.environ\[)\(?\s*["']([^"']+)["']""")


class Recording(dict[str, str]):
    """An environment that remembers every name the code looks up."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def variables_the_bot_reads() -> set[str]:
    env = Recording({"LOCAL_MODE": "1"})
    Settings.from_env(env)
    open_id_metadata_url(env)
    read = set(env.asked)
    for source in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "dialogs").rglob("*.py")]:
        read |= set(DIRECT.findall(source.read_text()))
    return read
