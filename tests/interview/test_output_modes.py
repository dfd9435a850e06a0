"""The interview asks as workflows ask: a step's output in an output mode, probed tool, native, prompted."""

from __future__ import annotations

import time

import pytest
from pydantic_ai.messages import ModelResponse, ToolCallPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import FunctionModel
from pydantic_ai.profiles import ModelProfile
from scripted import POLITE, SEED, interview_answer
from scripted_models import Reply, Request, Scripted

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.profile import InterviewResult, WorkerCapabilityProfile
from agent_orchestrator.interview.runner import MAX_ANSWER_TOKENS
from agent_orchestrator.interview.scoring import NO_MODE_ACTION
from agent_orchestrator.interview.suite import build_suite
from agent_orchestrator.providers import ModelSpec, Role
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows import interview as interview_module
from agent_orchestrator.workflows.interview import interview_worker

pytestmark = pytest.mark.anyio
BASE_URL = "http://scripted.test/v1"
CASES = 19
STRUCTURED = 3
TRIES = 3  # a call and the workflows' two output retries


@pytest.fixture(autouse=True)
def no_typescript(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grading without the TypeScript compiler: these tests are about output modes, not codegen."""
    monkeypatch.setattr(interview_module, "find_typescript_toolchain", lambda: None)


def scripted_runtime(
    settings: Settings, profile: ModelProfile | None = None, latency_s: float = 0.0
) -> tuple[Runtime, Scripted]:
    """A runtime whose workers are scripted interview behaviours (named by the model), every request kept."""
    scripted = Scripted(lambda request: "", latency_s)

    def factory(spec: ModelSpec, settings: Settings, role: Role) -> Model:
        model = scripted.model(spec.model, interview_answer(spec.model, SEED))
        return model if profile is None else FunctionModel(model.function, model_name=spec.model, profile=profile)

    return Runtime.create(settings, factory), scripted


async def interview(runtime: Runtime, behaviour: str) -> InterviewResult:
    return await interview_worker(
        runtime, provider="openai-compatible", model=behaviour, base_url=BASE_URL, seed=SEED, save=True
    )


def trials(profile: WorkerCapabilityProfile | None) -> list[tuple[str, bool, int, int]]:
    assert profile is not None
    return [(t.mode, t.works, t.cases, t.delivered) for t in profile.output_mode_trials]


def calls_of(runtime: Runtime, result: InterviewResult) -> int:
    return len(runtime.ledger.for_run(result.run_id or ""))


async def test_a_worker_passing_in_tool_mode_is_asked_everything_once_in_tool_mode(settings: Settings) -> None:
    """The probe stops at the first mode that passes: no other mode is tried, no case asked twice."""
    runtime, scripted = scripted_runtime(settings)
    result = await interview(runtime, "ideal")
    assert result.status == "active" and result.profile is not None
    assert result.profile.output_mode == "tool"
    assert trials(result.profile) == [("tool", True, STRUCTURED, STRUCTURED)]
    assert calls_of(runtime, result) == CASES and len(scripted.requests) == CASES
    assert {request.output_mode for request in scripted.requests} == {"tool"}
    assert runtime.profiles.get("openai-compatible:ideal").output_mode == "tool"


async def test_a_polite_worker_fine_through_tool_calls_is_active_in_tool_mode(settings: Settings) -> None:
    """The issue's worker: a polite sentence before any text JSON, clean tool calls. Workflows ask it through
    the tool, so the interview does: its content is what is graded, and it is right."""
    runtime, _ = scripted_runtime(settings)
    result = await interview(runtime, "polite")
    assert result.status == "active" and result.profile is not None and result.reasons == []
    assert result.profile.output_mode == "tool"
    assert trials(result.profile) == [("tool", True, STRUCTURED, STRUCTURED)]
    assert all(score.score == 1.0 for score in result.profile.scores.values())
    assert not any(POLITE in case.answer_excerpt for s in result.profile.scores.values() for case in s.cases)


async def test_a_text_only_endpoint_qualifies_in_native_mode_after_tool_mode_failed(settings: Settings) -> None:
    runtime, scripted = scripted_runtime(settings)
    result = await interview(runtime, "text-only")
    assert result.status == "active" and result.profile is not None
    assert result.profile.output_mode == "native"
    assert trials(result.profile) == [("tool", False, STRUCTURED, 0), ("native", True, STRUCTURED, STRUCTURED)]
    tool = result.profile.output_mode_trials[0]
    assert "Please include your response in a tool call" in tool.detail and tool.score == 0.0
    assert result.profile.scores["structured_json"].score == 1.0  # the chosen mode's answers
    # tool mode: each structured case with its retries; then native: every case once
    assert len(scripted.requests) == STRUCTURED * TRIES + CASES
    assert calls_of(runtime, result) == STRUCTURED + CASES
    assert [r.output_mode for r in scripted.requests[STRUCTURED * TRIES :]] == ["native"] * CASES


async def test_the_probe_walks_every_mode_to_the_one_that_works(settings: Settings) -> None:
    """An endpoint that writes JSON only when its instructions show the schema qualifies in prompted mode."""
    runtime, scripted = scripted_runtime(settings)
    result = await interview(runtime, "prompted-only")
    assert result.status == "active" and result.profile is not None
    assert result.profile.output_mode == "prompted"
    assert trials(result.profile) == [
        ("tool", False, STRUCTURED, 0),
        ("native", False, STRUCTURED, 0),
        ("prompted", True, STRUCTURED, STRUCTURED),
    ]
    assert calls_of(runtime, result) == 2 * STRUCTURED + CASES
    assert len(scripted.requests) == 2 * STRUCTURED * TRIES + CASES


async def test_a_mode_the_model_cannot_do_is_not_asked(settings: Settings) -> None:
    """pydantic-ai would refuse tool output for this model's profile: the trial says so, and no call is made."""
    runtime, scripted = scripted_runtime(
        settings, ModelProfile(supports_tools=False, supports_json_schema_output=True)
    )
    result = await interview(runtime, "text-only")
    assert result.status == "active" and result.profile is not None
    assert result.profile.output_mode == "native"
    assert trials(result.profile) == [("tool", False, 0, 0), ("native", True, STRUCTURED, STRUCTURED)]
    assert result.profile.output_mode_trials[0].detail == "not supported: the model's profile has no tool calls"
    assert len(scripted.requests) == CASES


async def test_wrong_content_in_a_working_mode_ends_the_probe(settings: Settings) -> None:
    """Every answer arrived as a valid step output, but the content is wrong: another mode would not help."""
    runtime, scripted = scripted_runtime(settings)
    result = await interview(runtime, "prose")
    assert result.status == "blocked" and result.profile is not None
    assert result.profile.output_mode == "tool"
    assert trials(result.profile) == [("tool", True, STRUCTURED, STRUCTURED)]
    assert result.profile.output_mode_trials[0].score < 0.5
    assert len(scripted.requests) == CASES
    assert not any(reason.startswith("no structured output mode works") for reason in result.reasons)


async def test_an_answer_cut_at_the_token_cap_is_not_asked_again_nor_held_against_the_mode(
    settings: Settings,
) -> None:
    """A long-winded worker: the cut answer ends its case at once; the mode still works (the rest arrived)."""
    cases = {case.prompt: case for case in build_suite(SEED)}
    ideal = interview_answer("ideal", SEED)
    cut_case = next(case for case in cases.values() if case.dimension == "structured_json")

    async def answer(request: Request) -> Reply:
        if request.prompt == cut_case.prompt:
            name = request.info.output_tools[0].name
            return ModelResponse(
                parts=[ToolCallPart(name, '{"summary": "well, it depends')], finish_reason="length"
            )
        return await ideal(request)

    scripted = Scripted(answer)
    runtime = Runtime.create(settings, lambda spec, settings, role: scripted.model(spec.model))
    result = await interview(runtime, "long-winded")
    assert result.profile is not None and result.profile.output_mode == "tool"
    [trial] = result.profile.output_mode_trials
    assert (trial.works, trial.delivered) == (True, STRUCTURED - 1)
    assert trial.detail.startswith("2/3 answers arrived as structured output, 1 cut at the token cap")
    [cut] = [c for c in result.profile.scores["structured_json"].cases if c.case_id == cut_case.case_id]
    assert cut.attempts == 1 and cut.checks[0].passed is False
    assert (
        cut.error_detail
        == f"the answer was cut at the interview's cap of {MAX_ANSWER_TOKENS} tokens: too long (not asked again)"
    )
    assert scripted.prompts.count(cut_case.prompt) == 1
    assert len(scripted.requests) == CASES


async def test_no_mode_working_blocks_the_worker_with_every_modes_reason(settings: Settings) -> None:
    runtime, scripted = scripted_runtime(settings)
    result = await interview(runtime, "plain-text")
    assert result.status == "blocked" and result.saved and result.profile is not None
    reason = result.reasons[0]
    assert reason.startswith("no structured output mode works: tool: 0/3 answers arrived as structured output")
    assert "Please include your response in a tool call" in reason
    assert "; native: 0/3" in reason and "; prompted: 0/3" in reason
    assert result.recommended_actions[0] == NO_MODE_ACTION
    assert result.profile.output_mode is None
    assert trials(result.profile) == [(mode, False, STRUCTURED, 0) for mode in ("tool", "native", "prompted")]
    # The rest is not asked: its answers would fail `answered` before any grader; not the endpoint's failure.
    assert len(scripted.requests) == 3 * STRUCTURED * TRIES and calls_of(runtime, result) == 3 * STRUCTURED
    unasked = [c for s in result.profile.scores.values() for c in s.cases if c.dimension != "structured_json"]
    assert len(unasked) == CASES - STRUCTURED
    assert all(c.attempts == 0 and c.checks[0].detail.startswith("not asked") for c in unasked)
    assert result.profile.reliability.transport_failures == 0
    saved = runtime.profiles.get("openai-compatible:plain-text")
    assert saved.status == "blocked" and saved.output_mode is None and len(saved.output_mode_trials) == 3


async def test_the_probe_stays_within_the_interviews_deadline(settings: Settings) -> None:
    """A slow endpoint walking through the modes is stopped at AO_INTERVIEW_TIMEOUT like any interview."""
    runtime, _ = scripted_runtime(settings.model_copy(update={"ao_interview_timeout": 2.0}), latency_s=0.3)
    started = time.monotonic()
    result = await interview(runtime, "prompted-only")
    assert time.monotonic() - started < 2.0 + 0.5
    assert result.status == "blocked" and result.profile is not None
    assert result.reasons[0].startswith("too slow")
    assert result.profile.reliability.unanswered_at_deadline > 0
    assert not any(reason.startswith("no structured output mode works") for reason in result.reasons)


async def test_an_older_profile_without_output_modes_still_loads(settings: Settings) -> None:
    runtime, _ = scripted_runtime(settings)
    result = await interview(runtime, "ideal")
    assert result.profile is not None
    old = result.profile.model_dump(mode="json")
    del old["output_mode"], old["output_mode_trials"]
    loaded = WorkerCapabilityProfile.model_validate(old)
    assert loaded.output_mode is None and loaded.output_mode_trials == []
