"""The examples stay true: they run and show what their README says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_leader_worker_demo_routes_by_interview_profiles() -> None:
    output = subprocess.run(
        [sys.executable, str(ROOT / "examples/leader-worker-basic/demo.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    result = json.loads(output)
    statuses = {w["id"].split(":")[1]: w["status"] for w in result["workers"]}
    assert statuses == {"coder": "active", "notes": "limited", "broken": "blocked"}

    everyone, pinned = result["runs"]
    assert everyone["status"] == "succeeded" and pinned["status"] == "succeeded"
    explain, patch = everyone["steps"]
    # The active worker takes the step it qualified for (over the limited one), reviewed by the leader;
    # no worker qualified for patches, so the leader writes it, checked and returned as a dry-run diff.
    assert (explain["by"], explain["verdict"], explain["leader_reviewed"]) == (
        "openai-compatible:coder",
        "accepted",
        True,
    )
    assert (patch["by"], patch["verdict"], patch["task_type"]) == ("leader", "accepted", "patch_generation")
    assert everyone["patch"].startswith("--- a/greet.py") and len(patch["checks"]) > 1
    unvetted, blocked = everyone["warnings"]  # the demo's scripted leader has no interview profile
    assert "'openai-compatible:broken' is blocked and gets no work" in blocked
    assert "was not vetted" in unvetted
    assert "broken" not in json.dumps(everyone["steps"])

    summary, review = pinned["steps"]
    # The limited worker gets only the low-risk step, under review, after one revision round.
    assert (summary["by"], summary["task_type"], summary["verdict"]) == (
        "openai-compatible:notes",
        "summarization",
        "accepted",
    )
    assert summary["rounds"] == 2 and summary["leader_reviewed"] and "leader reviews" in summary["why"]
    assert (review["by"], review["task_type"]) == ("leader", "code_review")

    record = result["record"]
    assert record["run_id"] == pinned["run_id"] and (record["workflow"], record["status"]) == (
        "leader-worker-basic",
        "succeeded",
    )
    assert "RunStep s1: succeeded" in record["nodes"] and "RunStep s2: succeeded" in record["nodes"]
    assert {"step s1 round 1 output", "step s1 round 2 output"} <= set(record["artifacts"])
