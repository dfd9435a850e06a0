"""Build the leader's and workers' pydantic-ai agents from the configured models."""

from __future__ import annotations

from typing import TypeVar

from pydantic_ai import Agent
from pydantic_ai.usage import UsageLimits

from agent_orchestrator.providers import ModelSpec, Role, role_spec
from agent_orchestrator.runtime import Runtime

OutputT = TypeVar("OutputT")
# A run's budget per agent call: enough for structured answers, small enough to stop a runaway.
DEFAULT_LIMITS = UsageLimits(request_limit=6, output_tokens_limit=16_000)


def build_agent(
    runtime: Runtime, role: Role, output_type: type[OutputT], instructions: str, spec: ModelSpec | None = None
) -> Agent[None, OutputT]:
    """An agent for the role's configured model (or `spec`), with validated output and bounded retries."""
    chosen = spec or role_spec(runtime.settings, role)
    model = runtime.model_factory(chosen, runtime.settings, role)
    return Agent[None, OutputT](
        model,
        output_type=output_type,
        instructions=instructions,
        retries=2,
        deps_type=type(None),
        name=f"{role}:{chosen.model_id}",
    )
