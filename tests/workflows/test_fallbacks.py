"""Fallback chains in the leader-worker workflow, against the fault server over real sockets.

The leader falls back to `LEADER_MODEL_FALLBACKS`; a worker step only to a `WORKER_MODEL_FALLBACKS`
worker its own fresh profile qualifies; never for a bad key. Outcomes and call records say who
served the step and why; attempts are counted at the servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fault_server import FaultServer, HTTPError
from fault_workflow import answers
from pydantic import SecretStr
from real_models import RealModels, endpoint_settings
from scripted_agents import Script, make_profile, step_plan

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.profile import TaskType, WorkerCapabilityProfile
from agent_orchestrator.domain.status import WorkerStatus
from agent_orchestrator.errors import ProviderError
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.leader_worker.graph import leader_worker
from agent_orchestrator.workflows.recorder import WorkflowFailed

pytestmark = pytest.mark.anyio
ONE_STEP = step_plan(("s1", "summarization", []))
PRIMARY, BACKUP = "openai-compatible:w-primary", "openai-compatible:w-backup"
LEADER_KEY = "sk-leader-only-0123456789"
ATTEMPTS = 4  # one call: the first attempt and AO_MODEL_MAX_RETRIES (3)


@pytest.fixture
def leader() -> Iterator[FaultServer]:
    with FaultServer(default=answers(ONE_STEP)) as server:
        yield server


@pytest.fixture
def primary() -> Iterator[FaultServer]:
    with FaultServer(default=HTTPError(429)) as server:
        yield server


@pytest.fixture
def backup() -> Iterator[FaultServer]:
    with FaultServer(default=answers(ONE_STEP)) as server:
        yield server


def runtime_at(settings: Settings, models: RealModels, leader: FaultServer, **updates: Any) -> Runtime:
    """The leader at `leader` with its own key; no worker configured (routing reads the saved profiles)."""
    configured = {**endpoint_settings(leader, model="leader"), "leader_model_api_key": SecretStr(LEADER_KEY)}
    return Runtime.create(settings.model_copy(update={**configured, **updates}), models)


def worker_profile(
    name: str,
    server: FaultServer,
    status: WorkerStatus = "active",
    supported: list[TaskType] | None = None,
    expired: bool = False,
) -> WorkerCapabilityProfile:
    """A judged profile for worker `name`, made against `server`."""
    tasks: list[TaskType] = ["summarization"] if supported is None else supported
    return make_profile(name, status, tasks, expired=expired, base_url=server.base_url)


async def test_a_leader_rate_limited_for_good_falls_back_and_the_run_says_so(
    settings: Settings, real_models: RealModels, primary: FaultServer, backup: FaultServer
) -> None:
    fallback = f"openai-compatible:backup@{backup.base_url}"
    runtime = runtime_at(settings, real_models, primary, leader_model_fallbacks=[fallback])
    result = await leader_worker(runtime, "one step")
    (step,) = result.steps
    assert result.status == "succeeded" and step.verdict == "accepted"
    assert (step.served_by, step.fallback_from) == ("openai-compatible:backup", "openai-compatible:leader")
    assert step.fallback_reason is not None and "rate_limited" in step.fallback_reason
    assert "fallback for openai-compatible:leader" in result.summary
    served = [call for call in runtime.ledger.for_run(result.run_id) if call.succeeded]
    assert [(c.model_id, c.fallback_from) for c in served] == [
        ("openai-compatible:backup", "openai-compatible:leader")
    ] * 2
    assert primary.count == 2 * ATTEMPTS and backup.count == 2  # the plan and the step, each retried, then served
    assert {a.authorization for a in primary.attempts} == {f"Bearer {LEADER_KEY}"}
    assert {a.authorization for a in backup.attempts} == {"Bearer not-needed"}, "the leader's key stays home"


async def test_a_leader_with_a_bad_key_does_not_fall_back(
    settings: Settings, real_models: RealModels, backup: FaultServer
) -> None:
    with FaultServer(default=HTTPError(401)) as refused:
        runtime = runtime_at(
            settings, real_models, refused, leader_model_fallbacks=[f"openai-compatible:b@{backup.base_url}"]
        )
        with pytest.raises(WorkflowFailed, match="refused the key"):
            await leader_worker(runtime, "one step")
        assert refused.count == 1 and backup.count == 0


async def test_a_rate_limited_worker_step_falls_back_to_a_qualified_worker(
    settings: Settings, real_models: RealModels, leader: FaultServer, primary: FaultServer, backup: FaultServer
) -> None:
    runtime = runtime_at(settings, real_models, leader, worker_model_fallbacks=[f"{BACKUP}@{backup.base_url}"])
    runtime.profiles.save(worker_profile("w-primary", primary))
    runtime.profiles.save(worker_profile("w-backup", backup))
    result = await leader_worker(runtime, "one step", worker_profile=PRIMARY)
    (step,) = result.steps
    assert result.status == "succeeded" and step.verdict == "accepted" and step.leader_reviewed
    assert (step.assignee, step.served_by, step.fallback_from) == (PRIMARY, BACKUP, PRIMARY)
    assert step.fallback_reason is not None and "rate_limited" in step.fallback_reason
    assert primary.count == ATTEMPTS and backup.count == 1 and leader.count == 2  # plan and review
    [served] = [c for c in runtime.ledger.for_run(result.run_id) if c.role == "worker" and c.succeeded]
    assert (served.model_id, served.fallback_from) == (BACKUP, PRIMARY)


async def test_a_step_that_fell_back_stays_with_its_fallback_for_the_next_round(
    settings: Settings, real_models: RealModels, primary: FaultServer, backup: FaultServer
) -> None:
    reviews: list[str] = []

    def review(request: Any) -> dict[str, str]:
        reviews.append("review")
        return {"verdict": "revise", "feedback": "more"} if len(reviews) == 1 else {"verdict": "accept"}

    with FaultServer(default=answers(ONE_STEP, review=review)) as leader:
        runtime = runtime_at(settings, real_models, leader, worker_model_fallbacks=[f"{BACKUP}@{backup.base_url}"])
        runtime.profiles.save(worker_profile("w-primary", primary))
        runtime.profiles.save(worker_profile("w-backup", backup))
        result = await leader_worker(runtime, "one step", worker_profile=PRIMARY)
    assert result.status == "succeeded" and result.steps[0].rounds == 2 and result.steps[0].served_by == BACKUP
    assert primary.count == ATTEMPTS and backup.count == 2


@pytest.mark.parametrize(
    ("profile", "why"),
    [
        (None, "it has no saved profile"),
        ({"supported": ["code_review"]}, "its active profile does not qualify it for summarization"),
        ({"status": "blocked", "supported": []}, "its blocked profile does not qualify it for summarization"),
        ({"expired": True}, "its profile is stale (expired at"),
    ],
    ids=["no-profile", "other-task-type", "blocked", "expired"],
)
async def test_a_fallback_worker_its_own_profile_does_not_qualify_is_not_used(
    settings: Settings,
    real_models: RealModels,
    leader: FaultServer,
    primary: FaultServer,
    backup: FaultServer,
    profile: dict[str, Any] | None,
    why: str,
) -> None:
    runtime = runtime_at(settings, real_models, leader, worker_model_fallbacks=[f"{BACKUP}@{backup.base_url}"])
    runtime.profiles.save(worker_profile("w-primary", primary))
    if profile is not None:
        runtime.profiles.save(worker_profile("w-backup", backup, **profile))
    result = await leader_worker(runtime, "one step", worker_profile=PRIMARY)
    (step,) = result.steps
    assert result.status == "failed" and step.verdict == "failed" and step.served_by is None
    assert "kept failing (rate_limited" in (step.error or "")
    assert primary.count == ATTEMPTS and backup.count == 0
    assert any(
        f"WORKER_MODEL_FALLBACKS {BACKUP!r} is not used for summarization steps: {why}" in w
        for w in result.warnings
    )


async def test_a_worker_with_a_bad_key_does_not_fall_back(
    settings: Settings, real_models: RealModels, leader: FaultServer, backup: FaultServer
) -> None:
    with FaultServer(default=HTTPError(401)) as refused:
        runtime = runtime_at(settings, real_models, leader, worker_model_fallbacks=[f"{BACKUP}@{backup.base_url}"])
        runtime.profiles.save(worker_profile("w-primary", refused))
        runtime.profiles.save(worker_profile("w-backup", backup))
        result = await leader_worker(runtime, "one step", worker_profile=PRIMARY)
        assert refused.count == 1
    (step,) = result.steps
    assert step.verdict == "failed" and "refused the key" in (step.error or "") and backup.count == 0


async def test_a_broken_worker_fallback_fails_the_run_before_any_model_call(settings: Settings) -> None:
    script = Script([ONE_STEP])
    runtime = Runtime.create(
        settings.model_copy(update={"worker_model_fallbacks": ["nosuch:m"]}), script.factory()
    )
    with pytest.raises(ProviderError, match="WORKER_MODEL_FALLBACKS entry 1: unknown provider 'nosuch'"):
        await leader_worker(runtime, "one step")
    assert script.calls == [] and runtime.runs.list()[0].status == "failed"
