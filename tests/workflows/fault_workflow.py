"""The leader-worker workflow against the fault server: real models over a real socket, answered by request kind.

`answers(plan)` answers a planning request with `plan`, a review with accept, a step with a result,
each through the output tool the request offers. `RealModels` is the registry's model factory
(`providers.build_model`: SDK retries off, keys bound to their endpoints) that remembers what it
built, so a test can close every HTTP client in its own event loop.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from fault_server import Action, Responder, output_tool_name, structured_reply
from pydantic_ai.models import Model

from agent_orchestrator.config import Settings
from agent_orchestrator.providers import ModelSpec, Role, build_model

ACCEPT = {"verdict": "accept", "feedback": ""}
StepAnswer = Callable[[Mapping[str, Any]], Mapping[str, Any]]


def output_fields(request: Mapping[str, Any]) -> set[str]:
    """The properties of the output tool a request offers (empty when it offers none)."""
    name = output_tool_name(request)
    for tool in request.get("tools") or []:
        function = tool.get("function", {})
        if function.get("name") == name:
            return set(function.get("parameters", {}).get("properties", {}))
    return set()


def done(request: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"summary": "done", "content": "the step's output"}


def answers(
    plan: Mapping[str, Any],
    *,
    step: StepAnswer = done,
    review: StepAnswer = lambda _: ACCEPT,
    latency: float = 0.0,
) -> Responder:
    """Answer plans with `plan`, reviews with `review`, steps with `step`, after `latency` seconds."""

    def respond(request: dict[str, Any]) -> Action:
        fields = output_fields(request)
        args = plan if "steps" in fields else review(request) if "verdict" in fields else step(request)
        return replace(structured_reply(request, args), latency=latency)

    return respond


@dataclass
class RealModels:
    """`providers.build_model`, remembering every model built so `close()` can close their clients."""

    built: list[Model] = field(default_factory=list[Model])

    def __call__(self, spec: ModelSpec, settings: Settings, role: Role) -> Model:
        model = build_model(spec, settings, role)
        self.built.append(model)
        return model

    async def close(self) -> None:
        while self.built:
            client = getattr(self.built.pop(), "client", None)
            if client is not None:
                await client.close()
        gc.collect()  # whatever the SDK left open is finalised while the loop still runs
