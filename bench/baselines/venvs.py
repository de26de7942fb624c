"""A virtualenv for each SDK sample, made on first use under bench/.venvs/ (git ignores it), with
the sample's SDK pinned, so the samples' dependencies never collide with trustboard's or with
each other's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENVS = HERE.parent / ".venvs"

# The versions issue 17 names (the newest on PyPI when it was filed).
REQUIREMENTS: dict[str, list[str]] = {
    "agents": [
        "microsoft-agents-hosting-aiohttp==1.9.0",
        "microsoft-agents-authentication-msal==1.9.0",
        "python-dotenv",
    ],
    "teams": ["microsoft-teams-apps==2.1.1", "microsoft-teams-api==2.1.1", "python-dotenv"],
}


def python_for(name: str) -> Path:
    """The interpreter of `name`'s virtualenv, made and installed if it is not there yet."""
    home = VENVS / name
    python = home / "bin" / "python"
    stamp = home / "requirements.txt"
    wanted = "\n".join(REQUIREMENTS[name]) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(home)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *REQUIREMENTS[name]],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stamp.write_text(wanted)
    return python
