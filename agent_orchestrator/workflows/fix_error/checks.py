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

from agent_orchestrator.agents.models import FixDraft
from agent_orchestrator.policies.writes import unified_diff
from agent_orchestrator.repo.patch_checks import PatchCheck, check_patch
from agent_orchestrator.repo.patching import PatchedFile
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


async def check_fix_patch(state: CheckState, deps: CheckDeps) -> str | None:
    """Run the one patch check, recording each check as it finishes; the first failure's reason, or None."""
    if state.draft is None:  # pragma: no cover - ProposeFix always sets it
        raise RuntimeError("no patch was proposed")
    result = await check_patch(
        deps.runtime.safety, state.draft.patch, deps.scope_dir, listener=state.checks.append
    )
    state.refusal_rule = result.refusal_rule
    state.patched = result.patched
    for patched in result.patched:
        diff = unified_diff(patched.path, patched.before, patched.after)
        state.files[patched.path] = ChangedFile(path=patched.path, change=patched.status, diff=diff)
    skipped = [check.detail for check in result.checks if check.status == "skipped"]
    for detail in skipped:
        deps.run.warn(f"git apply --check did not run ({detail}); the exact in-process check stands")
    return result.failure
