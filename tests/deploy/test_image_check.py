"""scripts/image-check and how CI runs it, read as text and, for its refusal, run.

The check itself (a real podman build and run of the image and of compose.yaml) is what
scripts/image-check does in CI; these tests pin what is easy to break without noticing: that CI
runs it before the test command, which stays last; that a machine where it cannot run gets a
skip with a reason rather than a failure or silence; and that no host, mirror or machine path
is written into it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.deploy.test_container import ROOT

SCRIPT = ROOT / "scripts" / "image-check"
CI = ROOT / ".ci" / "run"
SKIPPED = 77


def commands(path: Path) -> list[str]:
    """The script's lines that are not comments or blank."""
    lines = path.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_ci_runs_the_image_check_first_and_the_test_command_last() -> None:
    lines = commands(CI)
    check = next(i for i, line in enumerate(lines) if "./scripts/image-check" in line)
    assert lines[-1] == "exec ./scripts/test -q", "the README's test command must stay last"
    assert check < len(lines) - 1
    # Only "skipped" (77) lets CI go on; any other failure of the check stops it.
    handling = "\n".join(lines[check:-1])
    assert re.search(r"^77\) .*skipped", handling, re.M)
    assert re.search(r'^\*\) .*exit "\$status"', handling, re.M)


def test_the_check_writes_no_address_and_reads_the_mirror_from_apt() -> None:
    text = SCRIPT.read_text()
    assert not re.search(r"\b(https?|ftp)://", text), "no mirror or index address in the repo"
    assert "/etc/apt/sources.list.d/*" in text and "pip config list" in text


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is missing")
def test_the_check_skips_with_a_reason_where_it_cannot_run() -> None:
    # A copy the other user can read wherever the checkout is (pytest's tmp_path is root's
    # alone): it refuses before it reads anything else.
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        root.chmod(0o755)
        (root / "scripts").mkdir(mode=0o755)
        copy = root / "scripts" / "image-check"
        shutil.copy(SCRIPT, copy)
        copy.chmod(0o755)
        done = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", str(copy)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/nonexistent"},
        )
    assert done.returncode == SKIPPED, (done.stdout, done.stderr)
    assert "SKIPPED, nothing was built: it needs root" in done.stdout
