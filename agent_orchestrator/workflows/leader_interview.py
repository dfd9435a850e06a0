"""The leader interview: the leader is vetted before it leads, as workers are before they work.

The leader plans, reviews diffs, judges workers' outputs and proposes fixes; each of those is a
dimension of seeded cases (`interview/leader/`) asked exactly as the workflows ask them (the same
instructions, prompt builders and structured output types, through `call_agent`) and graded
deterministically: plans against named requirements and ordering constraints, reviews against
defects planted at known lines (recall and precision), verdicts against known-bad and good worker
outputs, fixes by applying the patch and running the failing test in a scratch copy.

The profile says, per role, whether the leader may do it (`active`) or not (`blocked`); overall
`active`, `limited` (it may lead, some roles blocked) or `blocked` (it cannot plan or judge). It is
saved beside the workers' profiles; `leader_vetting` reads it before a workflow's first leader call.
An interview is a recorded run ("leader-interview"), bounded by AO_INTERVIEW_TIMEOUT.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import anyio
from pydantic import BaseModel
from pydantic_graph import BaseNode, End, GraphRunContext

from agent_orchestrator.agents.build import build_agent
from agent_orchestrator.agents.calls import call_agent
from agent_orchestrator.agents.resilience import classify, describe_failure
from agent_orchestrator.domain.leader_profile import (
    LEADER_DIMENSIONS,
    LEADER_SUITE_VERSION,
    LeaderCaseResult,
    LeaderDimension,
    LeaderDimensionScore,
    LeaderInterviewResult,
    LeaderProfile,
    leader_status,
)
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.status import RunStatus
from agent_orchestrator.domain.steps import StepSlot, reserve_step
from agent_orchestrator.errors import UsageError
from agent_orchestrator.interview.leader.case import LeaderCase, case_result
from agent_orchestrator.interview.leader.suite import build_leader_suite, score_dimension
from agent_orchestrator.providers import ModelSpec, resolve_spec, role_spec
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.urls import strip_credentials
from agent_orchestrator.workflows.graphs import build_graph, node_names
from agent_orchestrator.workflows.recorder import RunContext, record_run

WORKFLOW = "leader-interview"


@dataclass(frozen=True)
class LeaderInterviewDeps:
    run: RunContext
    spec: ModelSpec
    cases: list[LeaderCase]
    seed: int
    save: bool
    progress: ProgressCallback | None


Ctx = GraphRunContext[None, LeaderInterviewDeps]


@dataclass
class AskCases(BaseNode[None, LeaderInterviewDeps, LeaderInterviewResult]):
    """Ask every case as the workflows would (AO_INTERVIEW_CONCURRENCY at once) and grade each answer."""

    async def run(self, ctx: Ctx) -> ScoreAnswers:
        deps = ctx.deps
        async with deps.run.recorded(self):
            results, slow = await _ask_all(deps.run, deps.spec, deps.cases, deps.progress)
            return ScoreAnswers(results, slow)


@dataclass
class ScoreAnswers(BaseNode[None, LeaderInterviewDeps, LeaderInterviewResult]):
    """Scores per dimension, the status per role and overall, the profile; unavailable when nothing answered."""

    results: list[LeaderCaseResult]
    too_slow: bool

    async def run(self, ctx: Ctx) -> SaveProfile | End[LeaderInterviewResult]:
        deps = ctx.deps
        async with deps.run.recorded(self):
            result = _judge(deps.spec, self.results, deps.seed, self.too_slow)
            result.run_id = deps.run.run_id
            if deps.save and result.profile is not None:
                return SaveProfile(result)
            return End(result)


@dataclass
class SaveProfile(BaseNode[None, LeaderInterviewDeps, LeaderInterviewResult]):
    """Save the judged profile beside the workers' (a blocked leader too: it is then refused, not re-asked)."""

    result: LeaderInterviewResult

    async def run(self, ctx: Ctx) -> End[LeaderInterviewResult]:
        async with ctx.deps.run.recorded(self):
            assert self.result.profile is not None
            where = ctx.deps.run.runtime.leader_profiles.save(self.result.profile)
            return End(self.result.model_copy(update={"saved": True, "saved_to": str(where)}))


GRAPH = build_graph(
    WORKFLOW,
    state_type=type(None),
    deps_type=LeaderInterviewDeps,
    output_type=LeaderInterviewResult,
    start=AskCases,
    nodes=[ScoreAnswers, SaveProfile],
)
NODES = node_names(GRAPH)


async def interview_leader(
    runtime: Runtime,
    *,
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    save: bool = False,
    seed: int | None = None,
    progress: ProgressCallback | None = None,
) -> LeaderInterviewResult:
    """Interview one leader model (default: the configured leader) and return its profile, saved when asked."""
    if (provider is None) != (model is None):
        raise UsageError("give both a provider and a model, or neither to interview the configured leader")
    settings = runtime.settings
    if provider is None or model is None:
        default = role_spec(settings, "leader")
        spec = resolve_spec(default.provider, default.model, settings, "leader", base_url)
    else:
        spec = resolve_spec(provider, model, settings, "leader", base_url)
    chosen_seed = seed if seed is not None else secrets.randbelow(2**31)
    cases = await anyio.to_thread.run_sync(build_leader_suite, chosen_seed)

    async def body(run: RunContext) -> LeaderInterviewResult:
        started = time.perf_counter()
        deps = LeaderInterviewDeps(run, spec, cases, chosen_seed, save, progress)
        result: LeaderInterviewResult = await GRAPH.run(state=None, deps=deps, inputs=AskCases())
        result.duration_ms = int((time.perf_counter() - started) * 1000)
        return result

    inputs: dict[str, Any] = {
        "provider": provider,
        "model": model,
        "base_url": None if base_url is None else strip_credentials(base_url),
        "save": save,
        "seed": chosen_seed,
    }
    return await record_run(
        runtime,
        WORKFLOW,
        inputs,
        body,
        expected_nodes=len(NODES),
        timeout_s=settings.ao_interview_timeout,
        summarize=_summarize,
        outcome=_outcome,
    )


