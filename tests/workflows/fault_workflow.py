"""The leader-worker workflow against the fault server: real models over a real socket, answered by request kind.

`answers(plan)` answers a planning request with `plan`, a review with accept, a step with a result,
each through the output tool the request offers. The models that send them are `real_models.RealModels`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from fault_server import Action, Responder, output_tool_name, structured_reply

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
