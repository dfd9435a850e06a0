"""Build the leader's and workers' pydantic-ai agents from the configured models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

import pydantic_ai
from pydantic_ai import Agent, NativeOutput, PromptedOutput, ToolOutput
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import UsageLimits

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.output_modes import OutputMode
from agent_orchestrator.providers import ModelFactory, ModelSpec, Role, fallback_specs, role_spec

OutputT = TypeVar("OutputT")
# A run's budget per agent call: enough for structured answers, small enough to stop a runaway.
DEFAULT_LIMITS = UsageLimits(request_limit=6, output_tokens_limit=16_000)


class ModelSource(Protocol):
    """What building an agent needs: the settings and the model factory (the runtime has both)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def model_factory(self) -> ModelFactory: ...


def quiet_stack() -> None:
    """Keep pydantic-ai's first-run banner (an observability advertisement) off our streams.

    stdout carries results (and, over stdio, the MCP protocol); stderr is the host's log.
    """
    pydantic_ai.BANNER_ENABLED = False


def build_agent(
    runtime: ModelSource,
    role: Role,
    output_type: type[OutputT],
    instructions: str,
    spec: ModelSpec | None = None,
    *,
    output_mode: OutputMode | None = None,
) -> Agent[None, OutputT]:
    """An agent for the role's configured model (or `spec`), with validated output and bounded retries,
    asking for its output in `output_mode` (a worker's, from its profile; None: pydantic-ai's default)."""
    chosen = spec or role_spec(runtime.settings, role)
    model = runtime.model_factory(chosen, runtime.settings, role)
    return agent_for(model, output_type, instructions, name=f"{role}:{chosen.model_id}", output_mode=output_mode)


def build_agents_with_fallbacks(
    runtime: ModelSource, role: Role, output_type: type[OutputT], instructions: str, spec: ModelSpec | None = None
) -> tuple[Agent[None, OutputT], list[Agent[None, OutputT]]]:
    """The role's agent and one per configured fallback (`<ROLE>_MODEL_FALLBACKS`), for `call_agent`'s
    `fallbacks=`.

    Every fallback is built now, so a broken chain (an unknown provider, a missing key) fails before
    the first call rather than when the primary fails. For leader calls; a worker step's fallbacks
    must each be qualified for the step by their own profile (the leader-worker steps choose them).
    """
    chosen = spec or role_spec(runtime.settings, role)
    primary = build_agent(runtime, role, output_type, instructions, chosen)
    fallbacks = [
        build_agent(runtime, role, output_type, instructions, fallback)
        for fallback in fallback_specs(runtime.settings, role, chosen)
    ]
    return primary, fallbacks


def agent_for(
    model: Model,
    output_type: type[OutputT],
    instructions: str,
    *,
    name: str | None = None,
    retries: int = 2,
    model_settings: ModelSettings | None = None,
    output_mode: OutputMode | None = None,
    capabilities: Sequence[AbstractCapability[None]] = (),
) -> Agent[None, OutputT]:
    """An agent over a model already built (the interview's worker is built once per interview).

    The one place agents are constructed, so every agent is quiet and bounded the same way. With an
    `output_mode` the output comes only that way: through the output tool (`tool`), the provider's
    JSON-schema response format (`native`) or JSON text the instructions ask for (`prompted`); None
    leaves it to pydantic-ai (the output tool, or schema-valid text).
    """
    quiet_stack()
    return Agent[None, OutputT](
        model,
        output_type=_in_mode(output_type, output_mode),
        instructions=instructions,
        retries=retries,
        deps_type=type(None),
        name=name,
        model_settings=model_settings,
        capabilities=list(capabilities) or None,
    )


def _in_mode(
    output_type: type[OutputT], mode: OutputMode | None
) -> type[OutputT] | ToolOutput[OutputT] | NativeOutput[OutputT] | PromptedOutput[OutputT]:
    """The output type wrapped in the marker of its output mode (None: as it is)."""
    if mode is None or output_type is str:  # text has no structured mode
        return output_type
    if mode == "tool":
        return ToolOutput(output_type)
    if mode == "native":
        return NativeOutput(output_type)
    return PromptedOutput(output_type)
