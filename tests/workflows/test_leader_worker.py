"""The leader-worker workflow with scripted leader and workers: routing, parallelism, review, failures, patches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scripted import SEED
from scripted_agents import (
    BASE_URL,
    LOW_RISK,
    Script,
    endpoint_down,
    make_profile,
    step_plan,
)

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import NotFoundError
from agent_orchestrator.interview.routing import LEADER
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.policies.writes import WriteDecision, WritePolicy, WriteResult
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows import interview as interview_module
from agent_orchestrator.workflows.leader_worker.graph import GRAPH, leader_worker

pytestmark = pytest.mark.anyio

ACTIVE = "openai-compatible:active"
THREE_INDEPENDENT = step_plan(
    ("s1", "summarization", []), ("s2", "summarization", []), ("s3", "summarization", [])
)
PATCH = "--- a/app.txt\n+++ b/app.txt\n@@ -1,2 +1,2 @@\n hello\n-world\n+there\n"


def runtime_with(settings: Settings, script: Script, *profiles: Any, **updates: Any) -> Runtime:
    runtime = Runtime.create(settings.model_copy(update=updates), script.factory())
    for profile in profiles:
        runtime.profiles.save(profile)
    return runtime


def active() -> Any:
    return make_profile("active", "active", [*LOW_RISK, "code_review", "codegen", "patch_generation"])


def worker_calls(script: Script, step_id: str | None = None) -> list[Any]:
    return [c for c in script.of("step", step_id) if c.model != "leader"]


async def test_independent_steps_run_on_the_worker_in_parallel(settings: Settings) -> None:
    script = Script([THREE_INDEPENDENT], latency_s=0.1)
    result = await leader_worker(runtime_with(settings, script, active()), "summarise three files")
    calls = worker_calls(script)
    assert result.status == "succeeded" and [s.assignee for s in result.steps] == [ACTIVE] * 3
    assert len(calls) == 3 and max(c.started for c in calls) < min(c.ended for c in calls)


async def test_a_dependent_step_waits_for_and_receives_its_dependency_output(settings: Settings) -> None:
    def step(step_id: str, n: int, prompt: str) -> dict[str, Any]:
        return {"summary": f"{step_id} done", "content": "ALPHA-OUTPUT" if step_id == "s1" else "beta"}

    plan = step_plan(("s1", "summarization", []), ("s2", "summarization", ["s1"]))
    script = Script([plan], step=step, latency_s=0.05)
    result = await leader_worker(runtime_with(settings, script, active()), "two steps")
    (second,) = worker_calls(script, "s2")
    assert result.status == "succeeded"
    assert second.started >= script.of("review", "s1")[0].ended
    assert "ALPHA-OUTPUT" in second.prompt and "(output of step from s1)" in second.prompt


async def test_a_blocked_worker_never_gets_work_and_a_warning_names_it(settings: Settings) -> None:
    script = Script([THREE_INDEPENDENT])
    blocked = make_profile("blocked", "blocked", [])
    result = await leader_worker(runtime_with(settings, script, blocked), "summarise")
    assert all(s.assignee == LEADER and s.verdict == "accepted" for s in result.steps)
    assert worker_calls(script) == [] and script.of("review") == []
    assert any("'openai-compatible:blocked' is blocked" in w for w in result.warnings)


async def test_a_limited_worker_gets_only_low_risk_steps_under_leader_review(settings: Settings) -> None:
    plan = step_plan(("s1", "summarization", []), ("s2", "code_review", []))
    script = Script([plan])
    limited = make_profile("limited", "limited", LOW_RISK)
    result = await leader_worker(runtime_with(settings, script, limited), "review")
    by_id = {s.step_id: s for s in result.steps}
    assert by_id["s1"].assignee == "openai-compatible:limited" and by_id["s1"].leader_reviewed
    assert by_id["s2"].assignee == LEADER and not by_id["s2"].leader_reviewed
    assert [c.step_id for c in worker_calls(script)] == ["s1"]
    assert [c.step_id for c in script.of("review")] == ["s1"]


async def test_a_limited_profile_claiming_a_high_risk_type_still_never_gets_it(settings: Settings) -> None:
    """A hand-edited profile cannot widen what a limited worker may do: the step goes to the leader."""
    script = Script([step_plan(("s1", "codegen", []))])
    edited = make_profile("limited", "limited", [*LOW_RISK, "codegen"])
    result = await leader_worker(runtime_with(settings, script, edited), "generate")
    assert result.steps[0].assignee == LEADER and worker_calls(script) == []
    assert any("'openai-compatible:limited' does not qualify" in w for w in result.warnings)


async def test_an_unknown_explicit_profile_fails_the_run(settings: Settings) -> None:
    runtime = runtime_with(settings, Script([THREE_INDEPENDENT]))
    with pytest.raises(NotFoundError, match="no saved profile for worker 'openai-compatible:nobody'"):
        await leader_worker(runtime, "summarise", worker_profile="openai-compatible:nobody")
    assert runtime.runs.list()[0].status == "failed"


async def test_the_leader_asks_for_a_revision_once_then_accepts(settings: Settings) -> None:
    def review(step_id: str, n: int, prompt: str) -> dict[str, Any]:
        return {"verdict": "revise", "feedback": "mention the edge case"} if n == 0 else {"verdict": "accept"}

    script = Script([step_plan(("s1", "summarization", []))], review=review)
    result = await leader_worker(runtime_with(settings, script, active()), "summarise")
    (step,) = result.steps
    assert step.verdict == "accepted" and step.rounds == 2
    first, second = worker_calls(script, "s1")
    assert "mention the edge case" not in first.prompt and "mention the edge case" in second.prompt


async def test_a_rejected_output_is_never_accepted(settings: Settings) -> None:
    def review(step_id: str, n: int, prompt: str) -> dict[str, Any]:
        return {"verdict": "reject", "feedback": "wrong file"} if step_id == "s2" else {"verdict": "accept"}

    plan = step_plan(("s1", "summarization", []), ("s2", "summarization", []))
    script = Script([plan], review=review)
    result = await leader_worker(runtime_with(settings, script, active()), "summarise")
    by_id = {s.step_id: s for s in result.steps}
    assert result.status == "partial" and by_id["s1"].verdict == "accepted"
    assert by_id["s2"].verdict == "rejected" and by_id["s2"].error == "rejected by the leader: wrong file"


async def test_revisions_are_bounded(settings: Settings) -> None:
    def review(step_id: str, n: int, prompt: str) -> dict[str, Any]:
        return {"verdict": "revise", "feedback": "again"}

    script = Script([step_plan(("s1", "summarization", []))], review=review)
    result = await leader_worker(runtime_with(settings, script, active()), "summarise")
    assert result.status == "failed" and result.steps[0].rounds == 3 and len(worker_calls(script)) == 3
    assert result.steps[0].verdict == "failed" and "no accepted output after 3 rounds" in (
        result.steps[0].error or ""
    )


async def test_invalid_worker_output_fails_its_step_after_retries_and_the_run_is_partial(
    settings: Settings,
) -> None:
    def step(step_id: str, n: int, prompt: str) -> dict[str, Any]:
        return {"content": "no summary"} if step_id == "s2" else {"summary": "ok", "content": "fine"}

    plan = step_plan(("s1", "summarization", []), ("s2", "summarization", []))
    script = Script([plan], step=step)
    result = await leader_worker(runtime_with(settings, script, active()), "summarise")
    by_id = {s.step_id: s for s in result.steps}
    assert result.status == "partial" and by_id["s1"].verdict == "accepted"
    assert by_id["s2"].verdict == "failed" and "invalid output after its retries" in (by_id["s2"].error or "")
    assert len(worker_calls(script, "s2")) == 3  # the first answer and two output retries
    assert script.of("review", "s2") == []


async def test_a_worker_endpoint_failing_mid_run_fails_only_its_step(settings: Settings) -> None:
    def step(step_id: str, n: int, prompt: str) -> dict[str, Any]:
        return endpoint_down(step_id, n, prompt) if step_id == "s2" else {"summary": "ok", "content": "x"}

    script = Script([THREE_INDEPENDENT], step=step)
    result = await leader_worker(runtime_with(settings, script, active()), "summarise")
    verdicts = {s.step_id: s.verdict for s in result.steps}
    assert result.status == "partial" and verdicts == {"s1": "accepted", "s2": "failed", "s3": "accepted"}
    assert "the endpoint kept failing (server_error" in (result.steps[1].error or "")
    assert "s2 failed" in result.summary


async def test_steps_depending_on_a_failed_step_are_skipped_with_the_reason(settings: Settings) -> None:
    plan = step_plan(("s1", "summarization", []), ("s2", "summarization", ["s1"]))
    script = Script([plan], step=endpoint_down)
    result = await leader_worker(runtime_with(settings, script, active()), "summarise")
    assert result.status == "failed" and [s.verdict for s in result.steps] == ["failed", "skipped"]
    assert result.steps[1].error == "not run: its dependencies 's1' were not accepted"


async def test_a_stale_configured_worker_is_interviewed_first(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interview_module, "find_typescript_toolchain", lambda: None)
    monkeypatch.setattr(interview_module.secrets, "randbelow", lambda _: SEED)  # the scripted answers' seed
    stale = make_profile("ideal", "active", LOW_RISK, expired=True)
    script = Script([step_plan(("s1", "summarization", []))])
    configured = {"worker_model_provider": "openai-compatible", "worker_model_name": "ideal"}
    runtime = runtime_with(settings, script, stale, worker_model_base_url=BASE_URL, **configured)
    result = await leader_worker(runtime, "summarise")
    fresh = runtime.profiles.get("openai-compatible:ideal")
    assert fresh.evaluated_at > stale.evaluated_at and fresh.expires_at > stale.expires_at
    assert any(
        "interviewed the configured worker 'openai-compatible:ideal' first: expired" in w for w in result.warnings
    )
    assert result.steps[0].assignee == "openai-compatible:ideal" and result.steps[0].verdict == "accepted"


async def test_an_explicit_profile_is_used_as_given_without_an_interview(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_interview(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the worker must not be interviewed")

    monkeypatch.setattr("agent_orchestrator.workflows.leader_worker.graph.interview_worker", no_interview)
    stale = make_profile("ideal", "active", LOW_RISK, expired=True)
    script = Script([step_plan(("s1", "summarization", []))])
    configured = {"worker_model_provider": "openai-compatible", "worker_model_name": "ideal"}
    runtime = runtime_with(settings, script, stale, active(), worker_model_base_url=BASE_URL, **configured)
    result = await leader_worker(runtime, "summarise", worker_profile="openai-compatible:ideal")
    assert result.steps[0].assignee == "openai-compatible:ideal"
    assert runtime.profiles.get("openai-compatible:ideal").evaluated_at == stale.evaluated_at
    assert any("stale profile" in w and "used as given" in w for w in result.warnings)


async def test_a_valid_patch_is_checked_and_returned_in_dry_run(isolated_env: Path, settings: Settings) -> None:
    (isolated_env / "app.txt").write_text("hello\nworld\n")
    script = Script(
        [step_plan(("s1", "patch_generation", []))], step=lambda *_: {"summary": "fix", "patch": PATCH}
    )
    result = await leader_worker(runtime_with(settings, script, active()), "fix app.txt")
    checks = {c.name: c.passed for c in result.steps[0].validation}
    assert checks == {
        "schema": True,
        "patch.parse": True,
        "patch.paths": True,
        "patch.apply": True,
        "git apply --check": True,
    }
    (patch,) = result.patches
    assert patch.files == ["app.txt"] and patch.patch == PATCH and not patch.applied
    assert patch.detail.startswith("dry-run:") and (isolated_env / "app.txt").read_text() == "hello\nworld\n"


async def test_an_accepted_patch_is_applied_when_writes_are_allowed(
    isolated_env: Path, settings: Settings
) -> None:
    (isolated_env / "app.txt").write_text("hello\nworld\n")
    script = Script(
        [step_plan(("s1", "patch_generation", []))], step=lambda *_: {"summary": "fix", "patch": PATCH}
    )
    runtime = runtime_with(settings, script, active(), ao_dry_run=False, ao_allow_write=True)
    result = await leader_worker(runtime, "fix app.txt", write=True)
    assert result.patches[0].applied and (isolated_env / "app.txt").read_text() == "hello\nthere\n"


async def test_the_write_decision_is_made_once_per_run_and_carried_to_every_patch(
    isolated_env: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated_env / "app.txt").write_text("hello\nworld\n")
    (isolated_env / "other.txt").write_text("a\n")
    other = "--- a/other.txt\n+++ b/other.txt\n@@ -1 +1 @@\n-a\n+b\n"
    patches = {"s1": PATCH, "s2": other}
    script = Script(
        [step_plan(("s1", "patch_generation", []), ("s2", "patch_generation", []))],
        step=lambda step_id, *_: {"summary": "fix", "patch": patches[step_id]},
    )
    decided: list[bool] = []
    real = WritePolicy.decide

    def decide(self: WritePolicy, write: bool) -> WriteDecision:
        decided.append(write)
        return real(self, write)

    monkeypatch.setattr(WritePolicy, "decide", decide)
    runtime = runtime_with(settings, script, active(), ao_dry_run=False, ao_allow_write=True)
    result = await leader_worker(runtime, "fix both", write=True)
    assert decided == [True] and [p.applied for p in result.patches] == [True, True]
    assert (isolated_env / "other.txt").read_text() == "b\n"


async def test_a_write_failure_midway_restores_the_earlier_files_and_is_reported(
    isolated_env: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The accepted patch goes through the one apply-with-restore: all of it or none of it is written."""
    (isolated_env / "app.txt").write_text("hello\nworld\n")
    patch = PATCH + "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+new\n"
    real = SafetyPolicy.write

    def write(self: SafetyPolicy, path: str | Path, text: str | None, *, decision: WriteDecision) -> WriteResult:
        if str(path) == "new.txt":
            raise OSError(28, "No space left on device")
        return real(self, path, text, decision=decision)

    monkeypatch.setattr(SafetyPolicy, "write", write)
    script = Script(
        [step_plan(("s1", "patch_generation", []))], step=lambda *_: {"summary": "fix", "patch": patch}
    )
    runtime = runtime_with(settings, script, active(), ao_dry_run=False, ao_allow_write=True)
    result = await leader_worker(runtime, "fix app.txt", write=True)
    (outcome,) = result.patches
    assert not outcome.applied and outcome.detail.startswith("not applied: writing 'new.txt' failed")
    assert (isolated_env / "app.txt").read_text() == "hello\nworld\n" and not (isolated_env / "new.txt").exists()
    assert any("its accepted patch was not applied" in warning for warning in result.warnings)


