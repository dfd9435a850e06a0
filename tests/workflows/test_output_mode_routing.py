"""Workflows call each worker in the output mode its interview qualified it in, fallbacks in theirs."""

from __future__ import annotations

import json

import pytest
from pydantic_ai.models import Model
from scripted import SEED, interview_answer, interview_prompts
from scripted_agents import BASE_URL, LOW_RISK, Script, make_profile, step_plan
from scripted_models import Reply, Request, Scripted

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.providers import ModelSpec, Role
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows import interview as interview_module
from agent_orchestrator.workflows.interview import interview_worker
from agent_orchestrator.workflows.leader_worker.graph import leader_worker

pytestmark = pytest.mark.anyio
TEXT_ONLY = "openai-compatible:text-only"
PLAN = step_plan(("s1", "summarization", []))


@pytest.fixture(autouse=True)
def no_typescript(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interview_module, "find_typescript_toolchain", lambda: None)


def text_only_worker() -> Scripted:
    """An endpoint that cannot call tools: interview answers and step outputs alike come as JSON text."""
    interview = interview_answer("text-only", SEED)
    prompts = interview_prompts(SEED)

    async def answer(request: Request) -> Reply:
        if request.prompt in prompts:
            return await interview(request)
        return json.dumps({"summary": "summarised", "content": "the summary of the files"})  # never a tool call

    return Scripted(answer)


def runtime_for(settings: Settings, script: Script, worker: Scripted, **updates: object) -> Runtime:
    leader = script.factory()

    def factory(spec: ModelSpec, settings: Settings, role: Role) -> Model:
        return leader(spec, settings, role) if role == "leader" else worker.model(spec.model)

    return Runtime.create(settings.model_copy(update=updates), factory)


async def test_a_text_only_worker_qualified_in_native_mode_serves_its_step_in_native_mode(
    settings: Settings,
) -> None:
    worker, script = text_only_worker(), Script([PLAN])
    runtime = runtime_for(settings, script, worker)
    interviewed = await interview_worker(
        runtime, provider="openai-compatible", model="text-only", base_url=BASE_URL, seed=SEED, save=True
    )
    assert interviewed.status == "active" and interviewed.profile is not None
    profile = runtime.profiles.get(TEXT_ONLY)
    assert profile.output_mode == "native"
    assert [(t.mode, t.works) for t in profile.output_mode_trials] == [("tool", False), ("native", True)]
    asked = len(worker.requests)
    result = await leader_worker(runtime, "summarise the files")
    [step] = result.steps
    assert (step.assignee, step.served_by, step.verdict) == (TEXT_ONLY, TEXT_ONLY, "accepted")
    [call] = worker.requests[asked:]
    assert call.output_mode == "native" and not call.info.output_tools
    assert "Step s1:" in call.prompt


async def test_the_same_worker_asked_through_the_tool_would_fail_its_step(settings: Settings) -> None:
    """The control: what the interview's probe saves the workflows from (a profile without the probe's mode)."""
    worker, script = text_only_worker(), Script([PLAN])
    runtime = runtime_for(settings, script, worker)
    runtime.profiles.save(make_profile("text-only", "active", LOW_RISK).model_copy(update={"output_mode": "tool"}))
    result = await leader_worker(runtime, "summarise the files")
    [step] = result.steps
    assert step.verdict == "failed" and "invalid output after its retries" in (step.error or "")
    assert {request.output_mode for request in worker.requests} == {"tool"}


async def test_a_fallback_worker_is_asked_in_its_own_profiles_mode(settings: Settings) -> None:
    """The assignee (tool mode; routing prefers it: same fit, later id) is down; the fallback serves the step
    in the mode its own interview found."""
    worker, script = text_only_worker(), Script([PLAN])
    leader = script.factory()

    def factory(spec: ModelSpec, settings: Settings, role: Role) -> Model:
        if role == "leader":
            return leader(spec, settings, role)
        if spec.model == "tool-user":
            return script.scripted.model("tool-user", _endpoint_down)
        return worker.model(spec.model)

    configured = settings.model_copy(
        update={"worker_model_fallbacks": [f"{TEXT_ONLY}@{BASE_URL}"], "ao_model_max_retries": 0}
    )
    runtime = Runtime.create(configured, factory)
    primary = make_profile("tool-user", "active", LOW_RISK).model_copy(update={"output_mode": "tool"})
    fallback: WorkerCapabilityProfile = make_profile("text-only", "active", LOW_RISK).model_copy(
        update={"output_mode": "native"}
    )
    runtime.profiles.save(primary)
    runtime.profiles.save(fallback)
    result = await leader_worker(runtime, "summarise the files")
    [step] = result.steps
    assert (step.served_by, step.fallback_from, step.verdict) == (
        TEXT_ONLY,
        "openai-compatible:tool-user",
        "accepted",
    )
    [call] = worker.requests
    assert call.output_mode == "native"


def _endpoint_down(request: Request) -> Reply:
    from pydantic_ai.exceptions import ModelHTTPError

    raise ModelHTTPError(status_code=503, model_name="tool-user", body={"error": "overloaded"})
