"""The one deterministic check of a proposed patch: parse, paths in scope, exact application, `git apply --check`.

Leader-worker (a step's patch) and fix-error (the fixer's patch) both go through `check_patch`, so
the same patch is refused for the same reason under the same check name whichever workflow made
it. The checks run in order and the first failure stops the ones after it:

- `patch.parse`: a unified diff `repo.patching` can apply (no renames, binaries, files named twice);
- `patch.paths`: every target through the audited path rules of `SafetyPolicy` (sensitive files,
  `.git/`, the state dir refused) and inside the scope, its current text readable as UTF-8;
- `patch.apply`: every hunk applies exactly, in memory, to the current text, and something changes;
- `git apply --check`: git agrees, in a scratch copy of those files (never the workspace); it is
  `skipped` where git cannot run, and the exact application above still stands.

No model is involved and nothing here writes to the workspace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel

from agent_orchestrator.errors import AOError, PolicyViolation
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.repo.patching import (
    FilePatch,
    PatchedFile,
    apply_patch,
    current_text,
    git_apply_check,
    read_patch,
)

PatchCheckName = Literal["patch.parse", "patch.paths", "patch.apply", "git apply --check"]
PATCH_CHECK_NAMES: tuple[PatchCheckName, ...] = get_args(PatchCheckName)
PatchCheckStatus = Literal["passed", "failed", "skipped"]
OUTSIDE_SCOPE_RULE = "patch.outside_scope"


class PatchCheck(BaseModel):
    """One of the patch checks and how it went; `skipped` means it could not run (git missing)."""

    name: PatchCheckName
    status: PatchCheckStatus
    detail: str


@dataclass
class PatchCheckResult:
    """The checks that ran, in order, the files before and after (once they apply), and a policy refusal's rule.

    `listener` hears each check as it finishes, so a caller can record it before the next one runs.
    """

    checks: list[PatchCheck] = field(default_factory=list[PatchCheck])
    patched: list[PatchedFile] = field(default_factory=list[PatchedFile])
    refusal_rule: str | None = None
    listener: Callable[[PatchCheck], None] | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """Every check passed or was skipped."""
        return self.failure is None

    @property
    def failure(self) -> str | None:
        """The first failed check's detail (it says why), or None."""
        return next((check.detail for check in self.checks if check.status == "failed"), None)

    def add(self, name: PatchCheckName, status: PatchCheckStatus, detail: str) -> bool:
        """Record one check (and tell the listener); whether the checks after it may run."""
        check = PatchCheck(name=name, status=status, detail=detail)
        self.checks.append(check)
        if self.listener is not None:
            self.listener(check)
        return status != "failed"


async def check_patch(
    safety: SafetyPolicy, patch: str, scope: Path, *, listener: Callable[[PatchCheck], None] | None = None
) -> PatchCheckResult:
    """Check `patch` against the workspace's current files inside `scope`, without touching them."""
    result = PatchCheckResult(listener=listener)
    files = _parse(result, patch)
    current = _paths(result, safety, files, scope) if files is not None else None
    if files is not None and current is not None and _apply(result, files, current):
        await _git(result, safety, patch, current)
    return result


def patched_now(safety: SafetyPolicy, patch: str, scope: Path) -> list[PatchedFile]:
    """The files as `patch` would leave them, from their text now; raises what the checks would report."""
    files = read_patch(patch)
    return apply_patch(files, read_targets(safety, [file.change.path for file in files], scope))


def read_targets(safety: SafetyPolicy, paths: Sequence[str], scope: Path) -> dict[str, str | None]:
    """Each target's current text (None: absent) once the path rules and the scope allow writing it.

    A refusal (by the path policy, the scope, or a file too large or not UTF-8) is audited as a
    refused write and raised as `PolicyViolation`.
    """
    current: dict[str, str | None] = {}
    for path in paths:
        try:
            resolved = safety.paths.resolve_write(path)
            if not resolved.is_relative_to(scope):
                shown = safety.paths.relative(scope) or "."
                raise PolicyViolation(f"{path!r} is outside the scope {shown!r}", rule=OUTSIDE_SCOPE_RULE)
            current[path] = current_text(safety, path)
        except PolicyViolation as exc:
            safety.audit.record("write", path, "refused", str(exc), rule=exc.rule)
            raise
    return current


def _parse(result: PatchCheckResult, patch: str) -> list[FilePatch] | None:
    try:
        files = read_patch(patch)
    except AOError as exc:
        result.add("patch.parse", "failed", f"the patch is not a usable unified diff: {exc}")
        return None
    result.add("patch.parse", "passed", f"changes {', '.join(file.change.path for file in files)}")
    return files


def _paths(
    result: PatchCheckResult, safety: SafetyPolicy, files: list[FilePatch], scope: Path
) -> dict[str, str | None] | None:
    try:
        current = read_targets(safety, [file.change.path for file in files], scope)
    except PolicyViolation as exc:
        result.refusal_rule = exc.rule
        result.add("patch.paths", "failed", f"patch refused: {exc}")
        return None
    except (AOError, OSError) as exc:
        result.add("patch.paths", "failed", f"a target cannot be read: {exc}")
        return None
    result.add("patch.paths", "passed", "every path is allowed and inside the scope")
    return current


def _apply(result: PatchCheckResult, files: list[FilePatch], current: dict[str, str | None]) -> bool:
    try:
        patched = apply_patch(files, current)
    except AOError as exc:
        return result.add("patch.apply", "failed", f"the patch does not apply: {exc}")
    if all(file.after == file.before for file in patched):
        return result.add("patch.apply", "failed", "the patch changes nothing")
    result.patched = patched
    return result.add("patch.apply", "passed", _offsets_note(patched))


async def _git(result: PatchCheckResult, safety: SafetyPolicy, patch: str, current: dict[str, str | None]) -> None:
    """`git apply --check` in a scratch copy of the current files; the run is audited like any command."""
    try:
        check = await git_apply_check(patch, current, redact=safety.redact)
    except AOError as exc:
        result.add("git apply --check", "failed", f"git apply --check could not check the patch: {exc}")
        return
    if check.status != "skipped":
        outcome = f"exit code {check.exit_code} in a scratch copy"
        safety.audit.record("command", check.command, "executed", outcome, rule="git apply --check")
    detail = f"git apply --check refused the patch: {check.detail}" if check.status == "failed" else check.detail
    result.add("git apply --check", check.status, detail)


def _offsets_note(patched: list[PatchedFile]) -> str:
    moved = [f"{p.path} hunk {i} by {o:+d}" for p in patched for i, o in enumerate(p.offsets, start=1) if o]
    applied = f"{len(patched)} file(s) apply exactly to the current text"
    return f"{applied}; hunks moved: {', '.join(moved)}" if moved else applied
