"""Settings and provider resolution: strict values, clear errors naming the variable, no leaks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_ai.models.openai import OpenAIChatModel

from agent_orchestrator.config import load_settings, parse_bool
from agent_orchestrator.errors import ConfigError, ProviderError
from agent_orchestrator.providers import build_model, configured_spec, parse_model_id, resolve_spec

SECRET = "sk-test-canary-0123456789abcdef"


@pytest.mark.parametrize("text", ["", "0", "false", "No", "off"])
def test_false_spellings(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["1", "true", "YES", "on"])
def test_true_spellings(text: str) -> None:
    assert parse_bool(text) is True


def test_unparseable_bool_is_an_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AO_ALLOW_WRITE", "sure")
    with pytest.raises(ConfigError, match="AO_ALLOW_WRITE"):
        load_settings()


def test_defaults_are_safe() -> None:
    settings = load_settings()
    assert settings.ao_dry_run is True and settings.ao_allow_write is False


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "custom.env").write_text("WORKER_MODEL_PROVIDER=ollama\nWORKER_MODEL_NAME=qwen3:8b\n")
    monkeypatch.setenv("AO_ENV_FILE", str(tmp_path / "custom.env"))
    spec = configured_spec(load_settings(), "worker")
    assert spec is not None and spec.model_id == "ollama:qwen3:8b"


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_MODEL_API_KEY", SECRET)
    settings = load_settings()
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert SECRET in settings.secret_values()


def test_model_id_keeps_colons_in_the_model_part() -> None:
    assert parse_model_id("ollama:qwen3:8b") == ("ollama", "qwen3:8b")


@pytest.mark.parametrize("text", ["qwen3", ":x", "litellm:"])
def test_malformed_model_id_is_explained(text: str) -> None:
    with pytest.raises(ProviderError, match="provider:model"):
        parse_model_id(text)


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(ProviderError, match=r"unknown provider 'bogus'; known providers: .*litellm"):
        resolve_spec("bogus", "x", load_settings())


def test_missing_key_names_the_variable_to_set() -> None:
    settings = load_settings()
    spec = resolve_spec("anthropic", "claude-sonnet", settings)
    with pytest.raises(ProviderError, match=r"WORKER_MODEL_API_KEY .*ANTHROPIC_API_KEY"):
        build_model(spec, settings, "worker")


def test_litellm_without_base_url_names_both_variables() -> None:
    with pytest.raises(ProviderError, match="LITELLM_BASE_URL or WORKER_MODEL_BASE_URL"):
        resolve_spec("litellm", "qwen3-coder", load_settings())


def test_model_specific_base_url_overrides_litellm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITELLM_BASE_URL", "http://proxy:4000")
    monkeypatch.setenv("LEADER_MODEL_BASE_URL", "http://leader-proxy:4000")
    settings = load_settings()
    assert resolve_spec("litellm", "m", settings, "worker").base_url == "http://proxy:4000"
    assert resolve_spec("litellm", "m", settings, "leader").base_url == "http://leader-proxy:4000"
    assert resolve_spec("litellm", "m", settings, "worker", "http://explicit:1").base_url == "http://explicit:1"


def test_base_url_credentials_are_dropped_and_fingerprint_is_stable() -> None:
    settings = load_settings()
    a = resolve_spec("openai-compatible", "m", settings, base_url="http://user:pw@Host:8000/v1/")
    b = resolve_spec("openai-compatible", "m", settings, base_url="http://host:8000/v1")
    assert a.base_url == "http://host:8000/v1" and a.fingerprint() == b.fingerprint()
    assert (
        a.fingerprint() != resolve_spec("openai-compatible", "m", settings, base_url="http://h2/v1").fingerprint()
    )


def test_not_a_url_is_refused() -> None:
    with pytest.raises(ProviderError, match="http"):
        resolve_spec("openai-compatible", "m", load_settings(), base_url="ftp://x")


def test_openai_compatible_builds_an_openai_chat_model() -> None:
    settings = load_settings()
    spec = resolve_spec("openai-compatible", "qwen", settings, base_url="http://127.0.0.1:9/v1")
    assert isinstance(build_model(spec, settings, "worker"), OpenAIChatModel)


def test_half_configured_role_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADER_MODEL_PROVIDER", "openai")
    with pytest.raises(ProviderError, match="LEADER_MODEL_NAME"):
        configured_spec(load_settings(), "leader")
