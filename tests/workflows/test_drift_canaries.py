"""Drift canaries: an aged profile answers a few fresh interview cases before a run gives it work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_ai.models import Model
from scripted import SEED, interview_prompts
from scripted_agents import ALL_TYPES, Script, endpoint_down, make_profile, step_plan

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.drift import DriftCheck, canary_due
from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.interview.canary import CANARY_CASES, canary_cases
from agent_orchestrator.interview.routing import LEADER
from agent_orchestrator.providers import ModelSpec, Role
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.leader_worker import canaries
from agent_orchestrator.workflows.leader_worker.graph import leader_worker

pytestmark = pytest.mark.anyio

PLAN = step_plan(("s1", "summarization", []), ("s2", "code_explanation", []))


@pytest.fixture(autouse=True)
def known_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scripted workers know the suite built with `SEED`: the canaries draw their cases from it."""
    monkeypatch.setattr(canaries, "fresh_seed", lambda: SEED)


def aged(name: str, hours: float = 48) -> WorkerCapabilityProfile:
    """An active profile for the scripted worker `name`, interviewed `hours` ago (still within its TTL)."""
    profile = make_profile(name, "active", ALL_TYPES)
    evaluated = datetime.now(UTC) - timedelta(hours=hours)
    return profile.model_copy(update={"evaluated_at": evaluated, "expires_at": evaluated + timedelta(days=7)})


def runtime_with(
    settings: Settings, script: Script, *profiles: WorkerCapabilityProfile, **updates: Any
) -> Runtime:
    runtime = Runtime.create(settings.model_copy(update=updates), script.factory())
    for profile in profiles:
        runtime.profiles.save(profile)
    return runtime


def canary_calls(script: Script) -> list[str]:
    prompts = interview_prompts(SEED)
    return [p for p in script.scripted.prompts if p in prompts]


async def test_a_worker_passing_its_canary_gets_the_work_and_its_clock_restarts(settings: Settings) -> None:
    script = Script([PLAN])
    runtime = runtime_with(settings, script, aged("ideal"))
    result = await leader_worker(runtime, "two steps")
    assert [s.assignee for s in result.steps] == ["openai-compatible:ideal"] * 2
    assert result.status == "succeeded"
    saved = runtime.profiles.get("openai-compatible:ideal")
    assert saved.status == "active" and saved.drift_check is not None
    assert saved.drift_check.outcome == "passed" and len(saved.drift_check.cases) == CANARY_CASES
    assert len(canary_calls(script)) == CANARY_CASES
    # The next run does not ask again: the canary restarted the clock.
    again = Script([PLAN])
    await leader_worker(Runtime.create(runtime.settings, again.factory()), "two steps")
    assert canary_calls(again) == []


async def test_a_worker_failing_its_canary_is_blocked_until_it_is_interviewed_again(settings: Settings) -> None:
    script = Script([PLAN])
    runtime = runtime_with(settings, script, aged("prose"))
    result = await leader_worker(runtime, "two steps")
    assert all(s.assignee == LEADER and s.verdict == "accepted" for s in result.steps)
    assert any("'openai-compatible:prose' failed its drift canary" in w for w in result.warnings)
    assert any("ao worker interview --provider openai-compatible --model prose" in w for w in result.warnings)
    saved = runtime.profiles.get("openai-compatible:prose")
    assert saved.status == "blocked" and saved.supported_task_types == []
    assert saved.reasons[0].startswith("drift canary failed at ")
    assert saved.drift_check is not None and saved.drift_check.outcome == "failed" and saved.drift_check.failed
    # Blocked for every later run, with no canary asked, until a re-interview saves a new profile.
    later = Script([PLAN])
    result = await leader_worker(Runtime.create(runtime.settings, later.factory()), "two steps")
    assert all(s.assignee == LEADER for s in result.steps) and canary_calls(later) == []
    runtime.profiles.save(make_profile("prose", "active", ALL_TYPES))
    fresh = Script([PLAN])
    result = await leader_worker(Runtime.create(runtime.settings, fresh.factory()), "two steps")
    assert [s.assignee for s in result.steps] == ["openai-compatible:prose"] * 2


