"""Workflow tools: validate (and the engineering workflows)."""

from __future__ import annotations

from typing import Annotated

from fastmcp import FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.edge import at_edge
from agent_orchestrator.workflows import validate as validate_flow
from agent_orchestrator.workflows.validate import ValidationReport


def add_workflow_tools(server: FastMCP, runtime: Runtime) -> None:
    edge = at_edge(runtime.redact)

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
        ),
    )
    @edge
    async def validate(
        commands: Annotated[
            list[str], Field(description="Allowlisted commands, e.g. ['pytest -q', 'ruff check .']")
        ],
        cwd: Annotated[str | None, Field(description="Working directory inside the workspace")] = None,
        timeout_s: Annotated[float, Field(gt=0, le=3600, description="Deadline per command, seconds")] = 300.0,
    ) -> ValidationReport:
        """Run allowlisted validation commands (no shell) and return exit codes and parsed errors."""
        return await validate_flow.validate(runtime, commands, cwd=cwd, timeout_s=timeout_s)
