"""Background runs in-process: start_run returns at once, get_run follows it, cancel and resume work."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from fastmcp import Client
from scripted_models import Reply, Request
from workflows.scripted_agents import Script, step_plan

from agent_orchestrator.config import Settings
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

pytestmark = pytest.mark.anyio

TWO_STEPS = step_plan(("s1", "summarization", []), ("s2", "codegen", ["s1"]))


async def poll(client: Client, run_id: str, until: tuple[str, ...], timeout: float = 20) -> dict[str, Any]:
    with anyio.fail_after(timeout):
        while True:
            view = (await client.call_tool("get_run", {"run_id": run_id})).structured_content or {}
            if view["status"] in until:
                return view
            await anyio.sleep(0.05)


async def test_a_background_plan_runs_on_this_server_and_its_result_is_in_get_run(settings: Settings) -> None:
    runtime = Runtime.create(settings, Script([TWO_STEPS]).factory())
    async with Client(create_server(runtime, may_execute=True)) as client:
        ticket = (
            await client.call_tool("start_run", {"tool": "plan", "arguments": {"goal": "write docs"}})
        ).structured_content
        assert ticket is not None and ticket["status"] == "queued" and ticket["executor"] == "this server"
        view = await poll(client, ticket["run_id"], ("succeeded", "failed", "partial"))
    assert view["status"] == "succeeded", view["reason"]
    assert view["workflow"] == "planning" and view["engine"] == "dbos"
    assert [step["id"] for step in view["output"]["steps"]] == ["s1", "s2"]
    assert view["progress"] is not None and view["progress"]["done"] >= 1
    assert view["models"][0]["calls"] == 1


@dataclass
class SlowSecondStep(Script):
    """Step s2 takes 30 s while `slow` holds it."""

    slow: set[str] = field(default_factory=lambda: {"s2"})
    held: int = 0

    async def _work(self, request: Request) -> Reply:
        if "s2" in self.slow and "do s2" in request.prompt and "verdict" not in request.output_fields:
            self.held += 1
            await anyio.sleep(30)
        return await super()._work(request)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments, raise_on_error=False)
    assert not result.is_error, result.content
    return result.structured_content or {}


async def test_a_cancelled_run_stops_at_once_and_resumes_without_repeating_its_finished_steps(
    settings: Settings,
) -> None:
    chain = step_plan(("s1", "summarization", []), ("s2", "summarization", ["s1"]))
    script = SlowSecondStep([chain])
    runtime = Runtime.create(settings, script.factory())
    async with Client(create_server(runtime, may_execute=True)) as client:
        ticket = await call(
            client, "start_run", {"tool": "run_leader_worker", "arguments": {"goal": "two things"}}
        )
        run_id = ticket["run_id"]
        with anyio.fail_after(20):
            while not script.held:
                await anyio.sleep(0.05)
        with anyio.fail_after(5):
            cancelled = await call(client, "cancel_run", {"run_id": run_id})
        assert cancelled["status"] == "cancelled", cancelled
        assert [(n["name"], n["status"]) for n in cancelled["nodes"] if n["name"].startswith("RunStep ")] == [
            ("RunStep s1", "succeeded"),
            ("RunStep s2", "cancelled"),
        ]
        again = await client.call_tool("cancel_run", {"run_id": run_id}, raise_on_error=False)
        assert again.is_error and "already ended (cancelled)" in str(again.content)

        script.slow.clear()
        resumed = await call(client, "resume_run", {"run_id": run_id})
        assert resumed["run_id"] == run_id and resumed["status"] == "queued"
        view = await poll(client, run_id, ("succeeded", "failed", "partial"))
    assert view["status"] == "succeeded", view["reason"]
    assert len(script.of("plan")) == 1 and len(script.of("step", "s1")) == 1, "finished work is not asked again"
    assert script.held == 1 and len(script.of("step", "s2")) == 1, "the step cancelled in flight is asked again"
    assert [n["status"] for n in view["nodes"] if n["name"] == "RunStep s2"] == ["succeeded"]
    assert view["output"]["status"] == "succeeded"


async def test_a_blocking_call_on_a_server_that_executes_runs_durably_with_progress(settings: Settings) -> None:
    runtime = Runtime.create(settings, Script([TWO_STEPS]).factory())
    seen: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    async with Client(create_server(runtime, may_execute=True)) as client:
        result = await client.call_tool("plan", {"goal": "write docs"}, progress_handler=on_progress)
        plan = result.structured_content or {}
        runs = (await call(client, "list_runs", {}))["runs"]
    assert [step["id"] for step in plan["steps"]] == ["s1", "s2"]
    assert len(runs) == 1 and runs[0]["run_id"] == plan["run_id"] and runs[0]["status"] == "succeeded"
    record = runtime.runs.get(plan["run_id"])
    assert record.engine == "dbos", "the server ran it on the durable engine"
    assert any("DraftSteps" in message for message in seen), seen


async def test_a_blocking_durable_call_that_fails_says_why_as_the_inline_one_does(settings: Settings) -> None:
    broken = step_plan(("s1", "summarization", ["nope"]))
    runtime = Runtime.create(settings, Script([broken]).factory())
    async with Client(create_server(runtime, may_execute=True)) as client:
        result = await client.call_tool("plan", {"goal": "write docs"}, raise_on_error=False)
    assert result.is_error
    assert "unknown step 'nope'" in str(result.content)
    [run] = runtime.runs.list()
    assert run.status == "failed" and "unknown step 'nope'" in run.reason


async def test_the_engine_forgets_ended_runs_after_its_retention_and_resume_says_so(settings: Settings) -> None:
    from datetime import UTC, datetime, timedelta

    from agent_orchestrator.durable.database import EngineDatabase, client
    from agent_orchestrator.durable.retention import prune_engine

    runtime = Runtime.create(settings, Script([TWO_STEPS]).factory())
    async with Client(create_server(runtime, may_execute=True)) as mcp:
        ticket = await call(mcp, "start_run", {"tool": "plan", "arguments": {"goal": "write docs"}})
        await poll(mcp, ticket["run_id"], ("succeeded",))
        engine = client(EngineDatabase.of(settings), runtime.redact)
        try:
            assert await prune_engine(engine, 7) == 0, "a run that ended now is kept"
            assert await prune_engine(engine, 7, now=datetime.now(UTC) + timedelta(days=8)) == 1
        finally:
            engine.destroy()
        refused = await mcp.call_tool("resume_run", {"run_id": ticket["run_id"]}, raise_on_error=False)
        kept = await call(mcp, "get_run", {"run_id": ticket["run_id"]})
    assert refused.is_error and "no longer in the durable engine" in str(refused.content)
    assert kept["status"] == "succeeded" and kept["output"] is not None, "our record outlives the engine's"


async def test_a_failed_run_is_retried_from_its_last_step_as_a_new_run(settings: Settings) -> None:
    broken = step_plan(("s1", "summarization", ["nope"]))
    script = Script([broken, broken, TWO_STEPS])  # the third answer (asked only by the retry) is good
    runtime = Runtime.create(settings, script.factory())
    async with Client(create_server(runtime, may_execute=True)) as client:
        ticket = await call(client, "start_run", {"tool": "plan", "arguments": {"goal": "write docs"}})
        failed = await poll(client, ticket["run_id"], ("failed",))
        retry = await call(client, "resume_run", {"run_id": ticket["run_id"]})
        assert retry["retry_of"] == ticket["run_id"] and retry["run_id"] != ticket["run_id"]
        view = await poll(client, retry["run_id"], ("succeeded", "failed"))
    assert "unknown step 'nope'" in failed["reason"]
    assert view["status"] == "succeeded" and view["parent_run_id"] == ticket["run_id"]
    assert len(script.of("plan")) == 3, "the retry kept the first leader call and asked only the last again"
