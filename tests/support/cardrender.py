"""The pinned npm packages of scripts/cardrender (Microsoft's renderer, playwright-core)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .bot_process import REPO_ROOT
from .locks import one_at_a_time

INSTALL = REPO_ROOT / "scripts" / "card-pictures"


def renderer_modules() -> Path:
    """Their node_modules, installed on first use; the test is skipped if they cannot be."""
    try:
        with one_at_a_time(INSTALL):
            run = subprocess.run([str(INSTALL), "--install-only"], capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"the renderer's npm packages could not be installed: {exc}")
    if run.returncode != 0:
        reason = run.stderr.decode().strip().splitlines()[-3:]
        pytest.skip("the renderer's npm packages could not be installed: " + " / ".join(reason))
    return Path(run.stdout.decode().strip().splitlines()[-1])
