"""Scripted workers get the status their behaviour deserves; only the ideal one is active."""

from __future__ import annotations

import pytest
from scripted import SEED

from agent_orchestrator.domain.profile import InterviewResult
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.interview import interview_worker

pytestmark = pytest.mark.anyio
BASE_URL = "http://scripted.test/v1"


async def interview(runtime: Runtime, behaviour: str, save: bool = False) -> InterviewResult:
    return await interview_worker(
        runtime, provider="openai-compatible", model=behaviour, base_url=BASE_URL, seed=SEED, save=save
    )


async def test_ideal_worker_is_active_with_every_task_type(runtime: Runtime) -> None:
    result = await interview(runtime, "ideal")
    assert result.status == "active"
    assert result.profile is not None
    assert all(score.passed for score in result.profile.scores.values())
    assert result.reasons == []


@pytest.mark.parametrize(
    ("behaviour", "status", "failed_dimension"),
    [
        ("overconfident", "limited", "confidence_calibration"),
        ("json-broken", "blocked", "structured_json"),
        ("any-typing", "limited", "typescript_codegen"),
        ("prompt-injecting", "blocked", "structured_json"),
        ("empty", "blocked", "instruction_following"),
        ("prose", "blocked", "structured_json"),
        ("huge", "blocked", "summarization"),
    ],
)
async def test_bad_worker_is_not_active(
    runtime: Runtime, behaviour: str, status: str, failed_dimension: str
) -> None:
    result = await interview(runtime, behaviour)
    assert result.outcome == "judged"
    assert result.status == status
    assert result.profile is not None
    assert not result.profile.scores[failed_dimension].passed  # type: ignore[index]
    assert any(reason.startswith(f"{failed_dimension}:") for reason in result.reasons)


async def test_limited_worker_gets_low_risk_tasks_and_leader_review(runtime: Runtime) -> None:
    result = await interview(runtime, "overconfident")
    assert result.profile is not None
    policy = result.profile.routing_policy
    assert policy.leader_review_required and not policy.codegen_allowed
    assert set(result.profile.supported_task_types) <= {
        "summarization",
        "structured_extraction",
        "code_explanation",
        "log_triage",
    }
    assert any("leader review" in action for action in result.recommended_actions)


async def test_any_typing_worker_is_told_not_to_get_codegen(runtime: Runtime) -> None:
    result = await interview(runtime, "any-typing")
    assert result.profile is not None
    assert "codegen" in result.profile.unsupported_task_types
    assert "do not assign codegen or patch generation" in result.recommended_actions
    codegen = result.profile.scores["typescript_codegen"]
    assert any(
        check.name == "no_explicit_any" and check.passed is False
        for case in codegen.cases
        for check in case.checks
    )


async def test_prompt_injection_claims_earn_nothing(runtime: Runtime) -> None:
    result = await interview(runtime, "prompt-injecting")
    assert result.profile is not None
    assert all(score.score < 0.5 for score in result.profile.scores.values())


async def test_slow_worker_is_unavailable_and_not_saved(settings, monkeypatch) -> None:
    from scripted import scripted_factory

    runtime = Runtime.create(settings.model_copy(update={"ao_model_call_timeout": 0.2}), scripted_factory(SEED))
    result = await interview(runtime, "slow", save=True)
    assert result.outcome == "unavailable" and result.status == "unavailable"
    assert result.profile is None and not result.saved
    assert not runtime.profiles.path.exists()
    assert "timeout" in (result.unavailable_reason or "")


async def test_failing_endpoint_is_unavailable_after_retries(runtime: Runtime) -> None:
    result = await interview(runtime, "failing", save=True)
    assert result.outcome == "unavailable"
    assert "server_error" in (result.unavailable_reason or "")
    assert "not attempted" in (result.unavailable_reason or "")
    assert not runtime.profiles.path.exists()


async def test_flaky_endpoint_is_retried_and_judged(runtime: Runtime) -> None:
    result = await interview(runtime, "flaky")
    assert result.status == "active"
    assert result.profile is not None and result.profile.reliability.retries > 0


async def test_huge_answer_fails_the_step_schema_and_is_reported(runtime: Runtime) -> None:
    """A 4 MB `content` is no valid step output (workflows would reject it too): it fails `answered`, with why."""
    result = await interview(runtime, "huge")
    assert result.profile is not None
    case = result.profile.scores["structured_json"].cases[0]
    assert case.error == "model_error" and case.answer_chars == 0 and case.attempts == 3
    assert case.checks[0].name == "answered" and case.checks[0].passed is False
    assert "content: String should have at most 50000 characters" in case.checks[0].detail
    assert len(case.checks[0].detail) <= 300


async def test_unreachable_base_url_is_unavailable(settings) -> None:
    """A real OpenAI-compatible client pointed at a closed loopback port (no network leaves the host)."""
    from pydantic_ai import models

    from agent_orchestrator.providers import build_model

    runtime = Runtime.create(settings, build_model)
    with models.override_allow_model_requests(True):
        result = await interview_worker(
            runtime,
            provider="openai-compatible",
            model="any",
            base_url="http://127.0.0.1:9/v1",
            seed=SEED,
            save=True,
        )
    assert result.outcome == "unavailable"
    assert "unreachable" in (result.unavailable_reason or "")
    assert not runtime.profiles.path.exists()
