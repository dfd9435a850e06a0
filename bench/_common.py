"""Shared helpers for the benchmark scripts: timing and a scripted-worker runtime."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the scripted workers live with the tests


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` runs of `run`."""
    samples: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def isolated_state() -> str:
    """A temp state dir and no .env, so a benchmark never touches the user's state."""
    state = tempfile.mkdtemp(prefix="ao-bench-")
    os.environ["AO_STATE_DIR"] = state
    os.environ["AO_ENV_FILE"] = ""
    return state