async def _ask_all(
    run: RunContext, spec: ModelSpec, cases: list[LeaderCase], progress: ProgressCallback | None
) -> tuple[list[LeaderCaseResult], bool]:
    """Ask every case (AO_INTERVIEW_CONCURRENCY at once) and grade each answer as it comes; whether any
    case got no answer before its deadline."""
    runtime = run.runtime
    limiter = anyio.CapacityLimiter(runtime.settings.ao_interview_concurrency)
    agents: dict[tuple[type[BaseModel], str], Any] = {}
    bounds = replace(run.bounds(), run_deadline_name="the interview's deadline (AO_INTERVIEW_TIMEOUT)")
    results: dict[str, LeaderCaseResult] = {}
    too_slow: set[str] = set()  # cases that got no answer in time: the leader is slow, not unreachable
    # In a durable run each case is a recorded step, its id drawn in suite order before any is asked.
    slots = {case.case_id: reserve_step(f"leader case {case.case_id}") for case in cases}

    async def ask(case: LeaderCase, slot: StepSlot) -> None:
        key = (case.output_type, case.instructions)
        if key not in agents:
            agents[key] = build_agent(runtime, "leader", case.output_type, case.instructions, spec=spec)
        began = time.perf_counter()
        try:
            answer = await slot.run(
                lambda: call_agent(
                    agents[key],
                    case.prompt,
                    usage=run,
                    redact=runtime.redact,
                    limiter=limiter,
                    bounds=bounds,
                )
            )
        except Exception as exc:  # the case scores zero, with why; the other cases go on
            results[case.case_id] = case_result(case, [], error=runtime.redact(describe_failure(exc)))
            if classify(exc)[0] == "timeout":
                too_slow.add(case.case_id)
        else:
            latency = int((time.perf_counter() - began) * 1000)
            results[case.case_id] = case_result(case, await case.grade(answer), latency_ms=latency)
        if progress is not None:
            await progress(len(results), len(cases), f"{case.case_id}: {results[case.case_id].score:.2f}")

    async with anyio.create_task_group() as group:
        for case in cases:
            group.start_soon(ask, case, slots[case.case_id])
    return [results[case.case_id] for case in cases], bool(too_slow)


def _judge(spec: ModelSpec, results: list[LeaderCaseResult], seed: int, too_slow: bool) -> LeaderInterviewResult:
    """Scores per dimension, the statuses, and the profile; unavailable when no case was answered and not for
    slowness (a leader too slow to answer in time is judged: blocked, and saved, so it is not asked again)."""
    if results and not too_slow and all(result.error is not None for result in results):
        return LeaderInterviewResult(
            leader_id=spec.model_id, status="unavailable", unavailable_reason=results[0].error
        )
    scores: dict[LeaderDimension, LeaderDimensionScore] = {
        dimension: score_dimension(dimension, results) for dimension in LEADER_DIMENSIONS
    }
    status, roles, reasons = leader_status(scores)
    if too_slow:
        unanswered = sum(result.error is not None for result in results)
        reasons.insert(
            0, f"too slow: {unanswered} of {len(results)} cases got no answer in time ({results_error(results)})"
        )
    profile = LeaderProfile(
        leader_id=spec.model_id,
        provider=spec.provider,
        model=spec.model,
        base_url=spec.base_url,
        endpoint_fingerprint=spec.fingerprint(),
        status=status,
        roles=roles,
        scores=scores,
        reasons=reasons,
        seed=seed,
        suite_version=LEADER_SUITE_VERSION,
        evaluated_at=datetime.now(UTC),
    )
    review = scores["review"]
    return LeaderInterviewResult(
        leader_id=spec.model_id,
        status=status,
        roles=roles,
        reasons=reasons,
        review_recall=review.recall,
        review_precision=review.precision,
        profile=profile,
    )


def results_error(results: list[LeaderCaseResult]) -> str:
    """The first case error, as the call recorded it."""
    return next((result.error for result in results if result.error), "")


def _summarize(result: LeaderInterviewResult) -> Mapping[str, Any]:
    return {
        "leader_id": result.leader_id,
        "status": result.status,
        "roles": result.roles,
        "saved": result.saved,
        "reasons": result.reasons[:3],
        "review_recall": result.review_recall,
        "review_precision": result.review_precision,
    }


def _outcome(result: LeaderInterviewResult) -> tuple[RunStatus, str]:
    if result.status == "unavailable":
        return "failed", f"leader {result.leader_id!r} unavailable: {result.unavailable_reason}"
    first = f": {result.reasons[0]}" if result.reasons else ""
    return "succeeded", f"leader {result.leader_id!r} {result.status}{first}"
