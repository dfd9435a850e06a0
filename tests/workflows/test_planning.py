"""The planning workflow: checked plans, assignments from saved profiles, context through the path policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripted_agents import LOW_RISK, Script, make_profile, step_plan

from agent_orchestrator.agents.models import DraftPlan
from agent_orchestrator.config import Settings
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.interview.routing import LEADER
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.planning import GRAPH, PlanRejected, plan, plan_problems
from agent_orchestrator.workflows.recorder import WorkflowFailed

pytestmark = pytest.mark.anyio

TWO_STEPS = step_plan(("s1", "summarization", []), ("s2", "codegen", ["s1"]))


def runtime_for(settings: Settings, script: Script) -> Runtime:
    return Runtime.create(settings, script.factory())


async def test_plan_has_steps_assignments_risks_and_validation(settings: Settings) -> None:
    runtime = runtime_for(settings, Script([TWO_STEPS]))
    runtime.profiles.save(make_profile("summariser", "limited", LOW_RISK))
    result = await plan(runtime, "write the docs")
    assert result.status == "succeeded" and [s.id for s in result.steps] == ["s1", "s2"]
    assert [(a.step_id, a.assignee) for a in result.assignments] == [
        ("s1", "openai-compatible:summariser"),
        ("s2", LEADER),
    ]
    assert result.assignments[0].leader_review_required
    assert result.risks[0].severity == "low" and result.validation.commands == ["pytest -q"]
    assert result.usage["requests"] == 1


async def test_blocked_and_stale_workers_are_named_in_warnings(settings: Settings) -> None:
    runtime = runtime_for(settings, Script([TWO_STEPS]))
    runtime.profiles.save(make_profile("bad", "blocked", []))
    runtime.profiles.save(make_profile("old", "active", LOW_RISK, expired=True))
    result = await plan(runtime, "write the docs")
    assert all(a.assignee == LEADER for a in result.assignments)
    assert any("'openai-compatible:bad' is blocked" in w for w in result.warnings)
    assert any("'openai-compatible:old' has a stale profile" in w for w in result.warnings)


async def test_a_cyclic_plan_is_sent_back_once_and_the_fix_is_used(settings: Settings) -> None:
    cyclic = step_plan(("s1", "summarization", ["s2"]), ("s2", "summarization", ["s1"]))
    script = Script([cyclic, TWO_STEPS])
    result = await plan(runtime_for(settings, script), "write the docs")
    assert [s.id for s in result.steps] == ["s1", "s2"]
    assert "dependencies form a cycle" in script.of("plan")[1].prompt
    assert any("sent back" in w for w in result.warnings)


async def test_a_plan_broken_twice_fails_the_run_with_the_problems(settings: Settings) -> None:
    broken = step_plan(("s1", "summarization", ["nope"]))
    runtime = runtime_for(settings, Script([broken]))
    with pytest.raises(PlanRejected, match="unknown step 'nope'"):
        await plan(runtime, "write the docs")
    record = runtime.runs.get(runtime.runs.list()[0].run_id)
    assert record.status == "failed" and "unknown step 'nope'" in record.reason
    assert record.nodes[-1].name == "CheckPlan"
    assert record.nodes[-1].status == "failed"


async def test_a_leader_whose_output_never_validates_is_counted_in_the_run_usage(settings: Settings) -> None:
    script = Script([{"summary": "no steps at all"}])
    runtime = runtime_for(settings, script)
    with pytest.raises(WorkflowFailed, match="invalid output after its retries"):
        await plan(runtime, "write the docs")
    record = runtime.runs.get(runtime.runs.list()[0].run_id)
    assert record.status == "failed" and [n.name for n in record.nodes][-1] == "DraftSteps"
    assert record.usage["requests"] == 3 == len(script.of("plan")), "the call and its two output retries"
    assert record.usage["input_tokens"] > 0 and record.usage["output_tokens"] > 0
    assert record.usage["unpriced_responses"] == 3 and record.usage["cost_usd"] is None


def test_plan_problems_finds_duplicates_unknown_self_dependencies_and_cycles() -> None:
    duplicate = DraftPlan.model_validate(step_plan(("s1", "summarization", []), ("s1", "codegen", [])))
    selfish = DraftPlan.model_validate(step_plan(("s1", "summarization", ["s1"])))
    cyclic = DraftPlan.model_validate(
        step_plan(("a", "summarization", ["c"]), ("b", "summarization", ["a"]), ("c", "summarization", ["b"]))
    )
    assert plan_problems(duplicate) == ["step id 's1' is used 2 times"]
    assert plan_problems(selfish) == ["step 's1' depends on itself"]
    assert plan_problems(cyclic)[0].startswith("dependencies form a cycle: ")
    assert plan_problems(DraftPlan.model_validate(TWO_STEPS)) == []


async def test_context_files_reach_the_leader_fenced_as_untrusted_data(
    isolated_env: Path, settings: Settings
) -> None:
    (isolated_env / "notes.md").write_text("the CLI lacks --json")
    script = Script([TWO_STEPS])
    result = await plan(runtime_for(settings, script), "write the docs", context_files=["notes.md"])
    prompt = script.of("plan")[0].prompt
    assert result.context_files == ["notes.md"]
    assert "UNTRUSTED-DATA" in prompt and "(file from notes.md)" in prompt and "the CLI lacks --json" in prompt


async def test_a_context_file_the_path_policy_refuses_refuses_the_run(
    isolated_env: Path, settings: Settings
) -> None:
    (isolated_env / ".env").write_text("KEY=value")
    script = Script([TWO_STEPS])
    runtime = runtime_for(settings, script)
    with pytest.raises(PolicyViolation):
        await plan(runtime, "write the docs", context_files=[".env"])
    assert script.calls == []
    assert runtime.runs.list()[0].status == "refused"


async def test_the_run_is_recorded_with_every_node_timed_and_progress_reported(settings: Settings) -> None:
    messages: list[str] = []

    async def progress(done: int, total: int, message: str) -> None:
        messages.append(message)

    runtime = runtime_for(settings, Script([TWO_STEPS]))
    result = await plan(runtime, "write the docs", progress=progress)
    record = runtime.runs.get(result.run_id)
    names = ["ReadContext", "DraftSteps", "CheckPlan", "ProposeAssignments"]
    assert record.workflow == "planning" and record.status == "succeeded"
    assert [n.name for n in record.nodes] == names and all(n.duration_ms >= 0 for n in record.nodes)
    assert [m.split(":")[0] for m in messages if m.endswith("started")] == names
    assert len([m for m in messages if " done in " in m]) == len(names)


def test_the_graph_renders_its_nodes_and_edges() -> None:
    diagram = GRAPH.render()
    for edge in ("[*] --> ReadContext", "ReadContext --> DraftSteps", "DraftSteps --> CheckPlan"):
        assert edge in diagram
    assert "ProposeAssignments --> [*]" in diagram
