"""Hostile inputs to the durable controls: unknown, foreign and finished run ids, bad engine settings."""

from __future__ import annotations

from typing import Any

import pytest
from fastmcp import Client
from pydantic import SecretStr, ValidationError

from agent_orchestrator.config import Settings
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

pytestmark = pytest.mark.anyio


async def refused(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    result = await client.call_tool(tool, arguments, raise_on_error=False)
    assert result.is_error, result.structured_content
    return str(result.content)


@pytest.mark.parametrize("tool", ["cancel_run", "resume_run"])
async def test_unknown_and_foreground_runs_are_refused_saying_why(runtime: Runtime, tool: str) -> None:
    foreground = runtime.runs.create("review", {})
    async with Client(create_server(runtime)) as client:
        assert "no run 'run_nope'" in await refused(client, tool, {"run_id": "run_nope"})
        assert "no run" in await refused(client, tool, {"run_id": "../../etc/passwd' OR 1=1 --"})
        assert "ran in the foreground" in await refused(client, tool, {"run_id": foreground})
    assert runtime.runs.get(foreground).status == "running", "a refused control changed nothing"


async def test_start_run_refuses_unknown_tools_and_smuggled_arguments(runtime: Runtime) -> None:
    async with Client(create_server(runtime)) as client:
        assert "tool: Input should be 'review'" in await refused(
            client, "start_run", {"tool": "validate", "arguments": {}}
        )
        smuggled = await refused(
            client, "start_run", {"tool": "plan", "arguments": {"goal": "x", "allow_write": True}}
        )
        assert "allow_write" in smuggled
    assert runtime.runs.list() == [], "nothing was queued"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ao_executor_concurrency", 0),
        ("ao_executor_concurrency", 10_000),
        ("ao_executor_idle_s", -1),
        ("ao_engine_retention_days", 0),
        ("ao_run_retention_days", 31),
        ("ao_provider_concurrency", "openai=many"),
    ],
)
def test_out_of_range_engine_settings_are_refused(name: str, value: object) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings(**{name: value})  # type: ignore[arg-type]


def test_a_database_url_that_is_not_postgresql_is_refused_without_echoing_it(settings: Settings) -> None:
    from agent_orchestrator.errors import AOError

    secret = "postgres-password-canary-51"
    bad = settings.model_copy(update={"ao_database_url": SecretStr(f"mysql://u:{secret}@db/x")})
    with pytest.raises((AOError, ValueError)) as refused_error:
        Runtime.create(bad)
    assert secret not in str(refused_error.value)
