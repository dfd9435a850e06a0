"""Workflows read the leader's interview: unvetted runs say so, a blocked role is refused unless overridden."""

from __future__ import annotations

import pytest
from interview.scripted_leaders import SCRIPTED_LEADERS, SEED, runtime_with
from workflows.scripted_agents import Script, step_plan

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.queries.workers import list_models
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.leader_interview import interview_leader
from agent_orchestrator.workflows.planning import plan

pytestmark = pytest.mark.anyio
PLAN = step_plan(("s1", "summarization", []))


async def vetted(settings: Settings, leader: str) -> Runtime:
    """A runtime whose leader was interviewed as the scripted `leader` and saved, answering plans with PLAN."""
    interviewed = runtime_with(settings, SCRIPTED_LEADERS[leader])
    await interview_leader(interviewed, save=True, seed=SEED)
    planner = Script([PLAN]).factory()
    return Runtime.create(interviewed.settings, planner)


async def test_an_unvetted_leader_runs_and_the_run_says_it_was_not_vetted(settings: Settings) -> None:
    runtime = runtime_with(settings, SCRIPTED_LEADERS["good"])
    runtime = Runtime.create(runtime.settings, Script([PLAN]).factory())
    result = await plan(runtime, "write the docs")
    assert result.status == "succeeded"
    assert any("was not vetted: it has no saved interview" in warning for warning in result.warnings)
    listing = list_models(runtime)
    assert listing.leader_vetting is not None and listing.leader_vetting.status == "not_interviewed"


async def test_a_vetted_leader_runs_without_a_warning_and_models_list_shows_its_roles(settings: Settings) -> None:
    runtime = await vetted(settings, "good")
    result = await plan(runtime, "write the docs")
    assert not any("vetted" in warning for warning in result.warnings), result.warnings
    listing = list_models(runtime)
    assert listing.leader_vetting is not None and listing.leader_vetting.status == "active"
    assert set(listing.leader_vetting.roles.values()) == {"active"}


async def test_a_leader_blocked_for_planning_is_refused_and_the_run_recorded_refused(settings: Settings) -> None:
    runtime = await vetted(settings, "placeholder")
    with pytest.raises(PolicyViolation, match=r"blocked for planning by its interview.*AO_ALLOW_BLOCKED_LEADER"):
        await plan(runtime, "write the docs")
    [run, _interview] = runtime.runs.list()
    assert run.workflow == "planning" and run.status == "refused"


async def test_the_override_runs_a_blocked_leader_and_says_so(settings: Settings) -> None:
    runtime = await vetted(settings, "placeholder")
    allowed = Runtime.create(
        runtime.settings.model_copy(update={"ao_allow_blocked_leader": True}), Script([PLAN]).factory()
    )
    result = await plan(allowed, "write the docs")
    assert any("used anyway because AO_ALLOW_BLOCKED_LEADER=true" in warning for warning in result.warnings)


async def test_a_leader_blocked_only_for_review_still_plans(settings: Settings) -> None:
    runtime = await vetted(settings, "hallucinating")  # limited: review blocked
    result = await plan(runtime, "write the docs")
    assert result.status == "succeeded"
