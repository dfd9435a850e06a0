"""`ao`'s exit codes: 0 success, 1 the workflow failed or refused (`domain.status.EXIT_CODES`), 2 bad usage."""

from __future__ import annotations

from agent_orchestrator.domain.status import EXIT_FAILED, EXIT_OK

EXIT_USAGE = 2

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE"]
