"""Run usage: tokens and requests summed; cost priced by genai-prices where the model is known."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.usage import RequestUsage, RunUsage

from agent_orchestrator.workflows.recorder import Usage


@dataclass
class FakeRun:
    usage: RunUsage
    messages: list[ModelMessage] = field(default_factory=list[ModelMessage])

    def new_messages(self) -> list[ModelMessage]:
        return self.messages


def response(model: str, provider: str | None) -> ModelResponse:
    return ModelResponse(
        parts=[TextPart("x")],
        model_name=model,
        provider_name=provider,
        usage=RequestUsage(input_tokens=1_000_000, output_tokens=0),
    )


def test_known_models_are_priced() -> None:
    usage = Usage()
    usage.add_run(FakeRun(RunUsage(requests=1, input_tokens=1_000_000), [response("gpt-4o", "openai")]))
    summary = usage.as_dict()
    assert summary["requests"] == 1 and summary["input_tokens"] == 1_000_000
    assert isinstance(summary["cost_usd"], float) and summary["cost_usd"] > 0


def test_unknown_models_have_no_price_rather_than_a_wrong_one() -> None:
    usage = Usage()
    usage.add_run(FakeRun(RunUsage(requests=1), [response("smollm2-135m-instruct", "local")]))
    assert usage.as_dict()["cost_usd"] is None and usage.as_dict()["unpriced_responses"] == 1
