"""The interview workflow around the suite: saving, staleness, TypeScript availability, secrets."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from scripted import CANARY_KEY, SEED, scripted_factory

from agent_orchestrator.config import Settings
from agent_orchestrator.interview import typescript
from agent_orchestrator.queries.workers import get_worker_profile, list_workers
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows import interview as interview_module
from agent_orchestrator.workflows.interview import interview_worker

pytestmark = pytest.mark.anyio
BASE_URL = "http://scripted.test/v1"


async def test_without_typescript_codegen_cannot_qualify_and_the_profile_says_so(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interview_module, "find_typescript_toolchain", lambda: None)
    result = await interview_worker(
        runtime, provider="openai-compatible", model="ideal", base_url=BASE_URL, seed=SEED
    )
    assert result.profile is not None
    assert result.profile.typescript_check.startswith("not type-checked")
    assert "codegen" not in result.profile.supported_task_types
    assert not result.profile.routing_policy.codegen_allowed
    checks = [
        c
        for case in result.profile.scores["typescript_codegen"].cases
        for c in case.checks
        if c.name == "type_checks_strict"
    ]
    assert checks and all(c.passed is None for c in checks)
    assert any("TypeScript compiler" in action for action in result.recommended_actions)


@pytest.mark.skipif(typescript.find_typescript_toolchain() is None, reason="needs Node.js and tools/typescript")
async def test_with_typescript_the_profile_names_the_compiler(runtime: Runtime) -> None:
    result = await interview_worker(
        runtime, provider="openai-compatible", model="ideal", base_url=BASE_URL, seed=SEED
    )
    assert result.profile is not None and "TypeScript compiler 5.9.3" in result.profile.typescript_check
    assert result.profile.routing_policy.codegen_allowed


async def test_profile_made_against_another_endpoint_reads_stale(runtime: Runtime, settings: Settings) -> None:
    await interview_worker(
        runtime, provider="openai-compatible", model="ideal", base_url=BASE_URL, seed=SEED, save=True
    )
    assert list_workers(runtime).workers[0].stale is False
    moved = Runtime.create(
        settings.model_copy(update={"worker_model_base_url": "http://elsewhere/v1"}), scripted_factory(SEED)
    )
    view = get_worker_profile(moved, "openai-compatible:ideal")
    assert view.stale and view.stale_reasons == ["made against another endpoint than the one configured now"]


async def test_secrets_a_worker_echoes_are_redacted_from_the_stored_profile(settings: Settings) -> None:
    runtime = Runtime.create(
        settings.model_copy(update={"worker_model_api_key": SecretStr(CANARY_KEY)}), scripted_factory(SEED)
    )
    result = await interview_worker(
        runtime, provider="openai-compatible", model="secret-echo", base_url=BASE_URL, seed=SEED, save=True
    )
    assert CANARY_KEY not in result.model_dump_json()
    assert CANARY_KEY not in runtime.profiles.path.read_text()
    assert "[REDACTED]" in runtime.profiles.path.read_text()


async def test_same_seed_gives_the_same_verdict(runtime: Runtime) -> None:
    first = await interview_worker(
        runtime, provider="openai-compatible", model="overconfident", base_url=BASE_URL, seed=SEED
    )
    second = await interview_worker(
        runtime, provider="openai-compatible", model="overconfident", base_url=BASE_URL, seed=SEED
    )
    assert first.profile is not None and second.profile is not None
    assert {d: s.score for d, s in first.profile.scores.items()} == {
        d: s.score for d, s in second.profile.scores.items()
    }


async def test_without_provider_the_configured_worker_is_interviewed(settings: Settings) -> None:
    configured = settings.model_copy(
        update={
            "worker_model_provider": "openai-compatible",
            "worker_model_name": "ideal",
            "worker_model_base_url": BASE_URL,
        }
    )
    result = await interview_worker(Runtime.create(configured, scripted_factory(SEED)), seed=SEED)
    assert result.worker_id == "openai-compatible:ideal" and result.status == "active"


async def test_without_configuration_the_local_model_is_the_default(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from agent_orchestrator.errors import ToolchainMissingError
    from agent_orchestrator.providers import build_model

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real_find_spec(name, *a)
    )
    with pytest.raises(ToolchainMissingError, match=r"pip install 'agent-orchestrator\[local\]'"):
        await interview_worker(Runtime.create(settings, build_model), seed=SEED)


async def test_provider_without_model_is_a_usage_error(runtime: Runtime) -> None:
    from agent_orchestrator.errors import UsageError

    with pytest.raises(UsageError, match="both a provider and a model"):
        await interview_worker(runtime, provider="openai-compatible")
