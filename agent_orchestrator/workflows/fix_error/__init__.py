"""The fix-error workflow: parse a log, propose a checked patch, apply and validate it when allowed.

`graph` holds the graph and `fix_error()`; `context` gathers the scoped files; `checks` checks the
proposed patch; `apply` writes it with a snapshot and restores on failure.
"""

from __future__ import annotations

from agent_orchestrator.workflows.fix_error.graph import FIX_NODES, GRAPH, FixResult, fix_error

__all__ = ["FIX_NODES", "GRAPH", "FixResult", "fix_error"]
