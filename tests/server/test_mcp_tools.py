"""The MCP server through an in-memory client: schemas, annotations, progress, resources, prompts, errors."""

from __future__ import annotations

import json

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from inline_snapshot import snapshot
from scripted import SEED

from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

pytestmark = pytest.mark.anyio
IDEAL = {"provider": "openai-compatible", "model": "ideal", "base_url": "http://scripted.test/v1", "seed": SEED}


async def test_tools_and_their_annotations(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
    assert sorted(tools) == snapshot(
        [
            "fix_error",
            "get_artifact",
            "get_run",
            "get_worker_profile",
            "interview_worker",
            "list_models",
            "list_runs",
            "list_workers",
            "list_workflows",
            "plan",
            "review",
            "run_leader_worker",
            "show_config",
            "validate",
        ]
    )
    assert tools["list_workers"].annotations is not None and tools["list_workers"].annotations.read_only_hint
    interview = tools["interview_worker"]
    assert interview.annotations is not None
    assert interview.annotations.read_only_hint is False and interview.annotations.open_world_hint is True
    assert interview.output_schema is not None and "status" in interview.output_schema["properties"]
    assert "required" not in interview.input_schema  # provider and model default to the configured worker


async def test_tool_input_schemas(runtime: Runtime) -> None:
    """Every tool's name and input schema, as MCP clients see them: a change here changes the API."""
    async with Client(create_server(runtime)) as client:
        tools = await client.list_tools()
    assert {tool.name: tool.input_schema for tool in tools} == snapshot(
        {
            "interview_worker": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "provider": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "litellm, openai-compatible, ollama, local, ...; omit for the configured worker",
                    },
                    "model": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Model name at that provider",
                    },
                    "base_url": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Endpoint base URL; overrides configured ones",
                    },
                    "save": {
                        "default": False,
                        "description": "Persist the profile to the state dir",
                        "type": "boolean",
                    },
                    "seed": {
                        "anyOf": [{"type": "integer"}, {"type": "null"}],
                        "default": None,
                        "description": "Variant seed, to reproduce an interview",
                    },
                },
            },
            "list_workers": {"type": "object", "additionalProperties": False, "properties": {}},
            "get_worker_profile": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "worker_id": {"description": "provider:model, e.g. litellm:qwen3-coder", "type": "string"}
                },
                "required": ["worker_id"],
            },
            "list_models": {"type": "object", "additionalProperties": False, "properties": {}},
            "validate": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "commands": {
                        "description": "Allowlisted commands, e.g. ['pytest -q', 'ruff check .']",
                        "items": {"type": "string"},
                        "type": "array",
                    },
                    "cwd": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Working directory inside the workspace",
                    },
                    "timeout_s": {
                        "default": 300.0,
                        "description": "Deadline per command, seconds",
                        "exclusiveMinimum": 0,
                        "maximum": 3600,
                        "type": "number",
                    },
                },
                "required": ["commands"],
            },
            "review": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "diff_range": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "A git range, e.g. main...HEAD",
                    },
                    "diff_file": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "A unified diff file in the workspace",
                    },
                    "files": {
                        "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                        "default": None,
                        "description": "Whole files to review",
                    },
                },
            },
            "plan": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "goal": {
                        "description": "What to achieve",
                        "maxLength": 4000,
                        "minLength": 1,
                        "type": "string",
                    },
                    "context_files": {
                        "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                        "default": None,
                        "description": "Workspace files the leader should read",
                    },
                },
                "required": ["goal"],
            },
            "run_leader_worker": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "goal": {
                        "description": "What to achieve",
                        "maxLength": 4000,
                        "minLength": 1,
                        "type": "string",
                    },
                    "scope": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Directory inside the workspace to work in",
                    },
                    "context_files": {
                        "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                        "default": None,
                        "description": "Workspace files the leader should read",
                    },
                    "worker_profile": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Use this saved worker profile as given (no re-interview)",
                    },
                    "write": {
                        "default": False,
                        "description": "Apply accepted patches, if policy allows writes",
                        "type": "boolean",
                    },
                },
                "required": ["goal"],
            },
            "fix_error": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "error_log": {"description": "A tool's error log file in the workspace", "type": "string"},
                    "scope": {"description": "The directory the fix may touch", "type": "string"},
                    "write": {
                        "default": False,
                        "description": "Apply the checked patch and validate it, if policy allows writes",
                        "type": "boolean",
                    },
                    "apply": {
                        "anyOf": [{"type": "boolean"}, {"type": "null"}],
                        "default": None,
                        "deprecated": True,
                        "description": "Deprecated: the old name of `write`; true asks for the write too",
                    },
                },
                "required": ["error_log", "scope"],
            },
            "list_workflows": {"type": "object", "additionalProperties": False, "properties": {}},
            "list_runs": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "limit": {
                        "default": 50,
                        "description": "How many recent runs",
                        "maximum": 1000,
                        "minimum": 1,
                        "type": "integer",
                    }
                },
            },
            "get_run": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"run_id": {"description": "A run id, e.g. run_0123abcd4567", "type": "string"}},
                "required": ["run_id"],
            },
            "get_artifact": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "run_id": {"type": "string"},
                    "artifact_id": {"type": "string"},
                    "offset": {"default": 0, "minimum": 0, "type": "integer"},
                    "limit": {"default": 200000, "maximum": 200000, "minimum": 1, "type": "integer"},
                },
                "required": ["run_id", "artifact_id"],
            },
            "show_config": {"type": "object", "additionalProperties": False, "properties": {}},
        }
    )


