"""Checking a proposed patch before anything is written: parse, scope and path policy, exact apply, git.

The checks run in order and each is recorded on the run's state as it finishes, so a run that
stops (or crashes) part-way still reports the checks that ran. The first failure ends the checks;
a refusal by policy also records its rule, so the run ends as refused rather than failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel

from agent_orchestrator.agents.models import FixDraft
from agent_orchestrator.errors import AOError, PolicyViolation
from agent_orchestrator.policies.writes import unified_diff
from agent_orchestrator.repo.patching import (
    FilePatch,
    PatchedFile,
    apply_patch,
    current_text,
    git_apply_check,
    read_patch,
)
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.recorder import RunContext

CheckName = Literal["parse", "paths", "strict_apply", "git_apply_check"]
CheckStatus = Literal["passed", "failed", "skipped"]


class PatchCheck(BaseModel):
    """One deterministic check of the proposed patch: scope and path policy, exact application, git."""

    name: CheckName
    status: CheckStatus
    detail: str


class ChangedFile(BaseModel):
    """One file the patch changes, its diff, and what happened to it."""

    path: str
    change: Literal["added", "deleted", "modified"]
    diff: str
    written: bool = False
    restored: bool = False


class CheckState(Protocol):
    """What the checks read from and record on the run's state."""

    draft: FixDraft | None
    checks: list[PatchCheck]
    patched: list[PatchedFile]
    files: dict[str, ChangedFile]
    refusal_rule: str | None


class CheckDeps(Protocol):
    """What the checks need from the run: the runtime (for its safety policy), the run, the scope."""

    @property
    def runtime(self) -> Runtime: ...
    @property
    def run(self) -> RunContext: ...
    @property
    def scope_dir(self) -> Path: ...


async def check_patch(state: CheckState, deps: CheckDeps) -> str | None:
    """Run the checks in order, recording each; the first failure's reason, or None when all pass."""
    if state.draft is None:  # pragma: no cover - ProposeFix always sets it
        raise RuntimeError("no patch was proposed")
    try:
        patches = read_patch(state.draft.patch)
    except AOError as exc:
        return _failed_check(state, "parse", f"the patch is not a usable unified diff: {exc}")
    state.checks.append(PatchCheck(name="parse", status="passed", detail=f"{len(patches)} file(s) in the patch"))
    try:
        paths = [_check_target(deps, patch.change.path) for patch in patches]
    except PolicyViolation as exc:
        state.refusal_rule = exc.rule
        return _failed_check(state, "paths", f"patch refused: {exc}")
    state.checks.append(PatchCheck(name="paths", status="passed", detail="every file is inside the scope"))
    current = _strict_apply(state, deps, patches, paths)
    if current is None:
        return state.checks[-1].detail
    return await _git_check(state, deps, state.draft.patch, current)


def _strict_apply(
    state: CheckState, deps: CheckDeps, patches: list[FilePatch], paths: list[str]
) -> dict[str, str | None] | None:
    """Apply the patch in memory to the current files; their texts, or None (with the check failed)."""
    try:
        current = {path: current_text(deps.runtime.safety, path) for path in paths}
        state.patched = apply_patch(patches, current)
    except PolicyViolation as exc:
        state.refusal_rule = exc.rule
        _failed_check(state, "strict_apply", f"patch refused: {exc}")
        return None
    except AOError as exc:
        _failed_check(state, "strict_apply", f"the patch does not apply: {exc}")
        return None
    if all(patched.after == patched.before for patched in state.patched):
        _failed_check(state, "strict_apply", "the patch changes nothing")
        return None
    state.checks.append(PatchCheck(name="strict_apply", status="passed", detail=_offsets_note(state.patched)))
    for patched in state.patched:
        diff = unified_diff(patched.path, patched.before, patched.after)
        state.files[patched.path] = ChangedFile(path=patched.path, change=patched.status, diff=diff)
    return current


def _check_target(deps: CheckDeps, path: str) -> str:
    """The patch may write `path`: the path policy allows writing it and it lies inside the scope."""
    safety = deps.runtime.safety
    try:
        resolved = safety.paths.resolve_write(path)
        if not resolved.is_relative_to(deps.scope_dir):
            scope = safety.paths.relative(deps.scope_dir) or "."
            raise PolicyViolation(f"{path!r} is outside the scope {scope!r}", rule="fix.outside_scope")
    except PolicyViolation as exc:
        safety.audit.record("write", path, "refused", str(exc), rule=exc.rule)
        raise
    return safety.paths.relative(resolved)


async def _git_check(state: CheckState, deps: CheckDeps, patch: str, current: dict[str, str | None]) -> str | None:
    safety = deps.runtime.safety
    check = await git_apply_check(patch, current, redact=safety.redact)
    if check.status != "skipped":
        outcome = f"exit code {check.exit_code} in a scratch copy"
        safety.audit.record("command", check.command, "executed", outcome, rule="git apply --check")
    state.checks.append(PatchCheck(name="git_apply_check", status=check.status, detail=check.detail))
    if check.status == "skipped":
        deps.run.warn(f"git apply --check did not run ({check.detail}); the exact in-process check stands")
    return f"git apply --check refused the patch: {check.detail}" if check.status == "failed" else None


def _failed_check(state: CheckState, name: CheckName, detail: str) -> str:
    state.checks.append(PatchCheck(name=name, status="failed", detail=detail))
    return detail


def _offsets_note(patched: list[PatchedFile]) -> str:
    moved = [f"{p.path} hunk {i} by {o:+d}" for p in patched for i, o in enumerate(p.offsets, start=1) if o]
    applied = f"{len(patched)} file(s) apply exactly"
    return f"{applied}; hunks moved: {', '.join(moved)}" if moved else applied
