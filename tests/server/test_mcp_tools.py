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
            "cancel_run",
            "fix_error",
            "get_artifact",
            "get_run",
            "get_usage",
            "get_worker_profile",
            "interview_leader",
            "interview_worker",
            "list_models",
            "list_runs",
            "list_workers",
            "list_workflows",
            "plan",
            "resume_run",
            "review",
            "run_leader_worker",
            "show_config",
            "start_run",
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
                        "description": "A provider list_models names, with model; omit both for the configured worker",
                    },
                    "model": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Model name at that provider; give with provider",
                    },
                    "base_url": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Endpoint base URL",
                    },
                    "save": {
                        "default": False,
                        "description": "Save it: workflows route to it",
                        "type": "boolean",
                    },
                    "seed": {
                        "anyOf": [{"type": "integer"}, {"type": "null"}],
                        "default": None,
                        "description": "Case-variant seed (reproduces an interview)",
                    },
                },
            },
            "interview_leader": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "provider": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "With model; omit both for the configured leader",
                    },
                    "model": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Model name at that provider",
                    },
                    "base_url": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Endpoint base URL",
                    },
                    "save": {
                        "default": False,
                        "description": "Save it: workflows refuse roles it failed",
                        "type": "boolean",
                    },
                    "seed": {
                        "anyOf": [{"type": "integer"}, {"type": "null"}],
                        "default": None,
                        "description": "Case-variant seed",
                    },
                },
            },
            "list_workers": {"type": "object", "additionalProperties": False, "properties": {}},
            "get_worker_profile": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "worker_id": {
                        "description": "provider:model, as list_workers shows",
                        "type": "string",
                    }
                },
                "required": ["worker_id"],
            },
            "list_models": {"type": "object", "additionalProperties": False, "properties": {}},
            "validate": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "commands": {
                        "description": "1-20 allowlisted commands, run in order, e.g. 'pytest -q'",
                        "items": {"type": "string"},
                        "type": "array",
                    },
                    "cwd": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Working directory; default workspace root",
                    },
                    "timeout_s": {
                        "default": 300.0,
                        "description": "Deadline per command, seconds",
                        "exclusiveMinimum": 0,
                        "maximum": 3600,
                        "type": "number",
                    },
                    "repository": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "In AO_ALLOWED_ROOTS; default workspace",
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
                        "description": "Git commit range, e.g. main...HEAD; or diff_file or files",
                    },
                    "diff_file": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Unified diff file; or diff_range or files",
                    },
                    "files": {
                        "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                        "default": None,
                        "description": "Up to 100 files, reviewed whole; or diff_range or diff_file",
                    },
                    "second_opinion": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Second model (provider:model)",
                    },
                    "repository": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "In AO_ALLOWED_ROOTS; default workspace",
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
                        "description": "Files for the leader to read",
                    },
                    "second_opinion": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Second model (provider:model)",
                    },
                    "repository": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "In AO_ALLOWED_ROOTS; default workspace",
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
                        "description": "Directory patches may touch",
                    },
                    "context_files": {
                        "anyOf": [{"items": {"type": "string"}, "type": "array"}, {"type": "null"}],
                        "default": None,
                        "description": "Files for the leader to read",
                    },
                    "worker_profile": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "Saved profile id (provider:model) to use as is",
                    },
                    "write": {
                        "default": False,
                        "description": "Apply accepted patches; needs AO_ALLOW_WRITE=true, AO_DRY_RUN=false",
                        "type": "boolean",
                    },
                    "repository": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "In AO_ALLOWED_ROOTS; default workspace",
                    },
                },
                "required": ["goal"],
            },
            "fix_error": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "error_log": {"description": "File with the error output", "type": "string"},
                    "scope": {"description": "Directory the fix may touch", "type": "string"},
                    "write": {
                        "default": False,
                        "description": "Apply the checked patch; needs AO_ALLOW_WRITE=true, AO_DRY_RUN=false",
                        "type": "boolean",
                    },
                    "apply": {
                        "anyOf": [{"type": "boolean"}, {"type": "null"}],
                        "default": None,
                        "deprecated": True,
                        "description": "Deprecated alias of write",
                    },
                    "repository": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "In AO_ALLOWED_ROOTS; default workspace",
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
                "properties": {
                    "run_id": {"description": "A run id from a result, start_run or list_runs", "type": "string"}
                },
                "required": ["run_id"],
            },
            "get_artifact": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "run_id": {"description": "The run that holds the artifact", "type": "string"},
                    "artifact_id": {"description": "An artifact id from get_run", "type": "string"},
                    "offset": {
                        "default": 0,
                        "description": "First character to return",
                        "minimum": 0,
                        "type": "integer",
                    },
                    "limit": {
                        "default": 200000,
                        "description": "Characters to return",
                        "maximum": 200000,
                        "minimum": 1,
                        "type": "integer",
                    },
                },
                "required": ["run_id", "artifact_id"],
            },
            "start_run": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "tool": {
                        "description": "The workflow tool to run",
                        "enum": [
                            "review",
                            "plan",
                            "run_leader_worker",
                            "fix_error",
                            "interview_worker",
                            "interview_leader",
                        ],
                        "type": "string",
                    },
                    "arguments": {"additionalProperties": True, "description": "Its arguments", "type": "object"},
                },
                "required": ["tool", "arguments"],
            },
            "cancel_run": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"run_id": {"description": "A queued or running run", "type": "string"}},
                "required": ["run_id"],
            },
            "resume_run": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "run_id": {"description": "A cancelled, interrupted or failed run", "type": "string"}
                },
                "required": ["run_id"],
            },
            "get_usage": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "since": {
                        "default": "7d",
                        "description": "7d, 30d, today, month or YYYY-MM-DD (UTC)",
                        "type": "string",
                    },
                    "until": {
                        "anyOf": [{"type": "string"}, {"type": "null"}],
                        "default": None,
                        "description": "YYYY-MM-DD, included; default now",
                    },
                    "by": {
                        "default": "model",
                        "description": "How to group",
                        "enum": ["model", "role", "workflow"],
                        "type": "string",
                    },
                },
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


async def test_errors_name_tool_arguments_not_cli_flags(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        with pytest.raises(ToolError) as both:
            await client.call_tool("review", {"diff_range": "main...HEAD", "files": ["a.py"]})
        with pytest.raises(ToolError) as path_syntax:
            await client.call_tool("review", {"diff_range": "HEAD:.env"})
        with pytest.raises(ToolError) as no_goal:
            await client.call_tool("plan", {"goal": " "})
    assert str(both.value) == (
        "invalid request: give exactly one of `diff_range`, `diff_file` or `files` (got `diff_range` and `files`)"
    )
    assert "use `files`" in str(path_syntax.value)
    assert str(no_goal.value).startswith("invalid request: `goal` is empty")
    for error in (both, path_syntax, no_goal):
        assert "--" not in str(error.value) and "ao " not in str(error.value)
