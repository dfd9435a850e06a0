"""The interview against the fault server on a real socket: bounded, counted, recorded, and a slow worker blocked.

The worker is the OpenAI-compatible model the registry builds (SDK retries off), so every attempt
the server counts is the retry policy's. Each fault ends in bounded time with the right status,
its calls in the run's usage and the ledger, and no traceback; a worker too slow for the
interview's deadline ends `blocked` within it, is saved, and shows its latency in `ao worker list`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import pytest
from fault_server import Action, FaultServer, Hang, HTTPError, Huge, Responder, structured_reply
from real_models import TRANSIENT_FAULTS, RealModels, endpoint_settings
from scripted import SEED

from agent_orchestrator.cli.render import render
from agent_orchestrator.config import Settings
from agent_orchestrator.domain.profile import InterviewResult
from agent_orchestrator.interview.calls import BREAKER_THRESHOLD
from agent_orchestrator.interview.freshness import freshness
from agent_orchestrator.interview.suite import build_suite
from agent_orchestrator.queries.runs import list_runs
from agent_orchestrator.queries.workers import list_workers
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows import interview as interview_module
from agent_orchestrator.workflows.interview import interview_worker

pytestmark = pytest.mark.anyio
CASES = 19
MAX_RETRIES = 3
TRANSIENT = 1 + MAX_RETRIES
WORKER = "openai-compatible:fault-model"


@pytest.fixture(autouse=True)
def without_typescript(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grading runs without the TypeScript compiler (time, not codegen)."""
    monkeypatch.setattr(interview_module, "find_typescript_toolchain", lambda: None)


def runtime_at(settings: Settings, models: RealModels, **update: Any) -> Runtime:
    update = {"ao_model_max_retries": MAX_RETRIES, "ao_interview_concurrency": 1, **update}
    return Runtime.create(settings.model_copy(update=update), models)


def references(latency: float = 0.0) -> Responder:
    """A worker that answers every interview case with its reference answer in a step's output (through
    the output tool, else as JSON text), after `latency` seconds."""
    cases = {case.prompt: case for case in build_suite(SEED)}

    def respond(request: dict[str, Any]) -> Action:
        prompt = next((m["content"] for m in request["messages"] if m["role"] == "user"), None)
        case = cases.get(prompt) if isinstance(prompt, str) else None
        answer = {"summary": "answered", "content": case.reference if case is not None else "?"}
        return replace(structured_reply(request, answer), latency=latency)

    return respond


async def interview(runtime: Runtime, server: FaultServer, save: bool = False) -> InterviewResult:
    return await interview_worker(
        runtime, provider="openai-compatible", model="fault-model", base_url=server.base_url, seed=SEED, save=save
    )


def assert_recorded(runtime: Runtime, result: InterviewResult, server: FaultServer) -> None:
    """The run's usage and the ledger hold every call the server saw, and no traceback is anywhere."""
    assert result.run_id is not None
    record = runtime.runs.get(result.run_id)
    calls = runtime.ledger.for_run(result.run_id)
    assert record.usage["calls"] == len(calls) and sum(call.attempts for call in calls) == server.count
    assert {call.model_id for call in calls} == {WORKER}
    assert "Traceback" not in record.model_dump_json() + result.model_dump_json()


@dataclass(frozen=True)
class Fault:
    """What the worker's endpoint does to every request, and what the interview must make of it."""

    action: Action
    attempts: int  # per call: the retry policy's for a transient failure, else one
    kind: str  # the error kind the unavailable reason names
    call_timeout: float = 2.0


