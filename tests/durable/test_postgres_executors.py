"""Scale-out on PostgreSQL: two executor processes drain one queue; one is killed; every run ends once.

Each executor is a real `ao executor` process with its own state dir (as on another machine) and the
same workspace path, sharing one throwaway PostgreSQL database (tests/postgres.py). The leader is the
fault server on 127.0.0.1, which counts the calls each run's goal received.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest
from fault_server import Action, FaultServer, structured_reply
from postgres import fresh_database
from processes import ao_command
from real_models import endpoint_settings
from workflows.scripted_agents import step_plan

from agent_orchestrator.config import load_settings
from agent_orchestrator.durable.control import DurableRuns
from agent_orchestrator.durable.liveness import live_executors
from agent_orchestrator.runtime import Runtime

RUNS = 20
PLAN = step_plan(("s1", "summarization", []))


class CountingPlanner:
    """Answers every plan after `latency` seconds, counting the requests per goal."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> Action:
        text = json.dumps(request.get("messages", []))
        goal = next((f"goal-{n}" for n in range(RUNS) if f"goal-{n}:" in text), "?")
        with self._lock:
            self.calls[goal] += 1
        return replace(structured_reply(request, PLAN), latency=self.latency)


def running_on(runtime: Runtime, run_ids: list[str], pid: int) -> list[str]:
    """The runs executing in process `pid` now."""
    return [
        run_id for run_id in run_ids if (run := runtime.runs.get(run_id)).status == "running" and run.pid == pid
    ]


def start_executor(tmp_path: Path, env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    state = tmp_path / f".state-{name}"
    log = open(tmp_path / f"executor-{name}.log", "wb")  # noqa: SIM115 - the process owns it
    return subprocess.Popen(
        [*ao_command(), "executor"],
        cwd=tmp_path,
        env={**env, "AO_STATE_DIR": str(state)},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


@pytest.mark.anyio
async def test_two_executors_drain_one_queue_and_a_killed_ones_runs_end_exactly_once(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_database(postgres_url)
    planner = CountingPlanner(latency=0.4)
    with FaultServer(default=planner) as server:
        settings_env = {key.upper(): value for key, value in endpoint_settings(server).items()}
        env = {**os.environ, **settings_env, "AO_DATABASE_URL": url, "AO_EXECUTOR_CONCURRENCY": "3"}
        for name, value in (*settings_env.items(), ("AO_DATABASE_URL", url)):
            monkeypatch.setenv(name, value)
        runtime = Runtime.create(load_settings())
        executors = [start_executor(tmp_path, env, name) for name in ("a", "b")]
        try:
            durable = DurableRuns(runtime, may_execute=False)
            with anyio.fail_after(30):
                while live_executors(url) < 2:
                    await anyio.sleep(0.2)
            run_ids = [(await durable.start("plan", {"goal": f"goal-{n}: plan it"})).run_id for n in range(RUNS)]
            victim = executors[0].pid
            with anyio.fail_after(60):  # kill it while it has runs in flight
                while not (in_flight := running_on(runtime, run_ids, victim)):
                    await anyio.sleep(0.05)
            executors[0].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            with anyio.fail_after(90):
                while any(runtime.runs.get(run_id).status in ("queued", "running") for run_id in run_ids):
                    await anyio.sleep(0.2)
            drained_in = time.monotonic() - killed_at
        finally:
            for process in executors:
                process.kill()
                process.wait(timeout=10)
    records = [runtime.runs.get(run_id) for run_id in run_ids]
    assert [record.status for record in records] == ["succeeded"] * RUNS, [r.reason for r in records]
    assert set(planner.calls) == {f"goal-{n}" for n in range(RUNS)}
    repeated = [goal for goal, count in planner.calls.items() if count > 1]
    assert all(count <= 2 for count in planner.calls.values()), planner.calls
    assert len(repeated) <= 3, f"only the killed executor's runs in flight are asked again: {repeated}"
    finishers = {record.run_id: record.pid for record in records}
    assert all(finishers[run_id] == executors[1].pid for run_id in in_flight), "the survivor took them up"
    assert drained_in < 60


@pytest.mark.anyio
async def test_a_server_on_a_shared_database_joins_the_executors_when_it_starts(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastmcp import Client

    from agent_orchestrator.server.app import create_server

    url = fresh_database(postgres_url)
    monkeypatch.setenv("AO_DATABASE_URL", url)
    async with Client(create_server(Runtime.create(load_settings()), may_execute=True)):
        with anyio.fail_after(20):
            while live_executors(url) < 1:
                await anyio.sleep(0.1)
    assert live_executors(url) == 1, "its heartbeat row stays until it is reaped (or its TTL passes)"
