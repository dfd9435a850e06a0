"""Budgets and the run's deadline in the leader-worker workflow: the run stops with the limit named, finished
steps kept, nothing half-applied; the daily spending cap counts earlier runs from the call ledger."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from scripted_agents import Script, make_profile, step_plan

from agent_orchestrator.agents.budget import BudgetExceeded
from agent_orchestrator.config import Settings
from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.domain.profile import TaskType
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.leader_worker.graph import leader_worker

pytestmark = pytest.mark.anyio
FOUR_STEPS: list[tuple[str, TaskType, list[str]]] = [(f"s{i}", "patch_generation", []) for i in range(1, 5)]
FOUR_INDEPENDENT = step_plan(*FOUR_STEPS)
PATCH = "--- a/app.txt\n+++ b/app.txt\n@@ -1,2 +1,2 @@\n hello\n-world\n+there\n"


def runtime_with(settings: Settings, script: Script, **updates: Any) -> Runtime:
    runtime = Runtime.create(settings.model_copy(update=updates), script.factory())
    runtime.profiles.save(make_profile("active", "active", ["summarization", "patch_generation"]))
    return runtime


def spent(cost_usd: float, started: float) -> CallRecord:
    return CallRecord(
        role="leader",
        model_id="openai:gpt-4.1",
        started=started,
        latency_ms=10,
        attempts=1,
        requests=1,
        input_tokens=1000,
        output_tokens=100,
        cost_usd=cost_usd,
    )


async def test_the_request_budget_across_parallel_steps_ends_the_run_partial_keeping_finished_steps(
    settings: Settings,
) -> None:
    """Plan (1) + four parallel worker calls (4) + one review (1) = 6: one step finishes, the rest are refused."""
    script = Script([FOUR_INDEPENDENT], latency_s=0.2)  # the four worker calls start well before any review
    runtime = runtime_with(settings, script, ao_run_max_requests=6)
    result = await leader_worker(runtime, "four steps")
    accepted = [s for s in result.steps if s.verdict == "accepted"]
    refused = [s for s in result.steps if s.verdict != "accepted"]
    assert len(script.calls) == 6, "no request past the budget"
    assert result.status == "partial" and len(accepted) == 1 and len(refused) == 3
    assert accepted[0].content_excerpt and accepted[0].output_artifact is not None
    assert all("AO_RUN_MAX_REQUESTS" in (s.error or "") for s in refused)
    assert result.stopped is not None and "AO_RUN_MAX_REQUESTS" in result.stopped
    record = runtime.runs.get(result.run_id)
    assert record.status == "partial" and "stopped early: budget exceeded" in record.reason
    assert "AO_RUN_MAX_REQUESTS" in record.reason


async def test_a_run_stopped_by_its_budget_applies_no_patch(settings: Settings, isolated_env: Path) -> None:
    (isolated_env / "app.txt").write_text("hello\nworld\n")
    script = Script([FOUR_INDEPENDENT], step=lambda *_: {"summary": "fix", "patch": PATCH}, latency_s=0.2)
    runtime = runtime_with(settings, script, ao_run_max_requests=6, ao_dry_run=False, ao_allow_write=True)
    result = await leader_worker(runtime, "fix app.txt", write=True)
    (patch,) = result.patches
    assert result.status == "partial" and not patch.applied and patch.patch == PATCH
    assert patch.detail.startswith("not applied: the run stopped early (budget exceeded")
    assert (isolated_env / "app.txt").read_text() == "hello\nworld\n"


async def test_the_run_deadline_skips_the_steps_not_started_and_keeps_the_finished_one(
    settings: Settings,
) -> None:
    """Each call takes 0.8 s and the run has 2.8 s: plan, s1 and its review fit; s2 is cut, s3 never starts."""
    plan = step_plan(("s1", "summarization", []), ("s2", "summarization", ["s1"]), ("s3", "summarization", ["s2"]))
    script = Script([plan], latency_s=0.8)
    runtime = runtime_with(settings, script, ao_run_timeout=2.8)
    started = time.monotonic()
    result = await leader_worker(runtime, "three steps in a row")
    assert time.monotonic() - started < 3.8
    verdicts = {s.step_id: s.verdict for s in result.steps}
    assert result.status == "partial" and verdicts == {"s1": "accepted", "s2": "failed", "s3": "skipped"}
    assert result.stopped == "the run's deadline passed (AO_RUN_TIMEOUT=2.8 s)"
    assert result.steps[2].error == "not run: the run's deadline passed (AO_RUN_TIMEOUT=2.8 s)"
    assert "AO_RUN_TIMEOUT" in runtime.runs.get(result.run_id).reason


async def test_the_daily_cap_counts_earlier_spend_in_the_ledger_and_refuses_the_next_call(
    settings: Settings,
) -> None:
    script = Script([FOUR_INDEPENDENT])
    runtime = runtime_with(settings, script, ao_daily_max_cost_usd=0.5)
    runtime.ledger.add("earlier-run", "planning", spent(0.75, time.time() - 60))
    with pytest.raises(BudgetExceeded, match=r"today's spending cap \(AO_DAILY_MAX_COST_USD\) is reached"):
        await leader_worker(runtime, "four steps")
    assert script.calls == []
    (run,) = [r for r in runtime.runs.list() if r.workflow == "leader-worker-basic"]
    assert run.status == "failed" and "AO_DAILY_MAX_COST_USD" in run.reason


async def test_spend_before_today_does_not_count_against_the_daily_cap(settings: Settings) -> None:
    script = Script([step_plan(("s1", "summarization", []))])
    runtime = runtime_with(settings, script, ao_daily_max_cost_usd=0.5)
    runtime.ledger.add("older-run", "planning", spent(0.75, time.time() - 2 * 86400))
    result = await leader_worker(runtime, "one step")
    assert result.status == "succeeded" and len(script.calls) == 3