async def test_a_patch_that_does_not_apply_goes_back_to_the_worker_and_is_never_accepted(
    isolated_env: Path, settings: Settings
) -> None:
    (isolated_env / "app.txt").write_text("hello\nplanet\n")
    script = Script(
        [step_plan(("s1", "patch_generation", []))], step=lambda *_: {"summary": "fix", "patch": PATCH}
    )
    result = await leader_worker(runtime_with(settings, script, active()), "fix app.txt")
    (step,) = result.steps
    assert step.verdict == "failed" and step.rounds == 3 and result.patches == []
    assert {c.name: c.passed for c in step.validation}["patch.apply"] is False
    assert script.of("review") == [] and "deterministic validation failed" in worker_calls(script)[1].prompt


async def test_a_patch_outside_the_scope_fails_validation(isolated_env: Path, settings: Settings) -> None:
    (isolated_env / "pkg").mkdir()
    (isolated_env / "app.txt").write_text("hello\nworld\n")
    script = Script(
        [step_plan(("s1", "patch_generation", []))], step=lambda *_: {"summary": "fix", "patch": PATCH}
    )
    runtime = runtime_with(settings, script, active())
    result = await leader_worker(runtime, "fix", scope="pkg")
    paths = next(c for c in result.steps[0].validation if c.name == "patch.paths")
    assert paths.passed is False and "outside the scope 'pkg'" in paths.detail
    refused = [r for r in runtime.audit.recent() if r.decision == "refused" and r.kind == "write"]
    assert refused and {(r.action, r.rule) for r in refused} == {("app.txt", "patch.outside_scope")}


