"""The spend report tool: the call ledger by model, role or workflow over a period."""

from __future__ import annotations

from typing import Annotated, Literal

from fastmcp import FastMCP
from pydantic import Field

from agent_orchestrator.queries import usage as usage_query
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.annotations import READ_ONLY
from agent_orchestrator.server.edge import at_edge
from agent_orchestrator.store.calls import UsageReport


def add_usage_tools(server: FastMCP, runtime: Runtime) -> None:
    edge = at_edge(runtime.redact)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def get_usage(
        since: Annotated[str, Field(description="7d, 30d, today, month or YYYY-MM-DD (UTC)")] = "7d",
        until: Annotated[str | None, Field(description="YYYY-MM-DD, included; default now")] = None,
        by: Annotated[Literal["model", "role", "workflow"], Field(description="How to group")] = "model",
    ) -> UsageReport:
        """Spend over a period: calls, failures, retries, tokens, cost. No model calls."""
        return usage_query.get_usage(runtime, since, until, by)
