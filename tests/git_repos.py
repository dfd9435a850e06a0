"""git for building test repositories: a fixed identity and no system config."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}

# Built at run time so no scanner mistakes a test for a leak; the redactor's `sk-` shape matches it.
SECRET = "sk-" + "live" + "0123456789abcdefghijKLMN"
BROKEN_CALC = 'def add(a, b):\n    return a - b\n\n\nTOTAL = add("1", 2)\n'
TYPE_ERROR_LOG = 'calc.py:2: error: Unsupported operand types for - ("str" and "int")  [operator]\n'


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` (the test's environment, HOME included) and return its stdout."""
    env = {**os.environ, **IDENTITY, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def commit(root: Path, message: str, files: Mapping[str, str]) -> None:
    """Write `files` (path: text) under `root` and commit the whole tree as `message`."""
    for name, text in files.items():
        (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def broken_commit_repo(root: Path) -> Path:
    """A repository at `root` whose last commit breaks calc.py's `add` (`BROKEN_CALC`) and adds settings.py
    holding `SECRET`; an untracked mypy.log reports calc.py's type error (`TYPE_ERROR_LOG`)."""
    git(root, "init", "-q", "-b", "main")
    commit(root, "first", {"calc.py": "def add(a, b):\n    return a + b\n"})
    commit(root, "second", {"calc.py": BROKEN_CALC, "settings.py": f'API_KEY = "{SECRET}"\n'})
    (root / "mypy.log").write_text(TYPE_ERROR_LOG + "Found 1 error in 1 file (checked 1 source file)\n")
    return root
