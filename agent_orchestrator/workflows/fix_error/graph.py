"""The fix-error workflow: parse a log, gather scoped context, propose a patch, check it, then maybe apply it.

The fixer (the leader model) only proposes: root cause, fix steps, a unified diff and validation
commands. Deterministic checks decide the rest: the one patch check leader-worker uses too
(`repo.patch_checks`): the patch must touch only files inside the scope that the path policy lets
us write, apply exactly in-process, and pass `git apply --check` in a scratch copy. It is applied
only when the call asks for it (`write`) and the write policy allows writes (decided once, when the
run starts, and carried in the state to every write), and only when an allowlisted
validation command can prove it: through the one apply-with-restore (`repo.patch_apply`) the
originals are snapshotted (in memory and under `<state dir>/fix-backups/<run_id>/`), the new files
written atomically, the validation run before and after, and every original file restored (files
the patch created deleted) when a write or the validation fails. In dry-run the patch and per-file
diffs are the result and nothing is written. Every ending is a node returning `End(result)`; the
run record's status follows the result (`refused` when policy refused the patch). A fixer that fails
(its endpoint, a deadline, the budget, output that never validates) ends the run `failed` with the
parsed errors and the context gathered so far, the cause in `failure`, and nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic_graph import BaseNode, End, GraphRunContext

from agent_orchestrator.agents.build import build_agents_with_fallbacks
from agent_orchestrator.agents.calls import call_agent
from agent_orchestrator.agents.models import FixDraft
from agent_orchestrator.agents.prompts.fix import fix_prompt
from agent_orchestrator.agents.prompts.instructions import FIXER
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.status import FixStatus, RunStatus
from agent_orchestrator.domain.steps import recorded_step
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.writes import WriteDecision
from agent_orchestrator.repo.context import FileContext, SkippedFile
from agent_orchestrator.repo.logs import ParsedError, parse_log
from agent_orchestrator.repo.patch_checks import PatchCheck
from agent_orchestrator.repo.patching import PatchedFile
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.failures import StepFailure, model_failed, step_failure, with_rejected_output
from agent_orchestrator.workflows.fix_error.apply import apply_fix, backup_dir, restore_fix
from agent_orchestrator.workflows.fix_error.checks import check_fix_patch
from agent_orchestrator.workflows.fix_error.context import gather_fix_context
from agent_orchestrator.workflows.fix_error.result import ChangedFile, FixResult
from agent_orchestrator.workflows.graphs import build_graph, node_names
from agent_orchestrator.workflows.leader_vetting import vet_leader
from agent_orchestrator.workflows.recorder import RunContext, WorkflowFailed, record_run
from agent_orchestrator.workflows.validate import CommandOutcome, ValidationReport, validate

MAX_LOG_BYTES = 2_000_000
VALIDATION_TIMEOUT_S = 300.0


@dataclass
class FixDeps:
    runtime: Runtime
    run: RunContext
    scope_dir: Path


@dataclass
class FixState:
    """What later nodes (and a failed run's partial result) need from earlier ones."""

    error_log: str
    scope: str
    decision: WriteDecision  # made once, from the call's `write` and the write policy
    run: RunContext | None = None
    errors: list[ParsedError] = field(default_factory=list[ParsedError])
    log_text: str = ""
    context: list[FileContext] = field(default_factory=list[FileContext])
    skipped: list[SkippedFile] = field(default_factory=list[SkippedFile])
    draft: FixDraft | None = None
    checks: list[PatchCheck] = field(default_factory=list[PatchCheck])
    patched: list[PatchedFile] = field(default_factory=list[PatchedFile])
    files: dict[str, ChangedFile] = field(default_factory=dict[str, ChangedFile])
    commands: list[str] = field(default_factory=list[str])
    refused: list[CommandOutcome] = field(default_factory=list[CommandOutcome])
    before: ValidationReport | None = None
    after: ValidationReport | None = None
    write_reason: str = ""
    applied: bool = False
    restored: bool = False
    backup_dir: str | None = None
    refusal_rule: str | None = None
    failure: StepFailure | None = None


Ctx = GraphRunContext[FixState, FixDeps]


@dataclass
class ParseErrors(BaseNode[FixState, FixDeps, FixResult]):
    """Read the log through the path policy and parse it; a log with no errors ends here, no model call."""

    async def run(self, ctx: Ctx) -> GatherContext | End[FixResult]:
        state, deps = ctx.state, ctx.deps
        async with deps.run.recorded(self):
            read = deps.runtime.safety.read_file(state.error_log, max_bytes=MAX_LOG_BYTES)
            if read.truncated:
                deps.run.warn(f"the log is {read.size:,} bytes; only its first {MAX_LOG_BYTES:,} were parsed")
            # Redacted first: the log reaches the fixer and the result, and may print secrets.
            state.log_text = deps.runtime.redact(read.text)
            state.errors = parse_log(state.log_text).errors
        if not any(error.severity == "error" for error in state.errors):
            noted = f" ({len(state.errors)} warning(s) or note(s) only)" if state.errors else ""
            return _end(ctx, "nothing_to_fix", f"the log has no errors the parsers recognise{noted}")
        return GatherContext()


@dataclass
class GatherContext(BaseNode[FixState, FixDeps, FixResult]):
    """Read the files the errors name (and the local Python modules they import), only inside the scope."""

    async def run(self, ctx: Ctx) -> ProposeFix:
        state, deps = ctx.state, ctx.deps
        async with deps.run.recorded(self):
            found = gather_fix_context(deps.runtime.safety, deps.scope_dir, state.errors)
            state.context, state.skipped = found.files, found.skipped
        return ProposeFix()


@dataclass
class ProposeFix(BaseNode[FixState, FixDeps, FixResult]):
    """Ask the fixer for the root cause, fix steps, a patch and validation commands (all validated); a fixer
    that fails ends the run `failed`, the errors and context kept."""

    async def run(self, ctx: Ctx) -> CheckPatch | End[FixResult]:
        state, deps = ctx.state, ctx.deps
        try:
            async with deps.run.recorded(self):
                safety = deps.runtime.safety
                prompt = fix_prompt(
                    error_log=state.error_log,
                    scope=safety.paths.relative(deps.scope_dir) or ".",
                    allowed_commands=safety.commands.allowed,
                    errors=state.errors,
                    log_text=state.log_text,
                    files=state.context,
                    skipped=state.skipped,
                )
                agent, fallbacks = build_agents_with_fallbacks(deps.runtime, "leader", FixDraft, FIXER)
                state.draft = await call_agent(
                    agent,
                    prompt,
                    usage=deps.run,
                    redact=deps.runtime.redact,
                    bounds=deps.run.bounds(),
                    fallbacks=fallbacks,
                )
        except Exception as exc:
            if not model_failed(exc):
                raise
            state.failure = step_failure(exc, deps.runtime.redact, self.get_node_id())
            reason = with_rejected_output(f"the fixer failed: {state.failure.cause}", state.failure)
            return _end(ctx, "failed", f"{reason}; nothing was written")
        return CheckPatch()


@dataclass
class CheckPatch(BaseNode[FixState, FixDeps, FixResult]):
    """Scope and path policy, exact in-process application, `git apply --check`; then stop or go on to apply."""

    async def run(self, ctx: Ctx) -> ValidateBefore | End[FixResult]:
        state, deps = ctx.state, ctx.deps
        async with deps.run.recorded(self):
            problem = await check_fix_patch(state, deps)
            _split_commands(ctx)
            decision = state.decision
            state.write_reason = decision.reason
        if problem is not None:
            return _end(ctx, "failed", problem)
        if not decision.allowed:
            return _end(ctx, "proposed", f"patch checked, not applied: {decision.reason}")
        if not state.commands:
            reason = "patch checked, not applied: no allowlisted validation command could prove the fix"
            return _end(ctx, "proposed", reason)
        return ValidateBefore()


@dataclass
class ValidateBefore(BaseNode[FixState, FixDeps, FixResult]):
    """Run the validation on the original files, so the report shows before and after.

    A command that cannot run to completion (not installed, timed out) could never prove the fix,
    so nothing is applied.
    """

    async def run(self, ctx: Ctx) -> ApplyFix | End[FixResult]:
        state, deps = ctx.state, ctx.deps
        async with deps.run.recorded(self):
            state.before = await _validate(ctx, "validate before")
            if state.before.status == "passed":
                deps.run.warn("the validation already passes before the fix, so it cannot prove the fix")
        broken = [r for r in state.before.results if r.status in ("error", "timed_out", "refused")]
        if broken:
            shown = ", ".join(f"{r.command!r} {r.status}" for r in broken)
            return _end(ctx, "proposed", f"patch checked, not applied: the validation cannot run ({shown})")
        return ApplyFix()


@dataclass
class ApplyFix(BaseNode[FixState, FixDeps, FixResult]):
    """Check nothing changed since the check, snapshot the originals, then write each file atomically."""

    async def run(self, ctx: Ctx) -> ValidateFix | RestoreOnFailure | End[FixResult]:
        state, deps = ctx.state, ctx.deps
        async with deps.run.recorded(self):
            backup = backup_dir(deps.run)
            applied = await apply_fix(deps.run, state.patched, state.files, state.decision, backup)
        if applied.status == "stale":
            return _end(ctx, "failed", applied.detail)
        state.backup_dir = str(backup)
        if applied.status == "failed":
            return RestoreOnFailure(applied.detail)  # already restored there: this proves it and reports it
        state.applied = True
        return ValidateFix()


@dataclass
class ValidateFix(BaseNode[FixState, FixDeps, FixResult]):
    """Run the validation on the patched files; a failure restores the originals."""

    async def run(self, ctx: Ctx) -> RestoreOnFailure | End[FixResult]:
        state, deps = ctx.state, ctx.deps
        async with deps.run.recorded(self):
            state.after = await _validate(ctx, "validate after")
        if state.after.status == "passed":
            return _end(ctx, "fixed", "the patch was applied and the validation passes")
        return RestoreOnFailure(f"the validation failed after the patch: {_failed_commands(state.after)}")


@dataclass
class RestoreOnFailure(BaseNode[FixState, FixDeps, FixResult]):
    """Put every original file back (delete files the patch created) and check each is byte-identical."""

    reason: str

    async def run(self, ctx: Ctx) -> End[FixResult]:
        async with ctx.deps.run.recorded(self):
            problems = restore_fix(ctx.deps.run, ctx.state.patched, ctx.state.files, ctx.state.decision)
        if problems:
            kept = f"; the originals are in {ctx.state.backup_dir!r}" if ctx.state.backup_dir else ""
            return _end(ctx, "failed", f"{self.reason}; could not restore {'; '.join(problems)}{kept}")
        ctx.state.restored = True
        return _end(ctx, "restored", f"{self.reason}; the original files were restored")


GRAPH = build_graph(
    "fix-error",
    state_type=FixState,
    deps_type=FixDeps,
    output_type=FixResult,
    start=ParseErrors,
    nodes=[GatherContext, ProposeFix, CheckPatch, ValidateBefore, ApplyFix, ValidateFix, RestoreOnFailure],
)
FIX_NODES = node_names(GRAPH)


async def fix_error(
    runtime: Runtime, *, error_log: str, scope: str, write: bool = False, progress: ProgressCallback | None = None
) -> FixResult:
    """Diagnose the errors in `error_log` and propose a patch inside `scope`; write it only when asked and allowed.

    Whether it may write is decided once, here, by the write policy (`write` is the call's request).

    A run that cannot produce a usable fix (invalid fixer output, a refused or non-applying patch)
    or whose fix was restored ends as a failed run record and a result saying why; a bad log path
    or scope raises, as any bad usage does.
    """
    state = FixState(error_log=error_log, scope=scope, decision=runtime.safety.writes.decide(write))
    scope_dir = runtime.safety.resolve_dir(scope)

    async def body(run: RunContext) -> FixResult:
        vet_leader(run, ("fixing",))
        state.run = run
        deps = FixDeps(runtime, run, scope_dir)
        try:
            result: FixResult = await GRAPH.run(state=state, deps=deps, inputs=ParseErrors())
        except BaseException:
            # Interrupted (cancelled, crashed) between writing and a verdict: put the originals back.
            # `restore_fix` is synchronous, so a cancellation cannot stop it half-way.
            if any(changed.written for changed in state.files.values()):
                state.restored = not restore_fix(run, state.patched, state.files, state.decision)
            raise
        run.artifact("fix-result.json", result.model_dump_json(indent=2), "application/json")
        return result

    inputs = {"error_log": error_log, "scope": scope, "write": write}
    try:
        return await record_run(
            runtime,
            "fix-error",
            inputs,
            body,
            expected_nodes=len(FIX_NODES),
            progress=progress,
            summarize=_summary,
            outcome=lambda result: _outcome(result, state.refusal_rule),
        )
    except WorkflowFailed as exc:
        return _result(state, "failed", str(exc), run_id=exc.run_id)


def _outcome(result: FixResult, refusal_rule: str | None) -> tuple[RunStatus, str]:
    """The run record's status: a fix that failed or was restored fails the run; refused when policy said no."""
    if result.status not in ("failed", "restored"):
        return "succeeded", ""
    return ("refused" if refusal_rule is not None else "failed"), result.reason


def _summary(result: FixResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "reason": result.reason,
        "errors": len(result.errors),
        "context_files": result.context_files,
        "files_changed": [changed.path for changed in result.files_changed],
        "applied": result.applied,
        **({"failure": result.failure.model_dump()} if result.failure else {}),
    }


def _end(ctx: Ctx, status: FixStatus, reason: str) -> End[FixResult]:
    return End(_result(ctx.state, status, reason, run_id=ctx.deps.run.run_id))


def _result(state: FixState, status: FixStatus, reason: str, *, run_id: str) -> FixResult:
    """The result so far; model text, diffs and reasons (which quote file lines) are redacted."""
    draft, run = state.draft, state.run
    redact = run.runtime.redact if run else Redactor()
    files = [changed.model_copy(update={"diff": redact(changed.diff)}) for changed in state.files.values()]
    checks = [check.model_copy(update={"detail": redact(check.detail)}) for check in state.checks]
    return FixResult(
        run_id=run_id,
        status=status,
        reason=redact(reason),
        error_log=state.error_log,
        scope=state.scope,
        errors=state.errors,
        context_files=[file.path for file in state.context],
        skipped_context=state.skipped,
        root_cause=redact(draft.root_cause) if draft else "",
        fix_steps=[redact(step) for step in draft.fix_steps] if draft else [],
        patch=redact(draft.patch) if draft else "",
        patch_checks=checks,
        files_changed=files,
        validation_commands=[redact(command) for command in draft.validation_commands] if draft else [],
        refused_commands=list(state.refused),
        validation_before=state.before,
        validation_after=state.after,
        write_reason=state.write_reason,
        applied=state.applied,
        restored=state.restored,
        backup_dir=state.backup_dir,
        failure=state.failure,
        warnings=list(run.warnings) if run else [],
        usage=run.usage.as_dict() if run else {},
    )


def _split_commands(ctx: Ctx) -> None:
    """Keep the validation commands the policy allows in the scope; report the refused ones, never run them."""
    state, safety = ctx.state, ctx.deps.runtime.safety
    for command in state.draft.validation_commands if state.draft else []:
        try:
            safety.check_command(command, cwd=ctx.deps.scope_dir)
        except PolicyViolation as exc:
            shown = ctx.deps.runtime.redact(command)
            state.refused.append(CommandOutcome(command=shown, status="refused", rule=exc.rule, reason=str(exc)))
            continue
        state.commands.append(command)


async def _validate(ctx: Ctx, step: str) -> ValidationReport:
    """The validation commands, as a recorded step (a resumed run does not run them again)."""
    return await recorded_step(step, lambda: _run_validation(ctx))


async def _run_validation(ctx: Ctx) -> ValidationReport:
    scope = str(ctx.deps.scope_dir)
    return await validate(ctx.deps.runtime, ctx.state.commands, cwd=scope, timeout_s=VALIDATION_TIMEOUT_S)


def _failed_commands(report: ValidationReport) -> str:
    failed = [f"{r.command!r} {r.status}" for r in report.results if r.status != "passed"]
    return ", ".join(failed) or "failed"
