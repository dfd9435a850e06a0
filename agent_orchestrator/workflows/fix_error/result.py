"""What the fix-error workflow returns: errors, diagnosis, patch, checks, and what was applied.

Pydantic and domain types only, so the server can declare the `fix_error` tool's output schema
without importing the agent stack.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent_orchestrator.domain.status import FixStatus
from agent_orchestrator.repo.context import SkippedFile
from agent_orchestrator.repo.logs import ParsedError
from agent_orchestrator.repo.patch_checks import PatchCheck
from agent_orchestrator.workflows.failures import StepFailure
from agent_orchestrator.workflows.validate import CommandOutcome, ValidationReport


class ChangedFile(BaseModel):
    """One file the patch changes, its diff, and what happened to it."""

    path: str
    change: Literal["added", "deleted", "modified"]
    diff: str
    written: bool = False
    restored: bool = False


class FixResult(BaseModel):
    """The parsed errors, the fixer's diagnosis and patch, every check, and what was applied or restored."""

    run_id: str
    status: FixStatus
    reason: str
    error_log: str
    scope: str
    errors: list[ParsedError]
    context_files: list[str]
    skipped_context: list[SkippedFile]
    root_cause: str
    fix_steps: list[str]
    patch: str
    patch_checks: list[PatchCheck]
    files_changed: list[ChangedFile]
    validation_commands: list[str]
    refused_commands: list[CommandOutcome]
    validation_before: ValidationReport | None
    validation_after: ValidationReport | None
    write_reason: str
    applied: bool
    restored: bool
    backup_dir: str | None
    failure: StepFailure | None = Field(
        default=None, description="why the fixer failed (status failed); the errors and context stand"
    )
    warnings: list[str]
    usage: dict[str, int | float | None]