async def test_interview_reports_progress_and_returns_structured_profile(runtime: Runtime) -> None:
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with Client(create_server(runtime)) as client:
        result = await client.call_tool("interview_worker", IDEAL, progress_handler=on_progress)
    assert result.structured_content is not None
    assert result.structured_content["status"] == "active"
    assert len(seen) == result.structured_content["profile"]["reliability"]["cases"]
    assert seen[-1][0] == seen[-1][1]


async def test_saved_profile_is_listed_and_readable_as_resource(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        await client.call_tool("interview_worker", {**IDEAL, "save": True})
        listed = await client.call_tool("list_workers", {})
        profile = await client.call_tool("get_worker_profile", {"worker_id": "openai-compatible:ideal"})
        resource = await client.read_resource("ao://workers")
        one = await client.read_resource("ao://workers/openai-compatible:ideal")
    assert listed.structured_content is not None
    assert [w["worker_id"] for w in listed.structured_content["workers"]] == ["openai-compatible:ideal"]
    assert profile.structured_content is not None and profile.structured_content["stale"] is False
    assert json.loads(resource[0].text)["workers"][0]["status"] == "active"
    assert json.loads(one[0].text)["profile"]["worker_id"] == "openai-compatible:ideal"


async def test_unknown_profile_is_a_clear_tool_error(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        with pytest.raises(ToolError, match="no saved profile for worker 'nope:x'"):
            await client.call_tool("get_worker_profile", {"worker_id": "nope:x"})


async def test_unknown_provider_is_an_invalid_request(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        with pytest.raises(ToolError, match=r"^invalid request: unknown provider 'bogus'"):
            await client.call_tool("interview_worker", {"provider": "bogus", "model": "x"})


async def test_corrupt_profiles_file_is_reported_not_overwritten(runtime: Runtime) -> None:
    runtime.profiles.path.parent.mkdir(parents=True)
    runtime.profiles.path.write_text("{oops")
    async with Client(create_server(runtime)) as client:
        with pytest.raises(ToolError, match=r"not valid JSON.*left untouched"):
            await client.call_tool("interview_worker", {**IDEAL, "save": True})
        with pytest.raises(ToolError, match="left untouched"):
            await client.call_tool("list_workers", {})
    assert runtime.profiles.path.read_text() == "{oops"


async def test_prompts_expose_the_interview_instructions(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        names = sorted(prompt.name for prompt in await client.list_prompts())
        case = await client.get_prompt("interview_case", {"dimension": "structured_json", "seed": "3"})
    assert names == snapshot(
        [
            "code_reviewer_instructions",
            "fixer_instructions",
            "interview_case",
            "leader_planner_instructions",
            "leader_reviewer_instructions",
            "worker_interview_instructions",
            "worker_step_instructions",
        ]
    )
    text = case.messages[0].content.text
    assert "structured_json/order" in text and "JSON object" in text


async def test_list_models_reports_configuration_problems(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        result = await client.call_tool("list_models", {})
    assert result.structured_content is not None
    assert result.structured_content["default_model"] == "local:smollm2-135m-instruct"
    assert {p["name"] for p in result.structured_content["providers"]} >= {"litellm", "openai-compatible", "local"}
