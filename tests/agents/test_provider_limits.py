"""AO_PROVIDER_CONCURRENCY: model calls in flight per provider, across every run of the process."""

from __future__ import annotations

import anyio
import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from agent_orchestrator.agents.bounds import CallBounds
from agent_orchestrator.agents.build import agent_for
from agent_orchestrator.agents.calls import call_agent
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.agents.usage import Usage
from agent_orchestrator.config import Settings
from agent_orchestrator.policies.redaction import Redactor

pytestmark = pytest.mark.anyio


async def test_calls_to_a_capped_provider_wait_for_each_other_and_others_do_not() -> None:
    in_flight = {"capped": 0, "free": 0}
    peak = {"capped": 0, "free": 0}

    def model(kind: str) -> FunctionModel:
        async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            in_flight[kind] += 1
            peak[kind] = max(peak[kind], in_flight[kind])
            await anyio.sleep(0.05)
            in_flight[kind] -= 1
            return ModelResponse(parts=[TextPart("ok")])

        return FunctionModel(respond)

    capped = agent_for(model("capped"), str, "answer", name="worker:openai-compatible:a")
    free = agent_for(model("free"), str, "answer", name="worker:ollama:b")
    bounds = CallBounds(provider_limits={"openai-compatible": 2})
    async with anyio.create_task_group() as group:
        for agent in [capped] * 6 + [free] * 6:
            group.start_soon(
                lambda agent=agent: call_agent(
                    agent, Prompt.of("hi"), usage=Usage(), redact=Redactor(), bounds=bounds
                )
            )
    assert peak == {"capped": 2, "free": 6}


def test_the_setting_reads_provider_equals_count_and_names_a_bad_entry_by_position() -> None:
    assert Settings(ao_provider_concurrency="OpenAI=8, anthropic=4").ao_provider_concurrency == {
        "openai": 8,
        "anthropic": 4,
    }
    with pytest.raises(ValueError, match="entry 2 is not provider=N"):
        Settings(ao_provider_concurrency="openai=8,sk-secret-value")
    with pytest.raises(ValueError, match="between 1 and 256"):
        Settings(ao_provider_concurrency="openai=0")
