"""Run usage: each call's record summed; cost only where a call was priced, never guessed."""

from __future__ import annotations

from agent_orchestrator.agents.usage import Usage
from agent_orchestrator.domain.calls import CallRecord


def call(cost: float | None, requests: int = 1, error: str | None = None, attempts: int = 1) -> CallRecord:
    return CallRecord(
        role="leader",
        model_id="openai:gpt-4o",
        started=0.0,
        latency_ms=5,
        attempts=attempts,
        requests=requests,
        input_tokens=100,
        output_tokens=10,
        cost_usd=cost,
        error=error,
    )


def test_calls_are_summed_with_their_cost() -> None:
    usage = Usage()
    usage.record_call(call(0.25))
    usage.record_call(call(0.5, attempts=3))
    assert usage.as_dict() == {
        "requests": 2,
        "input_tokens": 200,
        "output_tokens": 20,
        "cost_usd": 0.75,
        "unpriced_responses": 0,
        "calls": 2,
        "failed_calls": 0,
        "retries": 2,
    }


def test_unpriced_calls_have_no_price_rather_than_a_wrong_one() -> None:
    usage = Usage()
    usage.record_call(call(None, requests=2))
    assert usage.as_dict()["cost_usd"] is None and usage.as_dict()["unpriced_responses"] == 2


def test_failed_calls_count_and_keep_what_they_spent() -> None:
    usage = Usage()
    usage.record_call(call(0.1, error="the endpoint kept failing"))
    usage.record_call(call(None, requests=0, error="no answer before the call's deadline"))
    assert usage.failed_calls == 2 and usage.requests == 1 and usage.as_dict()["cost_usd"] == 0.1
