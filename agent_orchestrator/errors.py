"""One exception hierarchy for the whole package.

Every error carries a message that says what was wrong and what to do about it. The server edge
converts these to MCP `ToolError`s and the CLI prints them without a traceback.
"""

from __future__ import annotations


class AOError(Exception):
    """Base of every error agent-orchestrator raises on purpose."""

    exit_code: int = 1


class UsageError(AOError):
    """The caller asked for something malformed (bad flag, bad id, bad value)."""

    exit_code = 2


class ConfigError(UsageError):
    """The environment or `.env` configuration is missing or invalid."""


class ProviderError(ConfigError):
    """A `provider:model` string or its settings cannot become a model."""


class NotFoundError(AOError):
    """A requested record (worker profile, run) does not exist."""


class StoreError(AOError):
    """State under the state dir cannot be read or written safely."""


class StoreCorruptError(StoreError):
    """A state file exists but is not valid; it is reported and never overwritten silently."""


class ToolchainMissingError(AOError):
    """An optional external toolchain (Node.js, TypeScript, the local model) is not installed."""


class PolicyViolation(AOError):
    """Policy refused an action (a command, a path, a write); the message says which rule and why."""

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule
