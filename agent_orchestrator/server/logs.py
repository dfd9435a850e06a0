"""Logging for a server process: stderr only, at LOG_LEVEL, every handler redacting.

stdout belongs to results (and, under `mcp serve` over stdio, to the protocol alone).
"""

from __future__ import annotations

import logging
import sys

from agent_orchestrator.config import Settings
from agent_orchestrator.policies.redaction import RedactingFilter, Redactor


def configure_logging(settings: Settings) -> None:
    """Send logs to stderr at `settings.log_level`, redacted with the configured secrets."""
    level = settings.log_level
    logging.basicConfig(stream=sys.stderr, level=level, format="%(levelname)s %(name)s: %(message)s")
    import fastmcp  # noqa: F401  # pyright: ignore[reportUnusedImport] - importing it configures its logger

    # fastmcp logs every tool error it relays; the CLI prints the error itself.
    logging.getLogger("fastmcp").setLevel(level if level == "DEBUG" else "CRITICAL")
    redacting = RedactingFilter(Redactor(settings.secret_values()))
    for logger in (logging.getLogger(), logging.getLogger("fastmcp")):
        for handler in logger.handlers:
            handler.addFilter(redacting)
