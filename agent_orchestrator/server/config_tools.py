"""The configuration tool: every setting with where it came from (never a secret's value)."""

from __future__ import annotations

from fastmcp import FastMCP

from agent_orchestrator.config.sources import ConfigReport
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.annotations import READ_ONLY
from agent_orchestrator.server.edge import at_edge


def add_config_tools(server: FastMCP, runtime: Runtime) -> None:
    edge = at_edge(runtime.redact)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def show_config() -> ConfigReport:
        """Show every setting and its origin (environment, user config file:line, default) and workspace
        .env settings that were ignored. Secrets show only whether they are set. No model calls."""
        return runtime.settings.report()
