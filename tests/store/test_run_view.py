"""`get_run`'s view of a run: usage per model and role from the call ledger, the leader's model, the failure."""

from __future__ import annotations

from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.queries.runs import get_run
from agent_orchestrator.runtime import Runtime


def call(
    role: str, model_id: str, *, cost: float | None = None, error: str | None = None, **extra: object
) -> CallRecord:
    fields: dict[str, object] = {
        "role": role,
        "model_id": model_id,
        "started": 1.0,
        "latency_ms": 5,
        "attempts": 1,
        "requests": 0 if error else 1,
        "input_tokens": 0 if error else 100,
        "output_tokens": 0 if error else 10,
        "cost_usd": cost,
        "error": error,
    }
    return CallRecord.model_validate(fields | extra)


def test_usage_is_summed_per_model_and_role_in_the_order_first_used(runtime: Runtime) -> None:
    run_id = runtime.runs.create("leader-worker", {})
    for record in (
        call("leader", "openai:gpt-4o", error="the endpoint kept failing", attempts=4, error_kind="rate_limited"),
        call("leader", "openai:backup", cost=0.01, fallback_from="openai:gpt-4o", fallback_reason="rate limited"),
        call("worker", "ollama:small"),
        call("worker", "ollama:small"),
        call("leader", "openai:backup", cost=0.02, fallback_from="openai:gpt-4o"),
    ):
        runtime.ledger.add(run_id, "leader-worker", record)
    runtime.ledger.add("run_other", "review", call("leader", "openai:gpt-4o", cost=5.0))
    runtime.runs.finish(run_id, "succeeded", "", {}, {})
    view = get_run(runtime, run_id)
    assert view.leader_model == "openai:gpt-4o" and view.failure is None and view.validation_errors == []
    rows = [(m.model_id, m.role, m.calls, m.failed_calls, m.retries, m.requests, m.cost_usd) for m in view.models]
    assert rows == [
        ("openai:gpt-4o", "leader", 1, 1, 3, 0, None),
        ("openai:backup", "leader", 2, 0, 0, 2, 0.03),
        ("ollama:small", "worker", 2, 0, 0, 2, None),
    ]
    assert view.models[1].fell_back_from == ["openai:gpt-4o"] and view.models[1].input_tokens == 200


def test_a_failed_run_shows_its_recorded_cause_and_the_rejected_outputs_errors(runtime: Runtime) -> None:
    run_id = runtime.runs.create("planning", {})
    failure = {
        "step": "DraftSteps",
        "cause": "invalid output after its retries",
        "validation_errors": ["steps: x"],
    }
    runtime.runs.finish(run_id, "failed", "a model call failed: invalid output\nmore", {"failure": failure}, {})
    view = get_run(runtime, run_id)
    assert (view.failure, view.validation_errors) == ("invalid output after its retries", ["steps: x"])
    assert view.leader_model is None and view.models == []


def test_without_a_recorded_cause_the_reasons_first_line_is_the_failure(runtime: Runtime) -> None:
    run_id = runtime.runs.create("review", {})
    runtime.runs.finish(run_id, "refused", "path refused\nsecond line", {"failure": "not an object"}, {})
    view = get_run(runtime, run_id)
    assert view.failure == "path refused" and view.validation_errors == []


def test_a_malformed_recorded_failure_does_not_break_the_view(runtime: Runtime) -> None:
    run_id = runtime.runs.create("review", {})
    runtime.runs.finish(run_id, "failed", "x", {"failure": {"cause": "", "validation_errors": "oops"}}, {})
    view = get_run(runtime, run_id)
    assert view.failure == "x" and view.validation_errors == []
