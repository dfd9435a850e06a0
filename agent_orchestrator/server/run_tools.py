"""Run record tools: list runs, show one, page through an artifact."""

from __future__ import annotations

from typing import Annotated

from fastmcp import FastMCP
from pydantic import Field

from agent_orchestrator.queries import runs as runs_flow
from agent_orchestrator.queries.runs import ArtifactPage, RunList, RunView
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.annotations import READ_ONLY
from agent_orchestrator.server.edge import at_edge


def add_run_tools(server: FastMCP, runtime: Runtime) -> None:
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
        run_id: Annotated[str, Field(description="A run id from a workflow result or list_runs")],
    ) -> RunView:
        """Show one run: inputs (redacted), status and reason, why it failed in one line, nodes with timings,
        usage and cost per model, artifact ids. No model calls. Fails on an unknown run_id."""
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
        """Read a run's large output (a diff, a log) page by page (next_offset is null at the end).
        No model calls. Fails on an unknown run_id or artifact_id."""
        return runs_flow.get_artifact(runtime, run_id, artifact_id, offset, limit)
