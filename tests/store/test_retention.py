"""Retention of our records: ended runs (nodes, artifacts) and ledger calls past AO_RUN_RETENTION_DAYS."""

from __future__ import annotations

import time

import pytest
from processes import run_ao

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.durable.retention import prune_records
from agent_orchestrator.runtime import Runtime

DAY = 86_400.0


def call(started: float) -> CallRecord:
    return CallRecord(
        role="leader", model_id="m", started=started, latency_ms=1, attempts=1, requests=1,
        input_tokens=1, output_tokens=1, cost_usd=0.01,
    )  # fmt: skip


def test_runs_and_calls_past_retention_go_and_unfinished_runs_stay(runtime: Runtime) -> None:
    old, recent, running = (runtime.runs.create("review", {}) for _ in range(3))
    for run_id in (old, recent):
        runtime.runs.add_node(run_id, "Node", time.time(), 1, "succeeded", "")
        runtime.runs.add_artifact(run_id, "a.txt", "content")
        runtime.runs.finish(run_id, "succeeded", "", {}, {})
    runtime.ledger.add(old, "review", call(time.time() - 100 * DAY))
    runtime.ledger.add(recent, "review", call(time.time()))
    now = time.time() + 91 * DAY  # the runs all ended "91 days ago" from here
    assert prune_records(runtime, now=time.time()) == (0, 1), "only the 100-day-old call is past 90 days"
    assert prune_records(runtime, now=now) == (2, 1)
    assert [run.run_id for run in runtime.runs.list()] == [running], "a running run is never pruned"
    assert runtime.ledger.for_run(recent) == []


def test_the_retention_keeps_at_least_a_month_for_the_monthly_cap() -> None:
    with pytest.raises(ValueError, match="ao_run_retention_days"):
        Settings(ao_run_retention_days=10)


def test_ao_runs_prune_reports_what_it_removed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_ao(capsys, "runs", "prune", "--vacuum")
    assert code == 0 and "deleted 0 run records" in out and "compacted" in out
