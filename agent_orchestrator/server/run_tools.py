"""Run tools: list runs, show one, page through an artifact; start, cancel and resume background runs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastmcp import FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from agent_orchestrator.durable.control import DurableRuns, RunTicket
from agent_orchestrator.queries import runs as runs_flow
from agent_orchestrator.queries.runs import ArtifactPage, RunList, RunView
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.annotations import READ_ONLY
from agent_orchestrator.server.edge import at_edge

BackgroundTool = Literal[
    "review", "plan", "run_leader_worker", "fix_error", "interview_worker", "interview_leader"
]
CONTROLS_RUN = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
STARTS_RUN = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)


def add_run_tools(server: FastMCP, runtime: Runtime, durable: DurableRuns) -> None:
    edge = at_edge(runtime.redact)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def list_runs(
        limit: Annotated[int, Field(ge=1, le=1000, description="How many recent runs")] = 50,
    ) -> RunList:
        """List recent workflow runs, newest first: id, workflow, status. No model calls."""
        return runs_flow.list_runs(runtime, limit)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def get_run(
        run_id: Annotated[str, Field(description="A run id from a result, start_run or list_runs")],
    ) -> RunView:
        """Show one run: status, progress, output, why it failed, nodes, usage per model, artifact ids. No
        model calls."""
        return runs_flow.get_run(runtime, run_id)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def get_artifact(
        run_id: Annotated[str, Field(description="The run that holds the artifact")],
        artifact_id: Annotated[str, Field(description="An artifact id from get_run")],
        offset: Annotated[int, Field(ge=0, description="First character to return")] = 0,
        limit: Annotated[
            int, Field(ge=1, le=runs_flow.MAX_ARTIFACT_PAGE, description="Characters to return")
        ] = runs_flow.MAX_ARTIFACT_PAGE,
    ) -> ArtifactPage:
        """Read a run's large output by pages (next_offset null at the end). No model calls."""
        return runs_flow.get_artifact(runtime, run_id, artifact_id, offset, limit)

    @server.tool(annotations=STARTS_RUN)
    @edge
    async def start_run(
        tool: Annotated[BackgroundTool, Field(description="The workflow tool to run")],
        arguments: Annotated[dict[str, Any], Field(description="Its arguments")],
    ) -> RunTicket:
        """Run a workflow tool in the background: run_id at once, poll get_run. Survives restarts and
        crashes. Cost: that tool's model calls."""
        return await durable.start(tool, arguments)

    @server.tool(annotations=CONTROLS_RUN)
    @edge
    async def cancel_run(
        run_id: Annotated[str, Field(description="A queued or running run")],
    ) -> RunView:
        """Stop a background run, nothing half-applied. No model calls."""
        await durable.cancel(run_id)
        return runs_flow.get_run(runtime, run_id)

    @server.tool(annotations=CONTROLS_RUN)
    @edge
    async def resume_run(
        run_id: Annotated[str, Field(description="A cancelled, interrupted or failed run")],
    ) -> RunTicket:
        """Continue a cancelled or interrupted run from its last finished step; retry a failed one. Cost: the
        model calls not yet made."""
        return await durable.resume(run_id)
