"""A durable leader-worker run cancelled mid-step and resumed records each judged step once, the replayed
one included."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from fastmcp import Client
from scripted_models import Reply, Request
from workflows.scripted_agents import Script, make_profile, step_plan

from agent_orchestrator.config import Settings
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

pytestmark = pytest.mark.anyio

WORKER = "openai-compatible:coder"


@dataclass
class SlowSecondStep(Script):
    """The worker's answer to step s2 takes 30 s while `slow` is set."""

    slow: bool = True
    held: int = 0

    async def _work(self, request: Request) -> Reply:
        if self.slow and "do s2" in request.prompt and "verdict" not in request.output_fields:
            self.held += 1
            await anyio.sleep(30)
        return await super()._work(request)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments, raise_on_error=False)
    assert not result.is_error, result.content
    return result.structured_content or {}


async def finished(client: Client, run_id: str) -> dict[str, Any]:
    with anyio.fail_after(20):
        while (view := await call(client, "get_run", {"run_id": run_id}))["status"] in ("queued", "running"):
            await anyio.sleep(0.05)
    return view


def reject(step_id: str, n: int, prompt: str) -> dict[str, Any]:
    return {"verdict": "reject", "feedback": "not what was asked"} if step_id == "s1" else {"verdict": "accept"}


async def test_a_resumed_run_records_each_judged_step_once(settings: Settings) -> None:
    script = SlowSecondStep([step_plan(("s1", "summarization", []), ("s2", "summarization", []))], review=reject)
    runtime = Runtime.create(settings, script.factory())
    runtime.profiles.save(make_profile("coder", "active", ["summarization"]))
    async with Client(create_server(runtime, may_execute=True)) as client:
        ticket = await call(client, "start_run", {"tool": "run_leader_worker", "arguments": {"goal": "two"}})
        with anyio.fail_after(20):
            while not script.held or not script.of("review", "s1"):
                await anyio.sleep(0.05)
        assert (await call(client, "cancel_run", {"run_id": ticket["run_id"]}))["status"] == "cancelled"
        assert runtime.profiles.get(WORKER).track_record.entries == [], "nothing is recorded before the steps end"
        script.slow = False
        await call(client, "resume_run", {"run_id": ticket["run_id"]})
        view = await finished(client, ticket["run_id"])
    assert view["status"] == "partial", view["reason"]
    assert len(script.of("step", "s1")) == 1, "the finished step was replayed, not asked again"
    entries = runtime.profiles.get(WORKER).track_record.entries
    assert [(e.step_id, e.verdict, e.run_id) for e in entries] == [
        ("s1", "rejected", ticket["run_id"]),
        ("s2", "accepted", ticket["run_id"]),
    ]
