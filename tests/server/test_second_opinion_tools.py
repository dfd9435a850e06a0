"""`review` and `plan` take `second_opinion` over MCP and through `start_run`, checked before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastmcp import Client
from workflows.second_opinion_models import (
    PLAN_LEADER,
    PLAN_SECOND,
    SECOND,
    TwoModels,
    reviewing,
)

from agent_orchestrator.config import Settings
from agent_orchestrator.server.app import create_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def models(isolated_env: Path) -> TwoModels:
    return reviewing(isolated_env)


async def test_review_over_mcp_marks_what_both_models_cite(settings: Settings, models: TwoModels) -> None:
    async with Client(create_server(models.runtime(settings))) as client:
        result = await client.call_tool("review", {"files": ["notes.md"], "second_opinion": SECOND})
    data = result.structured_content or {}
    assert [(r["line"], r["agreement"]) for r in data["risks"]] == [
        (1, "confirmed"),
        (2, "single-source"),
        (3, "single-source"),
    ]
    assert data["second_opinion"]["confirmed"] == 1 and data["second_opinion"]["single_source"] == 2


async def test_plan_over_mcp_compares_the_second_draft(settings: Settings) -> None:
    models = TwoModels(PLAN_LEADER, PLAN_SECOND)
    async with Client(create_server(models.runtime(settings))) as client:
        result = await client.call_tool("plan", {"goal": "migrate the users table", "second_opinion": SECOND})
    data = result.structured_content or {}
    assert [r["agreement"] for r in data["risks"]] == ["confirmed", "single-source", "single-source"]
    assert data["second_opinion"]["steps_with_counterpart"] == ["s1", "s2"]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [("review", {"files": ["notes.md"]}), ("plan", {"goal": "migrate the users table"})],
)
@pytest.mark.parametrize("may_execute", [False, True])
async def test_a_bad_second_opinion_is_an_invalid_request_and_nothing_is_run_or_queued(
    settings: Settings, models: TwoModels, tool: str, arguments: dict[str, object], may_execute: bool
) -> None:
    runtime = models.runtime(settings)
    async with Client(create_server(runtime, may_execute=may_execute)) as client:
        direct = await client.call_tool(tool, {**arguments, "second_opinion": "nowhere:x"}, raise_on_error=False)
        background = await client.call_tool(
            "start_run",
            {"tool": tool, "arguments": {**arguments, "second_opinion": "openai-compatible:leader"}},
            raise_on_error=False,
        )
    assert direct.is_error and "invalid request: `second_opinion`: unknown provider 'nowhere'" in str(
        direct.content
    )
    assert background.is_error and "is the leader itself" in str(background.content)
    assert runtime.runs.list() == [] and not models.leader.requests and not models.second.requests
