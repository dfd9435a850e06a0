"""Real models against the fault server: the registry's own models over a real socket on 127.0.0.1.

`RealModels` is the registry's model factory (`providers.build_model`: SDK retries off, keys bound to
their endpoints) that remembers what it built, so every HTTP client is closed in the test's own event
loop. `endpoint_settings` points a role's model at a `FaultServer`; `TRANSIENT_FAULTS` are the faults
a call retries, with the error kind each ends as.

Fixtures (a pytest plugin, loaded by conftest): `allow_model_requests` lifts conftest's ban on model
requests (these models only reach 127.0.0.1); `real_models` is a `RealModels` whose clients are closed
after the test, with requests allowed.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fault_server import Action, FaultServer, HTTPError, Reset, Truncated
from pydantic_ai.models import Model, override_allow_model_requests

from agent_orchestrator.config import Settings
from agent_orchestrator.providers import ModelSpec, Role, build_model, resolve_spec

PROVIDER = "openai-compatible"
MODEL = "fault-model"

TRANSIENT_FAULTS: dict[str, tuple[Action, str]] = {
    "429": (HTTPError(429), "rate_limited"),
    "429-retry-after": (HTTPError(429, retry_after=0), "rate_limited"),
    "500": (HTTPError(500), "server_error"),
    "502": (HTTPError(502), "server_error"),
    "503": (HTTPError(503), "server_error"),
    "reset": (Reset(), "unreachable"),
    "truncated": (Truncated(), "unreachable"),
}
"""Faults a call retries (every attempt the retry policy allows), by name: what the endpoint does to each
request, and the error kind the call is recorded with once its retries are spent."""


@dataclass
class RealModels:
    """`providers.build_model`, remembering every model built so `close()` can close their clients."""

    built: list[Model] = field(default_factory=list[Model])

    def __call__(self, spec: ModelSpec, settings: Settings, role: Role) -> Model:
        model = build_model(spec, settings, role)
        self.built.append(model)
        return model

    def at(self, server: FaultServer, settings: Settings, model: str = MODEL, role: Role = "leader") -> Model:
        """The OpenAI-compatible model `model` at `server`, as the registry resolves and builds it."""
        return self(resolve_spec(PROVIDER, model, settings, role, server.base_url), settings, role)

    async def close(self) -> None:
        while self.built:
            client = getattr(self.built.pop(), "client", None)
            if client is not None:
                await client.close()
        gc.collect()  # whatever pydantic-ai or the SDK left open is finalised while the loop still runs


def endpoint_settings(server: FaultServer, role: Role = "leader", model: str = MODEL) -> dict[str, Any]:
    """The settings that make `role`'s model the OpenAI-compatible `model` at `server`."""
    return {
        f"{role}_model_provider": PROVIDER,
        f"{role}_model_name": model,
        f"{role}_model_base_url": server.base_url,
    }


@pytest.fixture
def allow_model_requests() -> Iterator[None]:
    """These models only reach 127.0.0.1, so a test that asks for this lifts conftest's ban on model requests."""
    with override_allow_model_requests(True):
        yield


@pytest.fixture
async def real_models(allow_model_requests: None) -> AsyncIterator[RealModels]:
    """Real models, their HTTP clients closed in the test's own event loop (none is left for the GC to find)."""
    models = RealModels()
    yield models
    await models.close()
