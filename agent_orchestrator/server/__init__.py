"""The FastMCP server: app factory, tools, resources, prompts, the error edge, HTTP serving, logging.
Thin: every tool delegates to a workflow or a query. Only the CLI imports it.
"""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above
