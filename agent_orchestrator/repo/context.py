"""Scoped file context: the files a workflow may show a model, only inside the scope, size-capped."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from agent_orchestrator.errors import AOError, PolicyViolation
from agent_orchestrator.policies.safety import SafetyPolicy

MAX_FILE_BYTES = 64_000
MAX_TOTAL_BYTES = 256_000


class FileContext(BaseModel):
    """One file's (possibly truncated) text, relative to the workspace root."""

    path: str
    text: str
    truncated: bool
    size: int


class SkippedFile(BaseModel):
    path: str
    reason: str


class ScopedContext(BaseModel):
    scope: str
    files: list[FileContext]
    skipped: list[SkippedFile]


def gather_context(
    safety: SafetyPolicy,
    scope: str | Path | None,
    paths: list[str],
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> ScopedContext:
    """Read the named files that lie inside `scope`; the rest are skipped with the reason."""
    scope_dir = safety.resolve_dir(scope)
    files: list[FileContext] = []
    skipped: list[SkippedFile] = []
    budget = max_total_bytes
    for name in dict.fromkeys(paths):
        reason = _outside_scope(safety, scope_dir, name)
        if reason is None and budget <= 0:
            reason = f"context budget of {max_total_bytes} bytes used up"
        if reason is not None:
            skipped.append(SkippedFile(path=name, reason=reason))
            continue
        try:
            read = safety.read_file(name, max_bytes=min(max_file_bytes, budget))
        except AOError as exc:
            skipped.append(SkippedFile(path=name, reason=str(exc)))
            continue
        budget -= len(read.text.encode())
        files.append(
            FileContext(
                path=safety.paths.relative(read.path), text=read.text, truncated=read.truncated, size=read.size
            )
        )
    return ScopedContext(scope=safety.paths.relative(scope_dir) or ".", files=files, skipped=skipped)


def _outside_scope(safety: SafetyPolicy, scope_dir: Path, name: str) -> str | None:
    try:
        resolved = safety.paths.resolve_read(name)
    except PolicyViolation as exc:
        return str(exc)
    if not resolved.is_relative_to(scope_dir):
        return f"outside the scope {safety.paths.relative(scope_dir) or '.'!r}"
    return None
