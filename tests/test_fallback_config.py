"""Fallback chains as configured: `provider:model[@base_url]` checked when settings load, resolved per role,
each fallback given only a key configured for its own endpoint, and listed by `ao models list`."""

from __future__ import annotations

from typing import Any

import pytest
from processes import run_ao

from agent_orchestrator.agents.build import build_agents_with_fallbacks
from agent_orchestrator.agents.models import StepResult
from agent_orchestrator.config import Settings, load_settings
from agent_orchestrator.errors import ConfigError, ProviderError
from agent_orchestrator.providers import ModelSpec, bound_key, build_model, fallback_specs
from agent_orchestrator.queries.workers import list_models
from agent_orchestrator.runtime import Runtime

SECRET = "sk-pasted-into-the-wrong-variable-0123456789"
VLLM = "http://vllm.internal:8000/v1"


def big_leader_at_vllm(**settings: Any) -> Settings:
    """Settings whose leader is the OpenAI-compatible model `big` at `VLLM`, and `settings`."""
    return load_settings(
        leader_model_provider="openai-compatible", leader_model_name="big", leader_model_base_url=VLLM, **settings
    )


def test_well_formed_entries_load_in_order() -> None:
    settings = load_settings(
        leader_model_fallbacks="anthropic:claude-sonnet-4-5, ollama:qwen2.5-coder:7b ,openai-compatible:m@" + VLLM
    )
    assert settings.leader_model_fallbacks == [
        "anthropic:claude-sonnet-4-5",
        "ollama:qwen2.5-coder:7b",
        f"openai-compatible:m@{VLLM}",
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (SECRET, "entry 1: must look like provider:model"),
        (f"openai:gpt-4.1,{SECRET}", "entry 2: must look like provider:model"),
        ("openai-compatible:m@https://user:pw@host/v1", "entry 1: its base URL carries credentials"),
        (
            "openai-compatible:m@http://host:99999/v1",
            "entry 1: base URL 'http://host:99999/v1' is not a valid URL",
        ),
        (
            "openai-compatible:m@ftp://host/v1",
            "entry 1: the base URL after `@` must be an http:// or https:// URL",
        ),
    ],
)
def test_a_malformed_entry_fails_at_load_naming_the_variable_never_the_value(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("WORKER_MODEL_FALLBACKS", value)
    with pytest.raises(ConfigError) as failed:
        load_settings()
    assert f"WORKER_MODEL_FALLBACKS: {problem}" in str(failed.value)
    assert SECRET not in str(failed.value) and "pw" not in str(failed.value)


def test_an_unknown_provider_names_the_variable_and_the_entry() -> None:
    settings = load_settings(leader_model_fallbacks="openai:gpt-4.1,nosuch:model")
    with pytest.raises(ProviderError, match=r"LEADER_MODEL_FALLBACKS entry 2: unknown provider 'nosuch'"):
        fallback_specs(settings, "leader")


def test_without_a_base_url_only_the_roles_own_provider_inherits_its_endpoint() -> None:
    settings = big_leader_at_vllm(
        litellm_base_url="http://proxy.internal:4000",
        leader_model_fallbacks="openai-compatible:small,litellm:gpt-4.1-mini,openai:gpt-4.1,openai-compatible:big",
    )
    assert fallback_specs(settings, "leader", ModelSpec("openai-compatible", "big", VLLM)) == [
        ModelSpec("openai-compatible", "small", VLLM),
        ModelSpec("litellm", "gpt-4.1-mini", "http://proxy.internal:4000"),
        ModelSpec("openai", "gpt-4.1", None),  # the vendor's API, not the leader's endpoint
    ]


def test_a_fallback_gets_only_a_key_configured_for_its_own_endpoint() -> None:
    settings = big_leader_at_vllm(
        leader_model_api_key="sk-leader-0123456789",
        openai_api_key="sk-openai-0123456789",
        leader_model_fallbacks="openai-compatible:small,openai-compatible:other@http://elsewhere:9000/v1,openai:gpt-4.1",
    )
    keys = [bound_key(spec, settings, "leader") for spec in fallback_specs(settings, "leader")]
    assert [key.variable if key else None for key in keys] == ["LEADER_MODEL_API_KEY", None, "OPENAI_API_KEY"]


def test_a_broken_fallback_fails_before_any_call(runtime: Runtime) -> None:
    """A fallback that needs a key nobody configured for it is refused when the agents are built."""
    settings = runtime.settings.model_copy(update={"leader_model_fallbacks": ["anthropic:claude-sonnet-4-5"]})
    with pytest.raises(ProviderError, match="ANTHROPIC_API_KEY"):
        build_agents_with_fallbacks(Runtime.create(settings, build_model), "leader", StepResult, "do it")


def test_the_leader_agents_are_the_configured_model_then_each_fallback_in_order(runtime: Runtime) -> None:
    fallbacks = ["anthropic:claude-sonnet-4-5", "ollama:qwen3:8b"]
    settings = runtime.settings.model_copy(update={"leader_model_fallbacks": fallbacks})
    primary, others = build_agents_with_fallbacks(
        Runtime.create(settings, runtime.model_factory), "leader", StepResult, "x"
    )
    assert [agent.name for agent in (primary, *others)] == [
        "leader:local:smollm2-135m-instruct",
        "leader:anthropic:claude-sonnet-4-5",
        "leader:ollama:qwen3:8b",
    ]


def test_models_list_shows_each_fallback_with_its_key_and_the_missing_ones_as_problems(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(
        update={"leader_model_fallbacks": ["ollama:qwen3:8b"], "worker_model_fallbacks": ["openai:gpt-4.1-mini"]}
    )
    listing = list_models(Runtime.create(settings, runtime.model_factory))
    assert [(f.role, f.model_id, f.key_configured, f.key_options) for f in listing.fallbacks] == [
        ("leader", "ollama:qwen3:8b", False, []),
        ("worker", "openai:gpt-4.1-mini", False, ["OPENAI_API_KEY"]),
    ]
    assert "worker fallback 'openai:gpt-4.1-mini' has no key (set OPENAI_API_KEY)" in listing.problems


def test_ao_models_list_prints_the_fallbacks_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEADER_MODEL_FALLBACKS", f"openai-compatible:a@{VLLM},ollama:qwen3:8b")
    _, out, _ = run_ao(capsys, "models", "list")
    lines = [line for line in out.splitlines() if "fallback" in line and line.startswith("  fallback")]
    assert lines == [
        f"  fallback leader  openai-compatible:a  {VLLM}  (no key needed)",
        "  fallback leader  ollama:qwen3:8b  http://localhost:11434/v1  (no key needed)",
    ]
