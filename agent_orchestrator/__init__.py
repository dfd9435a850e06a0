"""agent-orchestrator: an MCP-first orchestration server for multi-model engineering work."""

from __future__ import annotations

__version__ = "0.1.0"
