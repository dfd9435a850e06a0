"""The leader-worker workflow: prepare the workers, plan, run every step, then apply or return the patches.

Routing obeys saved, judged profiles only: blocked workers never get work (a warning names
them), limited ones only low-risk task types and always under leader review, and the configured
worker is interviewed first when it has no fresh profile, unless the caller names a profile to
use as given. A step no worker qualifies for is done by the leader. Patches are written only when
the call asks (`write`) and policy allows: the write policy decides once, when the run starts, and
that `WriteDecision` travels in the state to every patch; otherwise they are returned.

A run budget or the run's deadline stops the run early (`LeaderWorkerResult.stopped`): the steps
that finished are kept, the others say why they did not, and no patch is applied, so a run cut
short never leaves the workspace half-changed; its accepted patches are returned.

Trust follows the record: each worker step the leader judged goes into the track record of the
worker that served it, and an active worker whose acceptance rate falls below AO_MIN_ACCEPTANCE_RATE
is downgraded to limited, with a warning in the result (`track_record`, `interview.trust`).

The plan is read, not believed, as `ao plan` reads it (`planning.plan_checks`, see `leader_checks`):
one that restates the goal, has placeholder text or echoes instructions found in the context files
is never handed to the workers; the run ends `needs_attention` with the reasons (its record `partial`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic_graph import BaseNode, End, GraphRunContext

from agent_orchestrator.agents.models import StepResult
from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.status import LeaderWorkerStatus, RunStatus
from agent_orchestrator.domain.steps import recorded_step
from agent_orchestrator.errors import AOError, UsageError
from agent_orchestrator.interview.freshness import freshness
from agent_orchestrator.interview.routing import LEADER, Candidate
from agent_orchestrator.policies.writes import WriteDecision
from agent_orchestrator.providers import ModelSpec, configured_spec
from agent_orchestrator.repo.patch_apply import apply_patch_with_restore
from agent_orchestrator.repo.patch_checks import patched_now
from agent_orchestrator.repo.patching import read_patch
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.failures import summarise
from agent_orchestrator.workflows.graphs import build_graph, node_names
from agent_orchestrator.workflows.interview import interview_worker
from agent_orchestrator.workflows.leader_vetting import vet_leader
from agent_orchestrator.workflows.leader_worker.canaries import canaried_candidates
from agent_orchestrator.workflows.leader_worker.fallbacks import FallbackWorker, fallback_workers, qualifies
from agent_orchestrator.workflows.leader_worker.result import LeaderWorkerResult, PatchOutcome, StepOutcome
from agent_orchestrator.workflows.leader_worker.steps import StepEnv, StepJob, run_steps
from agent_orchestrator.workflows.leader_worker.track_record import record_track_records
from agent_orchestrator.workflows.plan_result import ProposedPlan
from agent_orchestrator.workflows.planning import (
    MAX_CONTEXT_FILES,
    PlanOutcome,
    make_plan,
    plan_checks,
    saved_candidates,
)
from agent_orchestrator.workflows.planning import NODES as PLANNING_NODES
from agent_orchestrator.workflows.recorder import RunContext, record_run

INLINE_PATCH_CHARS = 20_000


@dataclass
class LeaderWorkerState:
    goal: str
    context_files: list[str]
    worker_profile: str | None
    decision: WriteDecision  # made once, from the call's `write` and the write policy
    started: float = field(default_factory=time.perf_counter)
    outputs: dict[str, StepResult] = field(default_factory=dict[str, StepResult])
    stopped: str | None = None  # why the run stopped early (a budget, the deadline)
    fallback_workers: list[FallbackWorker] = field(default_factory=list[FallbackWorker])


@dataclass
class LeaderWorkerDeps:
    run: RunContext
    scope: Path
    concurrency: int


Ctx = GraphRunContext[LeaderWorkerState, LeaderWorkerDeps]


@dataclass
class PrepareWorkers(BaseNode[LeaderWorkerState, LeaderWorkerDeps, LeaderWorkerResult]):
    """Load the candidates: the caller's profile as given, or the saved ones (configured worker made fresh)."""

    async def run(self, ctx: Ctx) -> PlanSteps:
        async with ctx.deps.run.recorded(self):
            # WORKER_MODEL_FALLBACKS resolved before anything is spent: a broken entry fails the run now.
            ctx.state.fallback_workers = fallback_workers(ctx.deps.run.runtime)
            candidates = await recorded_candidates(ctx.deps.run, ctx.state.worker_profile)
        return PlanSteps(candidates)


