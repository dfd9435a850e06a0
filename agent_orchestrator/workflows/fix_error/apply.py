"""Applying a checked patch and taking it back: snapshot the originals, write the files, restore them.

The originals are kept in memory (`PatchedFile.before`) and, unless they hold a secret-shaped
value, under `<state dir>/fix-backups/<run_id>/`, before anything is written. A restore puts each
original back (deleting files the patch created) only where the file still holds what the patch
wrote, then reads it again to prove it is the original.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Protocol

from agent_orchestrator.errors import AOError
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.repo.patching import PatchedFile, current_text
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.atomic import atomic_write_text, ensure_state_dir
from agent_orchestrator.workflows.recorder import RunContext


class FileMarks(Protocol):
    """What a run records per changed file: whether the patch wrote it and whether it was restored."""

    written: bool
    restored: bool


def changed_since_check(safety: SafetyPolicy, patched: Sequence[PatchedFile]) -> list[str]:
    """The paths whose text is no longer what the patch was checked against."""
    return [p.path for p in patched if current_text(safety, p.path) != p.before]


def backup_originals(runtime: Runtime, run: RunContext, patched: Sequence[PatchedFile]) -> str:
    """Copy the originals under the state dir first, so even a crash mid-apply loses nothing.

    A file holding a secret-shaped value stays in memory only: secrets are never stored.
    """
    ensure_state_dir(runtime.settings.ao_state_dir)
    backup = runtime.settings.ao_state_dir / "fix-backups" / run.run_id
    existed = {p.path: p.before is not None for p in patched}
    for original in patched:
        if original.before is not None and runtime.redact(original.before) != original.before:
            run.warn(f"{original.path!r} holds a secret-shaped value: its backup is kept in memory only")
        elif original.before is not None:
            atomic_write_text(backup / "files" / original.path, original.before)
    atomic_write_text(backup / "manifest.json", json.dumps({"existed": existed}, indent=2))
    return str(backup)


def write_patched(
    safety: SafetyPolicy, patched: Sequence[PatchedFile], marks: Mapping[str, FileMarks]
) -> str | None:
    """Write each patched file atomically, marking it written as it goes; why a write failed, or None."""
    for file in patched:
        try:
            written = safety.write(file.path, file.after, requested=True).written
        except (AOError, OSError) as exc:
            return f"writing {file.path!r} failed: {exc}"
        marks[file.path].written = written
    return None


def restore_originals(
    safety: SafetyPolicy, patched: Sequence[PatchedFile], marks: Mapping[str, FileMarks]
) -> list[str]:
    """Put back every original the patch replaced; the problems, empty when every file is its original again.

    A file that is neither the original nor what the patch wrote was changed by someone else
    meanwhile: it is left alone and reported, so that change is not lost either.
    """
    problems: list[str] = []
    for file in reversed(patched):
        try:
            current = current_text(safety, file.path)
            if current not in (file.before, file.after):
                problems.append(f"{file.path!r} changed during the run; left as it is")
                continue
            if current != file.before:
                safety.write(file.path, file.before, requested=True)
            if current_text(safety, file.path) != file.before:
                problems.append(f"{file.path!r} still differs from the original")
                continue
        except (AOError, OSError) as exc:
            problems.append(f"{file.path!r}: {exc}")
            continue
        marks[file.path].restored = marks[file.path].written
    return problems
