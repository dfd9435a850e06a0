"""A saved worker profile built by hand, for tests of the stores and the platform checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent_orchestrator.domain.profile import SUITE_VERSION, Reliability, RoutingPolicy, WorkerCapabilityProfile


def make_profile(worker_id: str, **changes: object) -> WorkerCapabilityProfile:
    """A limited worker that qualified for summarization, fresh for a week; `changes` override fields."""
    now = datetime.now(UTC)
    provider, _, model = worker_id.partition(":")
    profile = WorkerCapabilityProfile(
        worker_id=worker_id,
        provider=provider,
        model=model,
        base_url=None,
        endpoint_fingerprint="f" * 16,
        status="limited",
        scores={},
        supported_task_types=["summarization"],
        unsupported_task_types=[],
        reasons=[],
        recommended_actions=[],
        routing_policy=RoutingPolicy(
            max_task_complexity="low",
            leader_review_required=True,
            codegen_allowed=False,
            patch_generation_allowed=False,
        ),
        reliability=Reliability(cases=1, answered=1, transport_failures=0, timeouts=0, retries=0),
        typescript_check="n/a",
        evaluated_at=now,
        expires_at=now + timedelta(days=7),
        suite_version=SUITE_VERSION,
        seed=1,
        duration_ms=1,
    )
    return profile.model_copy(update=changes)
