"""Shared fixtures: no model requests, no developer environment, state in a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic_ai import models
from scripted import SEED, scripted_factory

from agent_orchestrator.config import Settings, load_settings
from agent_orchestrator.runtime import Runtime

models.ALLOW_MODEL_REQUESTS = False
# `allow_model_requests` and `real_models`, for tests against the fault server; `postgres_url`, a throwaway cluster
pytest_plugins = ["real_models", "postgres"]

_CONFIG_PREFIXES = ("LEADER_MODEL_", "WORKER_MODEL_", "LITELLM_", "AO_", "MCP_SERVER_", "OLLAMA_")
_KEY_VARS = (*Settings.secret_variables(), "LOG_LEVEL")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test runs in a temp dir with none of the developer's configuration."""
    for name in list(os.environ):
        if name.startswith(_CONFIG_PREFIXES) or name in _KEY_VARS:
            monkeypatch.delenv(name)
    monkeypatch.setenv("AO_ENV_FILE", "")  # no user config file, unless a test names one
    monkeypatch.setenv("AO_MODEL_BACKOFF_S", "0.01")  # retries back off in milliseconds, unless a test says
    monkeypatch.setenv("AO_MODEL_MAX_BACKOFF_S", "0.05")
    monkeypatch.setenv("AO_MODEL_MAX_RETRIES", "3")  # attempt counts in fault tests: 1 + 3
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".xdg-config"))
    monkeypatch.setenv("AO_STATE_DIR", str(tmp_path / ".ao"))
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture
def settings(isolated_env: Path) -> Settings:
    return load_settings(ao_model_call_timeout=2.0)


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    """A runtime whose models are scripted workers named by the model part of the id."""
    return Runtime.create(settings, scripted_factory(SEED))
