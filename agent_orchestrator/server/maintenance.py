"""Local maintenance the CLI runs through here (not MCP tools: no caller may delete records)."""

from __future__ import annotations

from agent_orchestrator.config import Settings
from agent_orchestrator.runtime import Runtime


async def prune_runs(settings: Settings, *, vacuum: bool) -> dict[str, object]:
    """`ao runs prune`: apply the retentions now (see `durable.retention`); what was removed."""
    from agent_orchestrator.durable.retention import prune_now

    report = await prune_now(Runtime.create(settings), vacuum=vacuum)
    return report.model_dump()