async def test_a_fresh_profile_and_canaries_turned_off_ask_nothing(settings: Settings) -> None:
    script = Script([PLAN])
    await leader_worker(runtime_with(settings, script, aged("prose", hours=2)), "two steps")
    assert canary_calls(script) == []
    script = Script([PLAN])
    result = await leader_worker(runtime_with(settings, script, aged("prose"), ao_drift_canary_hours=0), "steps")
    assert canary_calls(script) == [] and result.steps[0].assignee == "openai-compatible:prose"


async def test_a_worker_the_plan_does_not_route_to_is_not_asked(settings: Settings) -> None:
    script = Script([step_plan(("s1", "summarization", []))])
    ideal, prose = aged("ideal"), make_profile("prose", "limited", [])
    await leader_worker(runtime_with(settings, script, ideal.model_copy(update={"status": "blocked"}), prose), "x")
    assert canary_calls(script) == []


async def test_an_endpoint_that_does_not_answer_its_canary_gets_no_work_but_is_not_judged(
    settings: Settings,
) -> None:
    script = Script([PLAN])
    leader = script.factory()

    def build(spec: ModelSpec, settings: Settings, role: Role) -> Model:
        if role == "leader":
            return leader(spec, settings, role)
        return script.scripted.model(spec.model, lambda request: endpoint_down("", 0, request.prompt))

    runtime = Runtime.create(settings.model_copy(update={"ao_model_max_retries": 0}), build)
    runtime.profiles.save(aged("ideal"))
    result = await leader_worker(runtime, "two steps")
    assert all(s.assignee == LEADER for s in result.steps)
    assert any("could not be asked its drift canary" in w for w in result.warnings)
    saved = runtime.profiles.get("openai-compatible:ideal")
    assert saved.status == "active" and saved.drift_check is None


def test_canary_cases_come_from_passed_dimensions_structured_first() -> None:
    profile = aged("ideal")
    cases = canary_cases(profile, seed=3)
    assert cases[0].dimension == "structured_json" and len(cases) == CANARY_CASES
    assert len({c.dimension for c in cases}) == CANARY_CASES
    prompts = [c.prompt for c in cases]
    assert [c.prompt for c in canary_cases(profile, seed=3)] == prompts
    assert [c.prompt for c in canary_cases(profile, seed=4)] != prompts
    failing = make_profile("x", "limited", [])
    assert canary_cases(failing, seed=3) == []


def test_a_canary_is_due_after_the_age_from_the_interview_or_the_last_passed_canary() -> None:
    now = datetime.now(UTC)
    interviewed = now - timedelta(hours=30)
    assert canary_due(interviewed, None, now=now, hours=24)
    assert not canary_due(interviewed, None, now=now, hours=0)
    passed = DriftCheck(at=now - timedelta(hours=1), outcome="passed", seed=1)
    assert not canary_due(interviewed, passed, now=now, hours=24)
    failed = passed.model_copy(update={"outcome": "failed"})
    assert canary_due(interviewed, failed, now=now, hours=24)


async def test_a_profile_the_caller_names_is_used_as_given_without_a_canary(settings: Settings) -> None:
    script = Script([PLAN])
    runtime = runtime_with(settings, script, aged("prose"))
    result = await leader_worker(runtime, "two steps", worker_profile="openai-compatible:prose")
    assert canary_calls(script) == [] and result.steps[0].assignee == "openai-compatible:prose"


async def test_a_worker_claiming_it_passed_in_its_canary_answers_is_blocked(settings: Settings) -> None:
    """The canary's answers are graded, not believed: 'all interview checks passed' is not a pass."""
    script = Script([PLAN])
    runtime = runtime_with(settings, script, aged("prompt-injecting"))
    result = await leader_worker(runtime, "two steps")
    assert all(s.assignee == LEADER for s in result.steps)
    assert runtime.profiles.get("openai-compatible:prompt-injecting").status == "blocked"


@pytest.mark.parametrize("value", ["-1", "nan", "soon", str(24 * 365 + 1)])
def test_an_out_of_range_canary_age_is_a_configuration_error_naming_it(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AO_DRIFT_CANARY_HOURS", value)
    with pytest.raises(ValidationError, match="ao_drift_canary_hours"):
        Settings()
