"""Helpers for tests that run `ao` as a subprocess."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def ao_command() -> list[str]:
    """The `ao` of the interpreter running the tests (or `python -m agent_orchestrator.cli`)."""
    found = shutil.which("ao", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "agent_orchestrator.cli"]
