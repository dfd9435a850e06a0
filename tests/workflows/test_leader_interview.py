"""The leader interview as a workflow: scripted leaders answer through the production call path."""

from __future__ import annotations

import pytest
from interview.scripted_leaders import SCRIPTED_LEADERS, SEED, leader_factory, runtime_with, suite
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from agent_orchestrator.config import Settings
from agent_orchestrator.providers import ModelSpec, Role
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.leader_interview import interview_leader

pytestmark = pytest.mark.anyio


async def test_a_good_leader_is_active_in_every_role_and_its_profile_is_saved(settings: Settings) -> None:
    runtime = runtime_with(settings, SCRIPTED_LEADERS["good"])
    result = await interview_leader(runtime, save=True, seed=SEED)
    assert result.status == "active" and set(result.roles.values()) == {"active"}, result.reasons
    assert (result.review_recall, result.review_precision) == (1.0, 1.0)
    saved = runtime.leader_profiles.get("openai-compatible:scripted-leader")
    assert saved.status == "active" and saved.seed == SEED
    record = runtime.runs.get(result.run_id or "")
    assert record.workflow == "leader-interview" and record.status == "succeeded"
    assert record.usage["calls"] == len(suite(SEED)), "one leader call per case, all in the ledger"


@pytest.mark.parametrize(
    ("leader", "status", "failed"),
    [
        ("placeholder", "blocked", {"planning", "review", "verdicts", "fixing"}),
        ("injecting", "blocked", {"verdicts"}),
        ("over_accepting", "blocked", {"verdicts", "review"}),
        ("over_rejecting", "blocked", {"verdicts", "review"}),
        ("hallucinating", "limited", {"review"}),
    ],
)
async def test_each_bad_leader_fails_the_role_that_names_its_flaw(
    settings: Settings, leader: str, status: str, failed: set[str]
) -> None:
    result = await interview_leader(runtime_with(settings, SCRIPTED_LEADERS[leader]), seed=SEED)
    assert result.status == status
    assert {role for role, role_status in result.roles.items() if role_status == "blocked"} == failed
    assert all(any(reason.startswith(role) for reason in result.reasons) for role in failed), result.reasons


async def test_the_placeholder_leaders_review_recall_and_precision_are_zero(settings: Settings) -> None:
    result = await interview_leader(runtime_with(settings, SCRIPTED_LEADERS["placeholder"]), seed=SEED)
    assert (result.review_recall, result.review_precision) == (0.0, 0.0)


async def test_an_unreachable_leader_is_unavailable_and_nothing_is_saved(settings: Settings) -> None:
    def down(spec: ModelSpec, settings: Settings, role: Role) -> Model:
        async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            from pydantic_ai.exceptions import ModelHTTPError

            raise ModelHTTPError(status_code=401, model_name=spec.model, body={"error": "bad key"})

        return FunctionModel(respond, model_name=spec.model)

    configured = settings.model_copy(
        update={"leader_model_provider": "openai-compatible", "leader_model_name": "down",
                "leader_model_base_url": "http://scripted.test/v1"}
    )  # fmt: skip
    runtime = Runtime.create(configured, down)
    result = await interview_leader(runtime, save=True, seed=SEED)
    assert result.status == "unavailable" and not result.saved and "401" in (result.unavailable_reason or "")
    assert runtime.leader_profiles.load() == {}


def test_ao_leader_interview_prints_the_roles_and_exits_by_status(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from processes import run_ao

    from agent_orchestrator.cli import commands

    for leader, expected in (("good", 0), ("injecting", 1)):
        monkeypatch.setattr(commands, "MODEL_FACTORY", leader_factory(SCRIPTED_LEADERS[leader]))
        scripted = [
            "--provider",
            "openai-compatible",
            "--model",
            "scripted",
            "--base-url",
            "http://scripted.test/v1",
        ]
        code, out, _ = run_ao(capsys, "leader", "interview", *scripted, "--seed", str(SEED), "--save")
        assert code == expected, out
        assert ("status    active" if leader == "good" else "verdicts blocked") in out
    code, out, _ = run_ao(capsys, "models", "list")
    assert "vetted  leader" in out


async def test_a_leader_too_slow_for_its_deadline_is_judged_blocked_not_unavailable(settings: Settings) -> None:
    runtime = runtime_with(
        settings.model_copy(update={"ao_model_call_timeout": 0.2}), SCRIPTED_LEADERS["good"], latency_s=1.0
    )
    result = await interview_leader(runtime, save=True, seed=SEED)
    assert result.status == "blocked" and result.saved
    assert result.reasons[0].startswith("too slow: 18 of 18 cases got no answer in time (no answer before")
    assert "AO_RUN_TIMEOUT" not in " ".join(result.reasons)
