"""Applying the checked fix and taking it back, through the one apply-with-restore of `repo.patch_apply`.

Fix-error adds three things on top: the originals are also backed up under
`<state dir>/fix-backups/<run_id>/` before anything is written (unless they hold a secret-shaped
value); each changed file of the run's result is marked written and restored as it happens; and
the write is one recorded step of a durable run. A run killed in the middle of the write runs the
step again when it resumes: files already holding the patch's text are first put back to the
original, so the patch is then applied whole (or found stale), never left half-written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from agent_orchestrator.domain.steps import recorded_step
from agent_orchestrator.policies.writes import WriteDecision
from agent_orchestrator.repo.patch_apply import (
    ApplyStatus,
    RestoreResult,
    apply_patch_with_restore,
    restore_originals,
)
from agent_orchestrator.repo.patching import PatchedFile
from agent_orchestrator.store.atomic import ensure_state_dir
from agent_orchestrator.workflows.recorder import RunContext


class FileMarks(Protocol):
    """What a run records per changed file: whether the patch wrote it and whether it was restored."""

    written: bool
    restored: bool


def backup_dir(run: RunContext) -> Path:
    """Where this run backs up the originals: `<state dir>/fix-backups/<run_id>/` (the state dir made private)."""
    state_dir = run.runtime.settings.ao_state_dir
    ensure_state_dir(state_dir)
    return state_dir / "fix-backups" / run.run_id


class AppliedFix(BaseModel):
    """What the write did (recorded, so a resumed run knows without writing again)."""

    status: ApplyStatus
    detail: str
    written: list[str]
    restored: list[str]


async def apply_fix(
    run: RunContext,
    patched: Sequence[PatchedFile],
    marks: Mapping[str, FileMarks],
    decision: WriteDecision,
    backup: Path,
) -> AppliedFix:
    """Apply with restore, backing the originals up under `backup` first; the marks follow what happened."""

    async def write() -> AppliedFix:
        # A file holding the patch's text here was written by an attempt killed mid-write: put it back first.
        restore_originals(run.runtime.safety, patched, (), decision)
        applied = apply_patch_with_restore(run.runtime.safety, patched, decision, backup_dir=backup)
        for warning in applied.warnings:
            run.warn(warning)
        return AppliedFix(
            status=applied.status,
            detail=applied.detail,
            written=list(applied.written),
            restored=list(applied.restore.restored),
        )

    result = await recorded_step("apply fix", write)
    for path in result.written:
        marks[path].written = True
    _mark_restored(RestoreResult(tuple(result.restored)), marks)
    return result


def restore_fix(
    run: RunContext, patched: Sequence[PatchedFile], marks: Mapping[str, FileMarks], decision: WriteDecision
) -> list[str]:
    """Put every original back (under the run's write decision); the problems, empty when all are originals."""
    written = [path for path, mark in marks.items() if mark.written]
    restore = restore_originals(run.runtime.safety, patched, written, decision)
    _mark_restored(restore, marks)
    return list(restore.problems)


def _mark_restored(restore: RestoreResult, marks: Mapping[str, FileMarks]) -> None:
    for path in restore.restored:
        marks[path].restored = True