@dataclass
class PlanSteps(BaseNode[LeaderWorkerState, LeaderWorkerDeps, LeaderWorkerResult]):
    """Run the planning graph (its nodes record themselves, this one does not): checked steps and assignments.

    A plan whose text fails the leader checks ends the run `needs_attention`: no step is run.
    """

    candidates: list[Candidate]

    async def run(self, ctx: Ctx) -> RunSteps | End[LeaderWorkerResult]:
        state, deps = ctx.state, ctx.deps
        outcome = await make_plan(deps.run, state.goal, state.context_files, self.candidates, deps.scope)
        attention = plan_checks(state.goal, outcome)
        if attention:
            deps.run.warn(f"the leader's plan needs attention, no step was run: {summarise(attention)}")
            return End(_result(ctx, outcome.plan, [], [], attention))
        return RunSteps(outcome, self.candidates)


@dataclass
class RunSteps(BaseNode[LeaderWorkerState, LeaderWorkerDeps, LeaderWorkerResult]):
    """Run the drift canaries the routed workers are due (`canaries`: a worker failing its canary is blocked
    and the leader does its steps), then the steps, independent ones in parallel, each validated and
    reviewed; then record the leader's
    verdicts in the track records of the workers that served them (`track_record`)."""

    planned: PlanOutcome
    candidates: list[Candidate]

    async def run(self, ctx: Ctx) -> ApplyPatches:
        deps = ctx.deps
        env = StepEnv(deps.run, ctx.state.goal, deps.scope, self.planned.context, deps.concurrency)
        env.fallback_workers = ctx.state.fallback_workers
        async with deps.run.recorded(self):
            candidates = self.candidates
            if ctx.state.worker_profile is None:  # a profile the caller named is used as given: no canary
                candidates = await canaried_candidates(deps.run, self.planned.plan, candidates)
            jobs = step_jobs(deps.run, self.planned.plan, candidates)
            outcomes = await run_steps(env, jobs)
            await record_track_records(deps.run, jobs, outcomes, env.fallback_workers)
        ctx.state.outputs, ctx.state.stopped = env.outputs, env.stopped
        return ApplyPatches(self.planned.plan, outcomes)


@dataclass
class ApplyPatches(BaseNode[LeaderWorkerState, LeaderWorkerDeps, LeaderWorkerResult]):
    """Write accepted patches when the call asks and policy allows; otherwise return them."""

    plan: ProposedPlan
    outcomes: list[StepOutcome]

    async def run(self, ctx: Ctx) -> End[LeaderWorkerResult]:
        async with ctx.deps.run.recorded(self):
            patches = [
                await recorded_step(f"patch {outcome.step_id}", partial(_patch_step, ctx, outcome))
                for outcome in self.outcomes
                if outcome.verdict == "accepted" and outcome.has_patch
            ]
        return End(_result(ctx, self.plan, self.outcomes, patches))


# One name for the workflow: the catalog, `ao run`, the graph and its run records all say this one.
WORKFLOW = "leader-worker-basic"
GRAPH = build_graph(
    WORKFLOW,
    state_type=LeaderWorkerState,
    deps_type=LeaderWorkerDeps,
    output_type=LeaderWorkerResult,
    start=PrepareWorkers,
    nodes=[PlanSteps, RunSteps, ApplyPatches],
)
NODES = node_names(GRAPH)
# PlanSteps records the planning graph's nodes rather than itself; each step adds its own node.
EXPECTED_NODES = len(PLANNING_NODES) + len(NODES) - 1


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


async def recorded_candidates(run: RunContext, worker_profile: str | None) -> list[Candidate]:
    """`prepare_workers` as one recorded step: a resumed run routes to the workers it chose first (an
    interview it ran is not run again)."""

    async def body() -> list[tuple[WorkerCapabilityProfile, tuple[str, ...]]]:
        return [(c.profile, c.stale_reasons) for c in await prepare_workers(run, worker_profile)]

    return [Candidate(profile, tuple(stale)) for profile, stale in await recorded_step("prepare workers", body)]


async def prepare_workers(run: RunContext, worker_profile: str | None) -> list[Candidate]:
    """The caller's named profile used as given, else every saved profile once the configured worker is fresh."""
    runtime = run.runtime
    if worker_profile is not None:
        profile = runtime.profiles.get(worker_profile.strip())
        if stale := freshness(runtime.settings, profile):
            run.warn(f"worker {profile.worker_id!r} has a stale profile ({'; '.join(stale)}); used as given")
        return [Candidate(profile)]
    configured = configured_spec(runtime.settings, "worker")
    if configured is not None:
        await interview_if_needed(run, configured)
    return saved_candidates(runtime)


