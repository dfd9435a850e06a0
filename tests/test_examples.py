"""The examples stay true: they run and show what their README says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_leader_worker_demo_plans_checks_and_returns_a_patch() -> None:
    output = subprocess.run(
        [sys.executable, str(ROOT / "examples/leader-worker-basic/demo.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    result = json.loads(output)
    assert result["status"] == "succeeded"
    assert [step["verdict"] for step in result["steps"]] == ["accepted", "accepted"]
    assert "git apply --check" in result["steps"][1]["checks"]
    assert result["patch"].startswith("--- a/greet.py")