FAULTS = {
    **{name: Fault(action, TRANSIENT, kind) for name, (action, kind) in TRANSIENT_FAULTS.items()},
    "429-retry-after-past-deadline": Fault(HTTPError(429, retry_after=30), 1, "timeout"),
    "hang-past-the-call-deadline": Fault(Hang(30), 1, "timeout", call_timeout=0.3),
    "401": Fault(HTTPError(401), 1, "auth_failed"),
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_a_failing_endpoint_is_unavailable_in_bounded_time_with_its_attempts_counted(
    name: str, settings: Settings, real_models: RealModels, caplog: pytest.LogCaptureFixture
) -> None:
    fault = FAULTS[name]
    runtime = runtime_at(settings, real_models, ao_model_call_timeout=fault.call_timeout)
    with FaultServer(default=fault.action) as server:
        started = time.monotonic()
        with caplog.at_level(logging.ERROR):
            result = await interview(runtime, server, save=True)
        elapsed = time.monotonic() - started
    assert elapsed < 8
    assert result.status == "unavailable" and not result.saved and not runtime.profiles.path.exists()
    assert f"({fault.kind}" in (result.unavailable_reason or ""), result.unavailable_reason
    assert server.count == BREAKER_THRESHOLD * fault.attempts  # then the breaker stops calling
    assert [call.attempts for call in runtime.ledger.for_run(result.run_id or "")] == [fault.attempts] * 3
    assert_recorded(runtime, result, server)
    assert runtime.runs.get(result.run_id or "").status == "failed"
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_retry_after_is_waited_for_and_the_worker_judged(
    settings: Settings, real_models: RealModels
) -> None:
    runtime = runtime_at(settings, real_models, ao_interview_concurrency=4)
    with FaultServer([HTTPError(429, retry_after=1)], default=references()) as server:
        started = time.monotonic()
        result = await interview(runtime, server)
        elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 6
    assert result.status == "active" and server.count == CASES + 1
    assert result.profile is not None and result.profile.reliability.retries == 1
    assert_recorded(runtime, result, server)


async def test_a_4mb_text_answer_is_no_step_output_in_any_mode_and_the_worker_is_blocked(
    settings: Settings, real_models: RealModels
) -> None:
    """Text where a step's output was asked for: each output mode is tried once, with the workflows' retries."""
    runtime = runtime_at(settings, real_models, ao_interview_concurrency=4, ao_model_call_timeout=10.0)
    with FaultServer(default=Huge()) as server:
        result = await interview(runtime, server)
    assert result.status == "blocked" and result.profile is not None
    assert result.reasons[0].startswith("no structured output mode works: tool: 0/3 answers")
    assert server.count == 3 * 3 * 3  # three modes, three structured cases, a call and its two retries
    trials = result.profile.output_mode_trials
    assert [(t.mode, t.works, t.delivered) for t in trials] == [
        (m, False, 0) for m in ("tool", "native", "prompted")
    ]
    assert "Please include your response in a tool call" in trials[0].detail and "JSON" in trials[1].detail
    assert result.profile.output_mode is None
    cases = [case for score in result.profile.scores.values() for case in score.cases]
    assert all(case.error == "model_error" and len(case.answer_excerpt) <= 400 for case in cases)
    assert sum(1 for case in cases if case.attempts == 0) == CASES - 3  # the rest was not asked
    assert_recorded(runtime, result, server)


async def test_a_hang_past_the_interview_deadline_ends_blocked_at_the_deadline(
    settings: Settings, real_models: RealModels
) -> None:
    runtime = runtime_at(
        settings, real_models, ao_interview_concurrency=4, ao_model_call_timeout=10.0, ao_interview_timeout=1.5
    )
    with FaultServer(default=Hang(30)) as server:
        started = time.monotonic()
        result = await interview(runtime, server, save=True)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 0.5
    assert result.status == "blocked" and result.saved
    assert result.reasons[0] == (
        "too slow: no answer at all; the interview's deadline of 1.5 s (AO_INTERVIEW_TIMEOUT) passed "
        "with 19 of 19 cases unanswered"
    )
    assert server.count == 3  # the probe's structured cases, in flight when it passed; nothing asked after it
    calls = runtime.ledger.for_run(result.run_id or "")
    assert [call.error for call in calls] == [
        "no answer before the interview's deadline of 1.5 s (AO_INTERVIEW_TIMEOUT)"
    ] * 3
    assert result.profile is not None and result.profile.output_mode_trials[0].detail.startswith("not determined")
    assert_recorded(runtime, result, server)


async def test_a_slow_worker_ends_blocked_within_the_deadline_saved_and_listed_with_its_latency(
    settings: Settings, real_models: RealModels
) -> None:
    with FaultServer(default=references(latency=1.5)) as server:
        runtime = runtime_at(
            settings,
            real_models,
            ao_interview_concurrency=4,
            ao_model_call_timeout=10.0,
            ao_interview_timeout=2.0,
            **endpoint_settings(server, "worker"),
        )
        started = time.monotonic()
        result = await interview_worker(runtime, seed=SEED, save=True)
        elapsed = time.monotonic() - started
    assert elapsed <= 2.0 + 0.3, "the interview ends at its deadline"
    assert result.status == "blocked" and result.saved and result.profile is not None
    reliability = result.profile.reliability
    # the probe's three structured cases answered (tool mode works); the rest was cut by the deadline
    assert (reliability.answered, reliability.unanswered_at_deadline, reliability.transport_failures) == (3, 16, 0)
    assert reliability.latency_p95_ms is not None and 1500 <= reliability.latency_p95_ms < 1900
    assert result.reasons[0] == (
        f"too slow: p95 latency {reliability.latency_p95_ms / 1000:.1f} s; the interview's deadline of 2 s "
        "(AO_INTERVIEW_TIMEOUT) passed with 16 of 19 cases unanswered"
    )
    assert any("raise AO_INTERVIEW_TIMEOUT" in action for action in result.recommended_actions)
    saved = runtime.profiles.get(WORKER)
    assert saved.status == "blocked" and freshness(runtime.settings, saved) == [], "not re-interviewed next run"
    assert_recorded(runtime, result, server)
    [run] = list_runs(runtime).runs
    assert (run.workflow, run.status) == ("worker-interview", "succeeded")
    assert run.reason.startswith(f"worker {WORKER!r} blocked: too slow")
    [worker] = list_workers(runtime).workers
    assert (worker.latency_p50_ms, worker.latency_p95_ms) == (
        reliability.latency_p50_ms,
        reliability.latency_p95_ms,
    )
    header, row = render("list_workers", list_workers(runtime).model_dump(mode="json")).splitlines()
    assert header.split()[:5] == ["WORKER", "STATUS", "MODE", "P50", "P95"]
    p50, p95 = (f"{ms / 1000:.1f}s" for ms in (reliability.latency_p50_ms or 0, reliability.latency_p95_ms))
    cells = row.split()
    assert [*cells[:2], *cells[3:5]] == [WORKER, "blocked", p50, p95]
