"""Run record tools: list runs, show one, page through an artifact."""

from __future__ import annotations

from typing import Annotated

from fastmcp import FastMCP
from pydantic import Field

from agent_orchestrator.queries import runs as runs_flow
from agent_orchestrator.queries.runs import ArtifactPage, RunList
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.annotations import READ_ONLY
from agent_orchestrator.server.edge import at_edge
from agent_orchestrator.store.runs import RunRecord


def add_run_tools(server: FastMCP, runtime: Runtime) -> None:
    edge = at_edge(runtime.redact)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def list_runs(
        limit: Annotated[int, Field(ge=1, le=1000, description="How many recent runs")] = 50,
    ) -> RunList:
        """List recent workflow runs, newest first."""
        return runs_flow.list_runs(runtime, limit)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def get_run(run_id: Annotated[str, Field(description="A run id, e.g. run_0123abcd4567")]) -> RunRecord:
        """Show one run: inputs (redacted), status and reason, nodes with timings, usage, artifacts."""
        return runs_flow.get_run(runtime, run_id)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def get_artifact(
        run_id: str,
        artifact_id: str,
        offset: Annotated[int, Field(ge=0)] = 0,
        limit: Annotated[int, Field(ge=1, le=runs_flow.MAX_ARTIFACT_PAGE)] = runs_flow.MAX_ARTIFACT_PAGE,
    ) -> ArtifactPage:
        """Read a run's large output (a diff, a log) page by page."""
        return runs_flow.get_artifact(runtime, run_id, artifact_id, offset, limit)