async def interview_if_needed(run: RunContext, spec: ModelSpec) -> None:
    """Interview (and save) the configured worker when it has no saved profile or a stale one."""
    runtime = run.runtime
    known = runtime.profiles.load().get(spec.model_id)
    why = "; ".join(freshness(runtime.settings, known)) if known is not None else "it has no saved profile"
    if not why:
        return
    run.warn(f"interviewed the configured worker {spec.model_id!r} first: {why}")
    result = await interview_worker(
        runtime, provider=spec.provider, model=spec.model, base_url=spec.base_url, save=True
    )
    if result.profile is None:
        run.warn(f"worker {spec.model_id!r} could not be judged ({result.unavailable_reason}); it gets no work")


def step_jobs(run: RunContext, plan: ProposedPlan, candidates: list[Candidate]) -> list[StepJob]:
    """Each step with its assignee's profile; an assignment that does not qualify goes to the leader."""
    profiles = {c.profile.worker_id: c.profile for c in candidates}
    jobs: list[StepJob] = []
    for step, assignment in zip(plan.steps, plan.assignments, strict=True):
        worker = profiles.get(assignment.assignee)
        if assignment.assignee != LEADER and (worker is None or not qualifies(worker, assignment.task_type)):
            run.warn(f"step {step.id!r}: {assignment.assignee!r} does not qualify for it; the leader does it")
            assignment = assignment.model_copy(
                update={"assignee": LEADER, "reason": "reassigned: the routed worker does not qualify"}
            )
            worker = None
        jobs.append(StepJob(step, assignment, worker))
    return jobs


async def _patch_step(ctx: Ctx, outcome: StepOutcome) -> PatchOutcome:
    """One accepted patch checked and maybe written: a recorded step, so a resumed run never writes it twice."""
    return patch_outcome(ctx, outcome, ctx.state.outputs[outcome.step_id])


def patch_outcome(ctx: Ctx, outcome: StepOutcome, output: StepResult) -> PatchOutcome:
    """Apply one accepted patch when allowed (all its files or none), else say why it was only returned."""
    runtime, patch, decision = ctx.deps.run.runtime, output.patch or "", ctx.state.decision
    applied, detail, files = False, decision.reason, _patch_files(patch)
    if ctx.state.stopped is not None:
        detail = f"not applied: the run stopped early ({ctx.state.stopped}); review it and apply it yourself"
    elif decision.allowed:
        applied, detail = apply_to_workspace(runtime, patch, ctx.deps.scope, decision)
        if not applied:
            ctx.deps.run.warn(f"step {outcome.step_id!r}: its accepted patch was {detail}")
    shown = runtime.redact(patch)
    return PatchOutcome(
        step_id=outcome.step_id,
        files=files,
        patch=shown[:INLINE_PATCH_CHARS],
        patch_truncated=len(shown) > INLINE_PATCH_CHARS,
        output_artifact=outcome.output_artifact,
        applied=applied,
        detail=detail,
    )


def apply_to_workspace(runtime: Runtime, patch: str, scope: Path, decision: WriteDecision) -> tuple[bool, str]:
    """Apply strictly to the current files (an earlier patch may have moved them), all or none; (applied, why)."""
    try:
        patched = patched_now(runtime.safety, patch, scope)
        applied = apply_patch_with_restore(runtime.safety, patched, decision)
    except (AOError, OSError) as exc:
        return False, f"not applied: {exc}"
    if applied.applied:
        return True, applied.detail
    unrestored = "; ".join(applied.restore.problems)
    return False, f"not applied: {applied.detail}" + (f"; could not restore {unrestored}" if unrestored else "")


def _patch_files(patch: str) -> list[str]:
    try:
        return [f.change.path for f in read_patch(patch)]
    except AOError:
        return []


def _result(
    ctx: Ctx,
    plan: ProposedPlan,
    outcomes: list[StepOutcome],
    patches: list[PatchOutcome],
    attention: Sequence[str] = (),
) -> LeaderWorkerResult:
    run, state = ctx.deps.run, ctx.state
    accepted = sum(1 for o in outcomes if o.verdict == "accepted")
    status: LeaderWorkerStatus = (
        "succeeded" if accepted == len(outcomes) else "failed" if accepted == 0 else "partial"
    )
    if attention:
        status = "needs_attention"
    summary = (
        "The leader's plan needs attention; no step was run."
        if attention
        else summarize_steps(outcomes, patches, state.stopped)
    )
    return LeaderWorkerResult(
        run_id=run.run_id,
        status=status,
        goal=run.runtime.redact(state.goal),
        scope=run.runtime.safety.paths.relative(ctx.deps.scope) or ".",
        summary=summary,
        plan=plan,
        steps=outcomes,
        patches=patches,
        warnings=list(run.warnings),
        usage=run.usage.as_dict(),
        timings_ms=_timings(run, state.started),
        stopped=state.stopped,
        attention=list(attention),
    )