async def test_the_run_is_recorded_with_timed_nodes_and_progress_at_every_node(settings: Settings) -> None:
    messages: list[str] = []

    async def progress(done: int, total: int, message: str) -> None:
        messages.append(message)

    runtime = runtime_with(settings, Script([THREE_INDEPENDENT]), active())
    result = await leader_worker(runtime, "summarise", progress=progress)
    record = runtime.runs.get(result.run_id)
    names = [n.name for n in record.nodes]
    assert record.workflow == "leader-worker-basic" and record.result["status"] == "succeeded"
    assert names[:5] == ["PrepareWorkers", "ReadContext", "DraftSteps", "CheckPlan", "ProposeAssignments"]
    assert sorted(names[5:8]) == ["RunStep s1", "RunStep s2", "RunStep s3"] and names[8:] == [
        "RunSteps",
        "ApplyPatches",
    ]
    started = [m.removesuffix(": started") for m in messages if m.endswith(": started")]
    assert sorted(started) == sorted(names) and sum(" done in " in m for m in messages) == len(names)
    assert record.usage["requests"] == 7 and result.usage == record.usage  # plan + 3 steps + 3 reviews
    assert set(result.timings_ms) == {"PrepareWorkers", "PlanSteps", "RunSteps", "ApplyPatches", "total"}


def test_the_graph_renders_its_nodes_and_edges() -> None:
    diagram = GRAPH.render()
    edges = ("PrepareWorkers --> PlanSteps", "PlanSteps --> decision", "decision --> RunSteps", "decision --> [*]")
    for edge in (*edges, "RunSteps --> ApplyPatches"):
        assert edge in diagram
    assert "ApplyPatches --> [*]" in diagram


async def test_a_partial_run_is_recorded_as_partial(settings: Settings) -> None:
    """The run record's status follows the steps, not merely that the workflow returned."""

    def step(step_id: str, n: int, prompt: str) -> dict[str, Any]:
        return endpoint_down(step_id, n, prompt) if step_id == "s2" else {"summary": "ok", "content": "x"}

    script = Script([THREE_INDEPENDENT], step=step)
    runtime = runtime_with(settings, script, active())
    result = await leader_worker(runtime, "summarise")
    record = runtime.runs.get(result.run_id)
    assert result.status == "partial" and record.status == "partial" and "s2" in record.reason
