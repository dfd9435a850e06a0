"""Trust that follows the record: the leader's verdicts on worker steps go into the worker's track record,
and a worker the leader keeps rejecting is downgraded to limited (scripted leader and workers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scripted_models import Reply, Request
from workflows.scripted_agents import (
    ALL_TYPES,
    BASE_URL,
    LOW_RISK,
    Script,
    endpoint_down,
    make_profile,
    step_plan,
)

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.domain.steps import journal
from agent_orchestrator.domain.track_record import JudgedOutput
from agent_orchestrator.interview.routing import LEADER, Candidate
from agent_orchestrator.interview.scoring import routing_policy
from agent_orchestrator.interview.trust import TrustRule
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.leader_worker.graph import leader_worker, step_jobs
from agent_orchestrator.workflows.leader_worker.track_record import record_track_records, update_track_records
from agent_orchestrator.workflows.recorder import RunContext

pytestmark = pytest.mark.anyio

WORKER = "openai-compatible:coder"
BACKUP = "openai-compatible:backup"
TWO = step_plan(("s1", "summarization", []), ("s2", "summarization", []))
PATCH = "--- a/app.txt\n+++ b/app.txt\n@@ -1,2 +1,2 @@\n hello\n-world\n+there\n"
REASON = "acceptance rate 0.00 over the last 4 judged outputs, below AO_MIN_ACCEPTANCE_RATE=0.5"


def coder() -> WorkerCapabilityProfile:
    return make_profile("coder", "active", ALL_TYPES)


def runtime_with(
    settings: Settings, script: Script, *profiles: WorkerCapabilityProfile, **updates: Any
) -> Runtime:
    """A runtime on the test's state dir: a window of 10, a downgrade from 3 judged outputs below 0.5."""
    rule = {"ao_track_record_window": 10, "ao_track_record_min_judged": 3, "ao_min_acceptance_rate": 0.5}
    runtime = Runtime.create(settings.model_copy(update=rule | updates), script.factory())
    for profile in profiles:
        runtime.profiles.save(profile)
    return runtime


def reject(step_id: str, n: int, prompt: str) -> dict[str, Any]:
    return {"verdict": "reject", "feedback": "that is not what the step asked for"}


def record(runtime: Runtime, worker_id: str = WORKER) -> list[JudgedOutput]:
    return runtime.profiles.get(worker_id).track_record.entries


async def test_a_worker_the_leader_keeps_rejecting_is_downgraded_with_the_reason(settings: Settings) -> None:
    runtime = runtime_with(settings, Script([TWO], review=reject), coder())
    first = await leader_worker(runtime, "summarise")
    second = await leader_worker(runtime, "summarise")
    profile = runtime.profiles.get(WORKER)
    assert not any("downgraded" in warning for warning in first.warnings)
    assert profile.status == "limited" and profile.reasons[-1] == f"track record: {REASON}"
    assert profile.track_record.downgrade is not None and profile.track_record.downgrade.reason == REASON
    command = f"ao worker interview --provider openai-compatible --model coder --base-url {BASE_URL} --save"
    assert command in profile.recommended_actions[-1]
    assert profile.supported_task_types == LOW_RISK and profile.routing_policy == routing_policy(
        "limited", LOW_RISK
    )
    (warning,) = [w for w in second.warnings if "downgraded" in w]
    assert f"worker {WORKER!r} was downgraded to limited by its track record ({REASON})" in warning
    assert command in warning


async def test_a_downgraded_worker_gets_only_low_risk_steps_in_later_runs(settings: Settings) -> None:
    runtime = runtime_with(settings, Script([TWO], review=reject), coder())
    for _ in range(2):
        await leader_worker(runtime, "summarise")
    plan = step_plan(("s1", "summarization", []), ("s2", "codegen", []))
    later = Script([plan])
    result = await leader_worker(runtime_with(settings, later), "summarise and generate")
    by_id = {step.step_id: step for step in result.steps}
    assert by_id["s1"].assignee == WORKER and by_id["s1"].leader_reviewed
    assert by_id["s2"].assignee == LEADER
    assert [call.step_id for call in later.of("step") if call.model != "leader"] == ["s1"]


async def test_a_worker_below_the_rate_with_too_few_judged_outputs_is_not_downgraded(settings: Settings) -> None:
    runtime = runtime_with(settings, Script([TWO], review=reject), coder())
    result = await leader_worker(runtime, "summarise")
    assert [entry.verdict for entry in record(runtime)] == ["rejected", "rejected"]
    assert runtime.profiles.get(WORKER).status == "active"
    assert not any("downgraded" in warning for warning in result.warnings)


async def test_every_verdict_is_recorded_with_its_rounds_revisions_and_validation_failures(
    isolated_env: Path, settings: Settings
) -> None:
    (isolated_env / "app.txt").write_text("hello\nplanet\n")  # the patch never applies
    plan = step_plan(("s1", "summarization", []), ("s2", "summarization", []), ("s3", "patch_generation", []))

    def step(step_id: str, n: int, prompt: str) -> dict[str, Any]:
        return {"summary": "fix", "patch": PATCH} if step_id == "s3" else {"summary": "ok", "content": step_id}

    def review(step_id: str, n: int, prompt: str) -> dict[str, Any]:
        if step_id == "s2":
            return reject(step_id, n, prompt)
        return {"verdict": "revise", "feedback": "name the edge case"} if n == 0 else {"verdict": "accept"}

    runtime = runtime_with(settings, Script([plan], step=step, review=review), coder())
    result = await leader_worker(runtime, "summarise and fix")
    entries = {entry.step_id: entry for entry in record(runtime)}
    assert {k: (e.verdict, e.rounds, e.revisions, e.validation_failures) for k, e in entries.items()} == {
        "s1": ("accepted", 2, 1, 0),
        "s2": ("rejected", 1, 0, 0),
        "s3": ("failed", 3, 0, 3),
    }
    assert {entry.run_id for entry in entries.values()} == {result.run_id}
    assert [entry.task_type for entry in entries.values()] == [
        "summarization",
        "summarization",
        "patch_generation",
    ]


