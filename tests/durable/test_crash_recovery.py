"""Crash recovery with real processes: `kill -9` a background executor mid-run, then resume the run.

The leader's endpoint is the fault server (a real socket on 127.0.0.1), which counts the calls per
plan step: a step that finished before the kill must not be asked again after it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
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


# --- fix-error killed between writing its patch and validating it -----------------------------------

BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
# The validation after the patch (pytest's second run here) waits for `release`: the executor is killed then.
HELD_TEST = """\
import pathlib
import time

from calc import add


def test_add():
    runs = pathlib.Path(".pytest-runs")
    runs.mkdir(exist_ok=True)
    n = len(list(runs.iterdir()))
    (runs / str(n)).touch()
    while n == 1 and not pathlib.Path("release").exists():
        time.sleep(0.05)
    assert add(2, 3) == 5
"""


def fix_repo(where: Path) -> str:
    """A git repository with the bug, the held test and pytest's log of the failure; the fixer's patch."""
    from agent_orchestrator.policies.writes import unified_diff

    (where / "calc.py").write_text(BUGGY)
    (where / "test_calc.py").write_text(HELD_TEST)
    failing = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(where / ".bt")],
        cwd=where, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    assert failing.returncode == 1, failing.stdout
    (where / "pytest.log").write_text(failing.stdout)
    for path in (where / ".pytest-runs").iterdir():
        path.unlink()
    for args in (["init", "-q"], ["add", "calc.py", "test_calc.py"], ["commit", "-q", "-m", "buggy"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=where, check=True
        )
    return unified_diff("calc.py", BUGGY, FIXED)


def test_a_fix_killed_between_writing_and_validating_ends_validated_never_half(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    patch = fix_repo(tmp_path)
    draft = {
        "root_cause": "add subtracts",
        "fix_steps": ["add"],
        "patch": patch,
        "validation_commands": ["python -m pytest -q -p no:cacheprovider"],
    }
    fixer_calls: list[int] = []

    def fixer(request: dict[str, Any]) -> Action:
        fixer_calls.append(1)
        return structured_reply(request, draft)

    with FaultServer(default=fixer) as server:
        env = {
            **os.environ,
            **{key.upper(): value for key, value in endpoint_settings(server).items()},
            "AO_EXECUTOR_IDLE_S": "2",
            "AO_ALLOW_WRITE": "true",
            "AO_DRY_RUN": "false",
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        runs = RunStore(load_settings().ao_state_dir, lambda text: text)
        pids: list[int | None] = []
        try:
            ticket = ao(tmp_path, env, "fix", "--error", "pytest.log", "--scope", ".", "--write", "--detach")
            run_id = ticket["run_id"]
            pids.append(executor_pid(ticket))
            wait_for(lambda: (tmp_path / ".pytest-runs" / "1").exists(), 60, "the validation after the patch")
            assert (tmp_path / "calc.py").read_text() == FIXED, "the patch was written before the validation"
            os.kill(pids[0] or 0, signal.SIGKILL)
            (tmp_path / "release").touch()  # the orphaned pytest of the killed executor may end now
            wait_for(lambda: runs.get(run_id).status == "interrupted", 10, "the run to read interrupted")

            resumed = ao(tmp_path, env, "runs", "resume", run_id)
            pids.append(executor_pid(resumed))
            view = ao(tmp_path, env, "runs", "watch", run_id, "--interval", "0.1")
        finally:
            for pid in pids:
                stop(pid)
    assert view["status"] == "succeeded", view["reason"]
    assert view["output"]["status"] == "fixed" and view["output"]["applied"] is True, view["output"]
    assert (tmp_path / "calc.py").read_text() == FIXED
    assert len(fixer_calls) == 1, "the fixer was not asked again"
    statuses = [(node["name"], node["status"]) for node in view["nodes"]]
    assert ("ApplyFix", "succeeded") in statuses and ("ValidateFix", "succeeded") in statuses, statuses


def test_a_run_cancelled_from_the_cli_stops_and_resumes_from_the_cli(tmp_path: Path) -> None:
    leader = CountingLeader()
    with FaultServer(default=leader) as server:
        env = {
            **os.environ,
            **{k.upper(): v for k, v in endpoint_settings(server).items()},
            "AO_EXECUTOR_IDLE_S": "2",
        }
        pids: list[int | None] = []
        try:
            ticket = ao(tmp_path, env, "run", "leader-worker-basic", "--goal", "do three things", "--detach")
            run_id, pid = ticket["run_id"], executor_pid(ticket)
            pids.append(pid)
            wait_for(lambda: leader.calls["s3"] == 1, 60, "s3 to be asked")
            cancelled = ao(tmp_path, env, "runs", "cancel", run_id)
            assert cancelled["status"] == "cancelled", cancelled
            leader.slow.clear()
            pids.append(executor_pid(ao(tmp_path, env, "runs", "resume", run_id)))
            view = ao(tmp_path, env, "runs", "watch", run_id, "--interval", "0.1")
        finally:
            for pid in pids:
                stop(pid)
    assert view["status"] == "succeeded", view["reason"]
    assert leader.calls == {"plan": 1, "s1": 1, "s2": 1, "s3": 2}


def test_a_run_whose_executor_got_sigterm_ends_interrupted_and_the_next_executor_resumes_it(
    tmp_path: Path,
) -> None:
    leader = CountingLeader()
    with FaultServer(default=leader) as server:
        env = {
            **os.environ,
            **{k.upper(): v for k, v in endpoint_settings(server).items()},
            "AO_EXECUTOR_IDLE_S": "2",
        }
        runs = RunStore(load_settings().ao_state_dir, lambda text: text)
        pids: list[int | None] = []
        try:
            ticket = ao(tmp_path, env, "run", "leader-worker-basic", "--goal", "do three things", "--detach")
            run_id = ticket["run_id"]
            pids.append(executor_pid(ticket))
            wait_for(lambda: leader.calls["s3"] == 1, 60, "s3 to be asked")
            os.kill(pids[0] or 0, signal.SIGTERM)
            wait_for(lambda: runs.get(run_id).status == "interrupted", 20, "the run to end interrupted")
            assert "SIGTERM" in runs.get(run_id).reason, runs.get(run_id).reason
            leader.slow.clear()
            executor = subprocess.Popen([*ao_command(), "executor", "--idle", "2"], cwd=tmp_path, env=env)
            pids.append(executor.pid)
            wait_for(lambda: runs.get(run_id).status == "succeeded", 60, "the next executor to resume it")
            executor.wait(timeout=30)
        finally:
            for pid in pids:
                stop(pid)
    assert leader.calls == {"plan": 1, "s1": 1, "s2": 1, "s3": 2}