def _timings(run: RunContext, started: float) -> dict[str, int]:
    """Each node's time from the run's one clock (`RunContext.timings`); PlanSteps is its planning nodes' sum."""
    timings = {name: run.timings.get(name, 0) for name in NODES}
    timings[PlanSteps.get_node_id()] = sum(run.timings.get(name, 0) for name in PLANNING_NODES)
    timings["total"] = _ms_since(started)
    return timings


def summarize_steps(outcomes: list[StepOutcome], patches: list[PatchOutcome], stopped: str | None = None) -> str:
    """One line per what matters: how many steps were accepted, who did them, what went wrong."""
    accepted = [o for o in outcomes if o.verdict == "accepted"]
    lines = [f"{len(accepted)} of {len(outcomes)} steps accepted."]
    if stopped is not None:
        lines.append(f"The run stopped early: {stopped}.")
    lines += [
        f"{o.step_id} {o.verdict} ({_doer(o)}, {o.rounds} round{'s' * (o.rounds != 1)})"
        + (f": {o.error}" if o.error else "")
        for o in outcomes
    ]
    if patches:
        applied = sum(1 for p in patches if p.applied)
        lines.append(f"{len(patches)} patch(es) proposed, {applied} applied.")
    return "\n".join(lines)


def _doer(outcome: StepOutcome) -> str:
    """Who did a step; a fallback says whom it replaced and why."""
    if outcome.fallback_from is None or outcome.served_by is None:
        return outcome.assignee
    return f"{outcome.served_by}, fallback for {outcome.fallback_from}: {outcome.fallback_reason}"


async def leader_worker(
    runtime: Runtime,
    goal: str,
    *,
    scope: str | None = None,
    context_files: Sequence[str] = (),
    worker_profile: str | None = None,
    write: bool = False,
    concurrency: int | None = None,
    progress: ProgressCallback | None = None,
) -> LeaderWorkerResult:
    """Plan `goal`, run each step on a qualified worker (or the leader), validate and review, as a recorded run.

    `concurrency` caps parallel model calls per role (default `AO_INTERVIEW_CONCURRENCY`).
    """
    if not goal.strip():
        raise UsageError("`goal` is empty: say what to achieve, e.g. 'summarise the open TODOs in src/'")
    if len(context_files) > MAX_CONTEXT_FILES:
        raise UsageError(f"at most {MAX_CONTEXT_FILES} context files, got {len(context_files)}")
    if concurrency is not None and concurrency < 1:
        raise UsageError(f"concurrency must be at least 1, got {concurrency}")
    decision = runtime.safety.writes.decide(write)
    inputs: dict[str, Any] = {
        "goal": goal,
        "scope": scope,
        "context_files": list(context_files),
        "worker_profile": worker_profile,
        "write": write,
    }

    async def body(run: RunContext) -> LeaderWorkerResult:
        vet_leader(run, ("planning", "verdicts"))
        deps = LeaderWorkerDeps(
            run=run,
            scope=runtime.safety.resolve_dir(scope),
            concurrency=concurrency or runtime.settings.ao_worker_concurrency,
        )
        state = LeaderWorkerState(goal, list(context_files), worker_profile, decision)
        return await GRAPH.run(state=state, deps=deps, inputs=PrepareWorkers())

    return await record_run(
        runtime,
        WORKFLOW,
        inputs,
        body,
        expected_nodes=EXPECTED_NODES,
        progress=progress,
        summarize=_summarize,
        outcome=_outcome,
    )


def _outcome(result: LeaderWorkerResult) -> tuple[RunStatus, str]:
    """The run's status follows the steps: partial or failed runs are recorded as such; a plan that
    needs attention is recorded `partial` with the reasons (as `ao plan` records it)."""
    if result.status == "succeeded":
        return "succeeded", ""
    if result.status == "needs_attention":
        return "partial", f"the leader's plan needs attention: {'; '.join(result.attention)}"
    failed = [step.step_id for step in result.steps if step.verdict != "accepted"]
    reason = f"steps not accepted: {', '.join(failed)}"
    return result.status, reason if result.stopped is None else f"stopped early: {result.stopped}; {reason}"


def _summarize(result: LeaderWorkerResult) -> Mapping[str, Any]:
    """The stored run result: the whole result but warnings (the recorder adds those)."""
    return result.model_dump(mode="json", exclude={"warnings"})
