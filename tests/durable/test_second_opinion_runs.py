"""A second opinion through the durable engine: a blocking review and a background one, each call a recorded step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client
from workflows.second_opinion_models import (
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


def marks(review: dict[str, Any]) -> list[tuple[int, str]]:
    return [(risk["line"], risk["agreement"]) for risk in review["risks"]]


async def test_a_blocking_review_with_a_second_opinion_runs_durably(settings: Settings, models: TwoModels) -> None:
    runtime = models.runtime(settings)
    async with Client(create_server(runtime, may_execute=True)) as client:
        result = await client.call_tool("review", {"files": ["notes.md"], "second_opinion": SECOND})
    review = result.structured_content or {}
    assert marks(review) == [(1, "confirmed"), (2, "single-source"), (3, "single-source")]
    record = runtime.runs.get(review["run_id"])
    assert record.engine == "dbos" and record.status == "succeeded"
    assert record.inputs["second_opinion"] == SECOND
    assert len(models.leader.requests) == 1 and len(models.second.requests) == 1


async def test_a_background_review_with_a_second_opinion_has_its_marks_in_get_run(
    settings: Settings, models: TwoModels
) -> None:
    runtime = models.runtime(settings)
    arguments = {"files": ["notes.md"], "second_opinion": SECOND}
    async with Client(create_server(runtime, may_execute=True)) as client:
        ticket = (
            await client.call_tool("start_run", {"tool": "review", "arguments": arguments})
        ).structured_content
        assert ticket is not None
        with anyio.fail_after(20):
            while True:
                view = (await client.call_tool("get_run", {"run_id": ticket["run_id"]})).structured_content or {}
                if view["status"] not in ("queued", "running"):
                    break
                await anyio.sleep(0.05)
    assert view["status"] == "succeeded", view["reason"]
    assert marks(view["output"]) == [(1, "confirmed"), (2, "single-source"), (3, "single-source")]
    assert {(m["role"], m["model_id"]) for m in view["models"]} == {
        ("leader", "openai-compatible:leader"),
        ("second-opinion", SECOND),
    }


async def test_each_models_parts_are_recorded_steps_leader_first(settings: Settings, models: TwoModels) -> None:
    """Drawn in a fixed order before any call, so a resumed run finds its recorded answers in place."""
    from agent_orchestrator.durable.database import EngineDatabase, client

    runtime = models.runtime(settings)
    async with Client(create_server(runtime, may_execute=True)) as mcp:
        result = await mcp.call_tool("review", {"files": ["notes.md"], "second_opinion": SECOND})
        engine = client(EngineDatabase.of(settings), runtime.redact)
        try:
            steps = await engine.list_workflow_steps_async((result.structured_content or {})["run_id"])
        finally:
            engine.destroy()
    assert [step["function_name"] for step in steps] == ["review part 1", "second opinion part 1"]