async def test_a_step_the_endpoint_failed_says_nothing_about_the_work_and_is_not_recorded(
    settings: Settings,
) -> None:
    def step(step_id: str, n: int, prompt: str) -> dict[str, Any]:
        return endpoint_down(step_id, n, prompt) if step_id == "s2" else {"summary": "ok", "content": "x"}

    runtime = runtime_with(settings, Script([TWO], step=step), coder())
    result = await leader_worker(runtime, "summarise")
    assert [s.verdict for s in result.steps] == ["accepted", "failed"]
    assert [(entry.step_id, entry.verdict) for entry in record(runtime)] == [("s1", "accepted")]


async def test_steps_the_leader_did_itself_are_not_recorded(settings: Settings) -> None:
    plan = step_plan(("s1", "summarization", []), ("s2", "code_review", []))
    limited = make_profile("careful", "limited", LOW_RISK)
    runtime = runtime_with(settings, Script([plan]), limited)
    result = await leader_worker(runtime, "review")
    assert [s.assignee for s in result.steps] == ["openai-compatible:careful", LEADER]
    assert [entry.step_id for entry in record(runtime, "openai-compatible:careful")] == ["s1"]


class PrimaryDown(Script):
    """The coder's endpoint is down for work; every other model answers as scripted."""

    async def _work(self, request: Request) -> Reply:
        if request.model == "coder" and "verdict" not in request.output_fields:
            return endpoint_down("", 0, request.prompt)
        return await super()._work(request)


async def test_a_step_a_fallback_served_goes_into_the_fallbacks_record(settings: Settings) -> None:
    script = PrimaryDown([step_plan(("s1", "summarization", []))], review=reject)
    backup = make_profile("backup", "active", ALL_TYPES)
    runtime = runtime_with(settings, script, coder(), backup, worker_model_fallbacks=[f"{BACKUP}@{BASE_URL}"])
    result = await leader_worker(runtime, "summarise")
    assert result.steps[0].served_by == BACKUP and result.steps[0].verdict == "rejected"
    assert [entry.verdict for entry in record(runtime, BACKUP)] == ["rejected"]
    assert record(runtime, WORKER) == []


def judged(run_id: str, *step_ids: str, evaluated_at: datetime) -> dict[str, tuple[datetime, list[JudgedOutput]]]:
    now = datetime.now(UTC)
    entries = [
        JudgedOutput(at=now, run_id=run_id, step_id=s, task_type="summarization", verdict="rejected", rounds=1)
        for s in step_ids
    ]
    return {WORKER: (evaluated_at, entries)}


RULE = TrustRule(window=10, min_judged=3, min_acceptance_rate=0.5)


def test_recording_a_run_again_counts_nothing_twice(settings: Settings) -> None:
    """A resumed run whose recording step ran but was not journaled before the crash records it again."""
    profile = coder()
    runtime = runtime_with(settings, Script([TWO]), profile)
    verdicts = judged("run-1", "s1", "s2", "s3", evaluated_at=profile.evaluated_at)
    first = update_track_records(runtime, verdicts, RULE)
    again = update_track_records(runtime, verdicts, RULE)
    assert len(record(runtime)) == 3 and runtime.profiles.get(WORKER).status == "limited"
    assert len(first) == 1 and again == [], "the downgrade is announced once"


def test_a_worker_reinterviewed_since_the_run_started_keeps_its_fresh_record(settings: Settings) -> None:
    fresh = coder()
    runtime = runtime_with(settings, Script([TWO]), fresh)
    routed_by = fresh.evaluated_at - timedelta(days=1)  # the profile the run routed by, replaced since
    assert update_track_records(runtime, judged("run-1", "s1", "s2", "s3", evaluated_at=routed_by), RULE) == []
    assert record(runtime) == [] and runtime.profiles.get(WORKER).status == "active"


class ReplayingJournal:
    """A durable run's journal in miniature: a step that finished returns its recorded value when run again."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    async def step(self, name: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        if name not in self.values:
            self.values[name] = await fn()
        return self.values[name]

    def reserve(self, name: str) -> Any:
        raise NotImplementedError


async def test_a_resumed_run_does_not_record_its_verdicts_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = runtime_with(settings, Script([TWO], review=reject), coder())
    result = await leader_worker(runtime, "summarise")
    entries = record(runtime)
    updates: list[str] = []
    original = type(runtime.profiles).update

    def counting(self: Any, profile_id: str, change: Any) -> Any:
        updates.append(profile_id)
        return original(self, profile_id, change)

    monkeypatch.setattr(type(runtime.profiles), "update", counting)
    run = RunContext(runtime, "run-2", "leader-worker-basic", 1)
    jobs = step_jobs(run, result.plan, [Candidate(runtime.profiles.get(WORKER))])
    recorder = ReplayingJournal()
    with journal(recorder):
        await record_track_records(run, jobs, result.steps, [])
        await record_track_records(run, jobs, result.steps, [])  # the resumed run replays the step
    assert updates == [WORKER], "the store was updated once"
    assert len(record(runtime)) == len(entries) + 2
