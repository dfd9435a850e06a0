"""Run usage: tokens and requests summed; cost priced by genai-prices where the model is known."""

from __future__ import annotations

from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.usage import RequestUsage, RunUsage

from agent_orchestrator.agents.usage import Usage


def response(model: str, provider: str | None) -> ModelResponse:
    return ModelResponse(
        parts=[TextPart("x")],
        model_name=model,
        provider_name=provider,
        usage=RequestUsage(input_tokens=1_000_000, output_tokens=0),
    )


def test_known_models_are_priced() -> None:
    usage = Usage()
    usage.record(RunUsage(requests=1, input_tokens=1_000_000), [response("gpt-4o", "openai")])
    summary = usage.as_dict()
    assert summary["requests"] == 1 and summary["input_tokens"] == 1_000_000
    assert isinstance(summary["cost_usd"], float) and summary["cost_usd"] > 0


def test_unknown_models_have_no_price_rather_than_a_wrong_one() -> None:
    usage = Usage()
    usage.record(RunUsage(requests=1), [response("smollm2-135m-instruct", "local")])
    assert usage.as_dict()["cost_usd"] is None and usage.as_dict()["unpriced_responses"] == 1


def test_only_responses_are_priced() -> None:
    usage = Usage()
    request = ModelRequest(parts=[UserPromptPart("hi")])
    usage.record(RunUsage(requests=1), [request, response("gpt-4o", "openai")])
    assert usage.unpriced_responses == 0 and usage.cost_usd > 0
