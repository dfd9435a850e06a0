"""Checking the fixer's patch before anything is written: the one patch check, recorded on the run's state.

The checks themselves (parse, paths in scope through the audited path policy, exact application,
`git apply --check`) are `repo.patch_checks`, the same leader-worker runs on a step's patch. Here
each check is recorded on the run's state as it finishes, so a run that stops (or crashes)
part-way still reports the checks that ran; a refusal by policy also records its rule, so the run
ends as refused rather than failed; and each file the patch changes gets its diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from agent_orchestrator.agents.models import FixDraft
from agent_orchestrator.domain.steps import recorded_step
from agent_orchestrator.policies.writes import unified_diff
from agent_orchestrator.repo.patch_checks import PatchCheck, check_patch
from agent_orchestrator.repo.patching import PatchedFile, PatchedStatus
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.fix_error.result import ChangedFile
from agent_orchestrator.workflows.recorder import RunContext


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


PatchedRow = tuple[str, PatchedStatus, str | None, str | None, tuple[int, ...]]


class CheckedPatch(BaseModel):
    """The patch check as a durable run records it (a resumed run must not check again: by then the
    workspace may hold the patch it wrote)."""

    checks: list[PatchCheck]
    patched: list[PatchedRow]
    refusal_rule: str | None


async def check_fix_patch(state: CheckState, deps: CheckDeps) -> str | None:
    """Run the one patch check, recording each check as it finishes; the first failure's reason, or None."""
    draft = state.draft
    if draft is None:  # pragma: no cover - ProposeFix always sets it
        raise RuntimeError("no patch was proposed")

    async def check() -> CheckedPatch:
        result = await check_patch(deps.runtime.safety, draft.patch, deps.scope_dir, listener=state.checks.append)
        rows: list[PatchedRow] = [(p.path, p.status, p.before, p.after, p.offsets) for p in result.patched]
        return CheckedPatch(checks=result.checks, patched=rows, refusal_rule=result.refusal_rule)

    result = await recorded_step("check patch", check)
    state.checks = list(result.checks)  # as they ran; on a replay, as recorded
    state.refusal_rule = result.refusal_rule
    state.patched = [PatchedFile(*row) for row in result.patched]
    for patched in state.patched:
        diff = unified_diff(patched.path, patched.before, patched.after)
        state.files[patched.path] = ChangedFile(path=patched.path, change=patched.status, diff=diff)
    skipped = [check.detail for check in result.checks if check.status == "skipped"]
    for detail in skipped:
        deps.run.warn(f"git apply --check did not run ({detail}); the exact in-process check stands")
    return next((check.detail for check in result.checks if check.status == "failed"), None)
