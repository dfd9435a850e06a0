"""Interviews are recorded runs: their calls in the run's usage and the ledger, budgets, a bounded evaluation."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from scripted import SEED, scripted_factory

from agent_orchestrator.agents.budget import BudgetExceeded
from agent_orchestrator.config import Settings
from agent_orchestrator.domain.profile import CaseResult, CheckResult, InterviewResult
from agent_orchestrator.interview import runner
from agent_orchestrator.interview.case import GradingEnv, InterviewCase
from agent_orchestrator.interview.scoring import percentile, reliability_of, too_slow_reason
from agent_orchestrator.queries.runs import list_runs
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows import interview as interview_module
from agent_orchestrator.workflows.interview import interview_worker

pytestmark = pytest.mark.anyio
BASE_URL = "http://scripted.test/v1"
CASES = 19


@pytest.fixture(autouse=True)
def no_typescript(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grading without the TypeScript compiler: these tests are about runs and time, not codegen."""
    monkeypatch.setattr(interview_module, "find_typescript_toolchain", lambda: None)


async def interview(runtime: Runtime, behaviour: str, save: bool = False) -> InterviewResult:
    return await interview_worker(
        runtime, provider="openai-compatible", model=behaviour, base_url=BASE_URL, seed=SEED, save=save
    )


async def test_an_interview_is_a_run_with_every_call_in_its_usage_and_the_ledger(runtime: Runtime) -> None:
    result = await interview(runtime, "ideal")
    assert result.run_id is not None
    record = runtime.runs.get(result.run_id)
    assert (record.workflow, record.status) == ("worker-interview", "succeeded")
    assert record.usage["calls"] == CASES and record.usage["requests"] == CASES
    assert [node.name for node in record.nodes] == ["ResolveEndpoint", "AskCases", "ScoreAnswers"]
    calls = runtime.ledger.for_run(result.run_id)
    assert len(calls) == CASES
    assert {(call.role, call.model_id) for call in calls} == {("worker", "openai-compatible:ideal")}


async def test_ao_runs_list_and_usage_by_workflow_show_the_interview(runtime: Runtime) -> None:
    result = await interview(runtime, "ideal")
    [run] = list_runs(runtime).runs
    assert (run.run_id, run.workflow, run.status) == (result.run_id, "worker-interview", "succeeded")
    now = datetime.now(UTC)
    report = runtime.ledger.report(now - timedelta(hours=1), now + timedelta(hours=1), "workflow")
    assert [(row.key, row.calls) for row in report.rows] == [("worker-interview", CASES)]


async def test_an_unavailable_endpoint_is_a_failed_run_that_says_why(runtime: Runtime) -> None:
    result = await interview(runtime, "failing", save=True)
    assert result.status == "unavailable" and result.run_id is not None
    record = runtime.runs.get(result.run_id)
    assert record.status == "failed" and "unavailable: the endpoint failed" in record.reason
    assert record.usage["failed_calls"] == record.usage["calls"] > 0


async def test_the_saved_profile_records_latency_percentiles(settings: Settings) -> None:
    runtime = Runtime.create(settings, scripted_factory(SEED, latency_s=0.05))
    result = await interview(runtime, "ideal", save=True)
    assert result.profile is not None
    reliability = runtime.profiles.get("openai-compatible:ideal").reliability
    assert reliability.latency_p50_ms is not None and reliability.latency_p95_ms is not None
    assert 50 <= reliability.latency_p50_ms <= reliability.latency_p95_ms < 2000
    assert reliability.unanswered_at_deadline == 0 and reliability.deadline_s == settings.ao_interview_timeout


async def test_a_spent_run_budget_ends_the_interview_as_a_failed_run(settings: Settings) -> None:
    runtime = Runtime.create(settings.model_copy(update={"ao_run_max_requests": 5}), scripted_factory(SEED))
    with pytest.raises(BudgetExceeded, match="AO_RUN_MAX_REQUESTS"):
        await interview(runtime, "ideal", save=True)
    [run] = list_runs(runtime).runs
    assert run.status == "failed" and run.reason.startswith("budget exceeded")
    assert sum(call.requests for call in runtime.ledger.for_run(run.run_id)) == 5
    assert not runtime.profiles.path.exists()


async def test_grading_that_outlasts_the_deadline_is_stopped_and_said(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pydantic-evals is not left waiting: a grader still busy after the deadline is cancelled."""

    async def stuck(case: InterviewCase, reply: object, env: GradingEnv) -> list[CheckResult]:
        await anyio.sleep(60)
        return []

    monkeypatch.setattr(runner, "grade_reply", stuck)
    monkeypatch.setattr(runner, "GRADING_GRACE_S", 0.3)
    runtime = Runtime.create(settings.model_copy(update={"ao_interview_timeout": 1.0}), scripted_factory(SEED))
    started = time.monotonic()
    result = await interview(runtime, "ideal")
    assert time.monotonic() - started < 1.0 + 0.3 + 1.0
    assert result.profile is not None and result.status == "blocked"
    cases = [case for score in result.profile.scores.values() for case in score.cases]
    # The stuck graders hold the probe's answers (the three structured cases, asked first) ungraded
    # until the deadline; the cases asked after it are unanswered.
    ungraded = [case for case in cases if case.error is None]
    unanswered = [case for case in cases if case.error == "deadline"]
    assert {case.dimension for case in ungraded} == {"structured_json"} and len(ungraded) == 3
    assert len(ungraded) + len(unanswered) == CASES
    assert all(case.checks[0].name == "graded" and case.checks[0].passed is False for case in ungraded)
    assert "answered, but not graded before the interview's deadline of 1 s" in ungraded[0].checks[0].detail


def test_percentiles_are_observed_values_by_nearest_rank() -> None:
    latencies = [100, 900, 200, 300, 400, 500, 600, 700, 800, 1000]
    assert (percentile(latencies, 50), percentile(latencies, 95)) == (500, 1000)
    assert (percentile([250], 50), percentile([250], 95)) == (250, 250)
    assert percentile([], 95) is None


def _case(error: str | None, latency_ms: int) -> CaseResult:
    return CaseResult.model_validate(
        {
            "case_id": "c",
            "dimension": "summarization",
            "score": 0.0,
            "passed": False,
            "checks": [],
            "error": error,
            "attempts": 1,
            "latency_ms": latency_ms,
        }
    )


def test_cases_the_deadline_cut_are_slowness_not_endpoint_failures() -> None:
    cases = [
        _case(None, 1500),
        _case(None, 1400),
        _case("deadline", 400),
        _case("deadline", 0),
        _case("timeout", 2000),
    ]
    reliability = reliability_of(cases, deadline_s=2.0)
    assert (reliability.answered, reliability.transport_failures, reliability.unanswered_at_deadline) == (2, 1, 2)
    assert (reliability.latency_p50_ms, reliability.latency_p95_ms) == (1400, 1500)
    assert too_slow_reason(reliability) == (
        "too slow: p95 latency 1.5 s; the interview's deadline of 2 s (AO_INTERVIEW_TIMEOUT) passed "
        "with 2 of 5 cases unanswered"
    )
    assert too_slow_reason(reliability_of(cases[:2], deadline_s=2.0)) is None
