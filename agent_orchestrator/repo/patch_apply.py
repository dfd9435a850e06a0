"""Write a checked patch with a snapshot of the originals, and put every original back when a write fails.

Leader-worker (accepted step patches) and fix-error (the checked fix) both write through
`apply_patch_with_restore`. The snapshot is each file's text when the patch was checked
(`PatchedFile.before`): in memory always and, when the caller names a backup dir, on disk too
(`files/<path>` and `manifest.json`), unless the text holds a secret-shaped value (secrets are
never stored). Nothing is written when a file changed since the check. A restore puts each
original back (deleting files the patch created) only where the file still holds what the patch
wrote, then reads it again to prove it is the original; a file someone else changed meanwhile is
left alone and reported, so that change is not lost either. Every write goes through
`SafetyPolicy.write` (atomic, audited) under the run's one `WriteDecision`, made by the write policy
when the workflow started: nothing here decides again.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agent_orchestrator.errors import AOError
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.policies.writes import WriteDecision
from agent_orchestrator.repo.patching import PatchedFile, current_text
from agent_orchestrator.store.atomic import atomic_write_text

ApplyStatus = Literal["applied", "stale", "failed"]


@dataclass(frozen=True)
class RestoreResult:
    """The written files that are their original again, and what could not be restored (empty: all)."""

    restored: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApplyResult:
    """`applied`; `stale` (a file changed since the check: nothing written); `failed` (a write failed).

    `written` names the files the patch wrote (before any restore); after a failure `restore` says
    which of them are their original again. `warnings` name originals kept in memory only.
    """

    status: ApplyStatus
    detail: str
    written: tuple[str, ...] = ()
    restore: RestoreResult = field(default_factory=RestoreResult)
    warnings: tuple[str, ...] = ()

    @property
    def applied(self) -> bool:
        return self.status == "applied"


def apply_patch_with_restore(
    safety: SafetyPolicy,
    changes: Sequence[PatchedFile],
    decision: WriteDecision,
    *,
    backup_dir: Path | None = None,
) -> ApplyResult:
    """Snapshot the originals, write each file under `decision`, restore all if one write fails."""
    if stale := changed_since_check(safety, changes):
        return ApplyResult("stale", f"{', '.join(stale)} changed since the patch was checked; nothing written")
    warnings = backup_originals(safety, changes, backup_dir) if backup_dir is not None else ()
    written: list[str] = []
    not_written = ""
    for change in changes:
        try:
            result = safety.write(change.path, change.after, decision=decision)
            if result.written:
                written.append(change.path)
            else:
                not_written = result.reason
        except BaseException as exc:
            restore = restore_originals(safety, changes, written, decision)
            if not isinstance(exc, AOError | OSError):
                raise  # interrupted mid-apply: the originals are back, the interruption goes on
            detail = f"writing {change.path!r} failed: {exc}"
            return ApplyResult("failed", detail, tuple(written), restore, warnings)
    detail = f"applied to {', '.join(written)}" if written else f"nothing written: {not_written}"
    return ApplyResult("applied", detail, tuple(written), warnings=warnings)


def changed_since_check(safety: SafetyPolicy, changes: Sequence[PatchedFile]) -> list[str]:
    """The paths whose text is no longer what the patch was checked against."""
    return [change.path for change in changes if current_text(safety, change.path) != change.before]


def backup_originals(safety: SafetyPolicy, changes: Sequence[PatchedFile], backup_dir: Path) -> tuple[str, ...]:
    """Copy the originals under `backup_dir` first, so even a crash mid-apply loses nothing; the warnings.

    A file holding a secret-shaped value stays in memory only: secrets are never stored.
    """
    warnings: list[str] = []
    for original in changes:
        if original.before is None:
            continue
        if safety.redact(original.before) != original.before:
            warnings.append(f"{original.path!r} holds a secret-shaped value: its backup is kept in memory only")
        else:
            atomic_write_text(backup_dir / "files" / original.path, original.before)
    existed = {change.path: change.before is not None for change in changes}
    atomic_write_text(backup_dir / "manifest.json", json.dumps({"existed": existed}, indent=2))
    return tuple(warnings)


def restore_originals(
    safety: SafetyPolicy, changes: Sequence[PatchedFile], written: Collection[str], decision: WriteDecision
) -> RestoreResult:
    """Put back every original the patch replaced, last file first, and prove each is the original again.

    Synchronous on purpose: a cancellation cannot stop it half-way.
    """
    restored: list[str] = []
    problems: list[str] = []
    for change in reversed(changes):
        try:
            current = current_text(safety, change.path)
            if current not in (change.before, change.after):
                problems.append(f"{change.path!r} changed during the run; left as it is")
                continue
            if current != change.before:
                safety.write(change.path, change.before, decision=decision)
            if current_text(safety, change.path) != change.before:
                problems.append(f"{change.path!r} still differs from the original")
                continue
        except (AOError, OSError) as exc:
            problems.append(f"{change.path!r}: {exc}")
            continue
        if change.path in written:
            restored.append(change.path)
    return RestoreResult(tuple(reversed(restored)), tuple(problems))
