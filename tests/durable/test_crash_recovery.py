"""Crash recovery with real processes: `kill -9` a background executor mid-run, then resume the run.

The leader's endpoint is the fault server (a real socket on 127.0.0.1), which counts the calls per
plan step: a step that finished before the kill must not be asked again after it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from fault_server import Action, FaultServer, structured_reply
from processes import ao_command
from real_models import endpoint_settings
from workflows.fault_workflow import output_fields
from workflows.scripted_agents import step_plan

from agent_orchestrator.config import load_settings
from agent_orchestrator.store.runs import RunStore

PLAN = step_plan(("s1", "summarization", []), ("s2", "summarization", []), ("s3", "summarization", ["s1", "s2"]))


class CountingLeader:
    """Answers the plan, then each step (s3 slowly while `slow` is set), counting calls per step."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.slow = threading.Event()
        self.slow.set()
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> Action:
        if "steps" in output_fields(request):
            step, args = "plan", PLAN
        else:
            text = json.dumps(request.get("messages", []))
            step = next(s for s in ("s3", "s2", "s1") if f"do {s}" in text)
            args = {"summary": f"{step} done", "content": f"output of {step}"}
        with self._lock:
            self.calls[step] += 1
        latency = 30.0 if step == "s3" and self.slow.is_set() else 0.0
        return replace(structured_reply(request, args), latency=latency)


def ao(tmp_path: Path, env: dict[str, str], *argv: str) -> dict[str, Any]:
    done = subprocess.run(
        [*ao_command(), *argv, "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def executor_pid(ticket: dict[str, Any]) -> int | None:
    found = re.search(r"pid (\d+)", ticket["executor"])
    return int(found[1]) if found else None


def wait_for(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stop(pid: int | None) -> None:
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def finished_steps(runs: RunStore, run_id: str) -> set[str]:
    return {node.name for node in runs.get(run_id).nodes if node.status == "succeeded"}


def test_a_run_whose_executor_was_killed_resumes_and_pays_for_no_finished_step_again(tmp_path: Path) -> None:
    leader = CountingLeader()
    with FaultServer(default=leader) as server:
        settings = {key.upper(): value for key, value in endpoint_settings(server).items()}
        env = {**os.environ, **settings, "AO_EXECUTOR_IDLE_S": "2"}
        runs = RunStore(load_settings().ao_state_dir, lambda text: text)
        pids: list[int | None] = []
        try:
            ticket = ao(tmp_path, env, "run", "leader-worker-basic", "--goal", "do three things", "--detach")
            run_id = ticket["run_id"]
            pids.append(executor_pid(ticket))
            assert ticket["status"] == "queued" and pids[0] is not None, ticket
            wait_for(lambda: {"RunStep s1", "RunStep s2"} <= finished_steps(runs, run_id), 60, "s1 and s2")
            wait_for(lambda: leader.calls["s3"] == 1, 30, "s3 to be asked")
            os.kill(pids[0], signal.SIGKILL)
            wait_for(lambda: runs.get(run_id).status == "interrupted", 10, "the run to read interrupted")
            assert "resum" in runs.get(run_id).reason
            leader.slow.clear()

            resumed = ao(tmp_path, env, "runs", "resume", run_id)
            pids.append(executor_pid(resumed))
            assert resumed["run_id"] == run_id and resumed["status"] == "queued", resumed
            view = ao(tmp_path, env, "runs", "watch", run_id, "--interval", "0.1")
        finally:
            for pid in pids:
                stop(pid)
    assert view["status"] == "succeeded", view["reason"]
    assert leader.calls == {"plan": 1, "s1": 1, "s2": 1, "s3": 2}, "only the step in flight was asked again"
    names = [node["name"] for node in view["nodes"]]
    assert names.count("RunStep s1") == 1 and names.count("RunStep s3") == 1, names
    assert view["output"]["status"] == "succeeded"
    # The ledger has each call that answered once: the one killed in flight never ended, so it has no record.
    assert sum(model["calls"] for model in view["models"]) == 4
