"""The worker-interview workflow as a graph: resolve the endpoint, ask the cases, score, save.

ResolveEndpoint -> AskCases -> ScoreAnswers -> SaveProfile -> End
                                         \\-> End (not asked to save, or unavailable)

AskCases asks the cases as the workflows ask workers (a `StepResult` in an output mode): the
structured cases first, mode by mode until one works, then the rest in that mode (`interview.probe`);
the profile records the mode and every trial, and the workflows call the worker in that mode.

An interview is a recorded run like the other workflows ("worker-interview" in `ao runs list`):
every call to the worker goes into the run's usage and the call ledger (`ao usage`), and the
run's deadline is the interview's own (AO_INTERVIEW_TIMEOUT), so a slow worker ends `blocked`
within it instead of holding the caller for minutes.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from pydantic_ai.models import Model
from pydantic_graph import BaseNode, End, GraphRunContext

from agent_orchestrator.domain.profile import InterviewResult
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.status import RunStatus
from agent_orchestrator.errors import UsageError
from agent_orchestrator.interview.calls import InterviewDeadline
from agent_orchestrator.interview.case import GradingEnv
from agent_orchestrator.interview.probe import run_interview
from agent_orchestrator.interview.runner import SuiteRun
from agent_orchestrator.interview.scoring import InterviewMeta, build_result
from agent_orchestrator.interview.suite import build_suite
from agent_orchestrator.interview.typescript import TypeScriptToolchain, find_typescript_toolchain
from agent_orchestrator.providers import ModelSpec, resolve_spec, role_spec
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.urls import strip_credentials
from agent_orchestrator.workflows.graphs import build_graph
from agent_orchestrator.workflows.recorder import RunContext, record_run

WORKFLOW = "worker-interview"


@dataclass(frozen=True)
class InterviewRequest:
    provider: str | None
    model: str | None
    base_url: str | None
    save: bool
    seed: int


@dataclass
class InterviewDeps:
    run: RunContext
    request: InterviewRequest
    progress: ProgressCallback | None  # per answered case (the run's own progress is per node)


@dataclass
class InterviewState:
    spec: ModelSpec | None = None
    toolchain: TypeScriptToolchain | None = None
    suite_run: SuiteRun | None = None
    warnings: list[str] = field(default_factory=list[str])


Ctx = GraphRunContext[InterviewState, InterviewDeps]


@dataclass
class ResolveEndpoint(BaseNode[InterviewState, InterviewDeps, InterviewResult]):
    """The worker's endpoint: given explicitly, or the configured worker, or the local model."""

    async def run(self, ctx: Ctx) -> AskCases:
        async with ctx.deps.run.recorded(self):
            request, runtime = ctx.deps.request, ctx.deps.run.runtime
            settings = runtime.settings
            if request.provider is None or request.model is None:
                default = role_spec(settings, "worker")
                spec = resolve_spec(default.provider, default.model, settings, "worker", request.base_url)
            else:
                spec = resolve_spec(request.provider, request.model, settings, "worker", request.base_url)
            ctx.state.spec = spec
            return AskCases(runtime.model_factory(spec, settings, "worker"))


@dataclass
class AskCases(BaseNode[InterviewState, InterviewDeps, InterviewResult]):
    """Probe the output modes with the structured cases, ask the rest in the chosen mode (bounded
    concurrency, deadlines, retries) and grade each answer; each call is recorded in the run, and
    every call stops at the interview's deadline."""

    worker: Model

    async def run(self, ctx: Ctx) -> ScoreAnswers:
        run = ctx.deps.run
        async with run.recorded(self):
            settings = run.runtime.settings
            deadline = _deadline(run)
            ctx.state.toolchain = find_typescript_toolchain()
            ctx.state.suite_run = await run_interview(
                self.worker,
                build_suite(ctx.deps.request.seed),
                env=GradingEnv(typescript=ctx.state.toolchain),
                bounds=replace(run.bounds(), run_deadline=deadline.at, run_deadline_name=deadline.name),
                concurrency=settings.ao_interview_concurrency,
                redact=run.runtime.redact,
                usage=run,
                deadline=deadline,
                worker_id=None if ctx.state.spec is None else ctx.state.spec.model_id,
                progress=ctx.deps.progress,
            )
            return ScoreAnswers()


def _deadline(run: RunContext) -> InterviewDeadline:
    """The calls' deadline: a little before the run's (AO_INTERVIEW_TIMEOUT), so scoring fits inside it."""
    seconds = run.runtime.settings.ao_interview_timeout
    assert run.deadline is not None  # `record_run` set it from AO_INTERVIEW_TIMEOUT
    return InterviewDeadline.ending(run.deadline, seconds)


@dataclass
class ScoreAnswers(BaseNode[InterviewState, InterviewDeps, InterviewResult]):
    """Dimension scores, status, task types and advice; an endpoint that mostly failed is unavailable."""

    async def run(self, ctx: Ctx) -> SaveProfile | End[InterviewResult]:
        async with ctx.deps.run.recorded(self):
            toolchain, spec, suite_run = ctx.state.toolchain, ctx.state.spec, ctx.state.suite_run
            assert spec is not None and suite_run is not None  # set by the earlier nodes
            settings = ctx.deps.run.runtime.settings
            note = (
                f"type-checked with the TypeScript compiler {toolchain.version} under strict"
                if toolchain is not None
                else "not type-checked: Node.js or the pinned TypeScript compiler was not found; codegen was "
                "judged by parsing only and cannot qualify"
            )
            meta = InterviewMeta(
                seed=ctx.deps.request.seed,
                ttl=timedelta(days=settings.ao_profile_ttl_days),
                typescript_note=note,
                typescript_verified=toolchain is not None,
                deadline_s=settings.ao_interview_timeout,
            )
            result = build_result(spec, suite_run, meta).model_copy(update={"run_id": ctx.deps.run.run_id})
            if ctx.deps.request.save and result.profile is not None:
                return SaveProfile(result)
            return End(result)


@dataclass
class SaveProfile(BaseNode[InterviewState, InterviewDeps, InterviewResult]):
    """Persist a judged profile (never an unavailable outcome); a worker too slow for the deadline is
    saved blocked, so it is not re-interviewed on every run."""

    result: InterviewResult

    async def run(self, ctx: Ctx) -> End[InterviewResult]:
        async with ctx.deps.run.recorded(self):
            assert self.result.profile is not None
            path = ctx.deps.run.runtime.profiles.save(self.result.profile)
            return End(self.result.model_copy(update={"saved": True, "saved_to": str(path)}))


NODES = (ResolveEndpoint, AskCases, ScoreAnswers, SaveProfile)
GRAPH = build_graph(
    WORKFLOW,
    state_type=InterviewState,
    deps_type=InterviewDeps,
    output_type=InterviewResult,
    start=ResolveEndpoint,
    nodes=[AskCases, ScoreAnswers, SaveProfile],
    auto_instrument=False,
)


async def interview_worker(
    runtime: Runtime,
    *,
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    save: bool = False,
    seed: int | None = None,
    progress: ProgressCallback | None = None,
) -> InterviewResult:
    """Interview one worker endpoint and return its profile (saved only when judged and asked to).

    Without a provider and model, the configured worker (or the embedded local model) is interviewed.
    The interview is recorded as a run and ends within AO_INTERVIEW_TIMEOUT (plus grading).
    """
    if (provider is None) != (model is None):
        raise UsageError("give both a provider and a model, or neither to interview the configured worker")
    request = InterviewRequest(
        provider, model, base_url, save, seed if seed is not None else secrets.randbelow(2**31)
    )

    async def body(run: RunContext) -> InterviewResult:
        deps = InterviewDeps(run, request, progress)
        return await GRAPH.run(state=InterviewState(), deps=deps, inputs=ResolveEndpoint())

    inputs: dict[str, Any] = {
        "provider": provider,
        "model": model,
        "base_url": None if base_url is None else strip_credentials(base_url),
        "save": save,
        "seed": request.seed,
    }
    return await record_run(
        runtime,
        WORKFLOW,
        inputs,
        body,
        expected_nodes=len(NODES),
        timeout_s=runtime.settings.ao_interview_timeout,
        summarize=_summarize,
        outcome=_outcome,
    )


def _summarize(result: InterviewResult) -> Mapping[str, Any]:
    """What the run record keeps of an interview: the verdict, its first reasons, the worker's speed."""
    reliability = result.profile.reliability if result.profile is not None else None
    return {
        "worker_id": result.worker_id,
        "status": result.status,
        "saved": result.saved,
        "reasons": result.reasons[:3],
        "latency_p50_ms": reliability.latency_p50_ms if reliability else None,
        "latency_p95_ms": reliability.latency_p95_ms if reliability else None,
    }


def _outcome(result: InterviewResult) -> tuple[RunStatus, str]:
    """A judged worker is a finished interview (whatever its status); an unjudged endpoint is a failed one."""
    if result.outcome == "unavailable":
        return "failed", f"worker {result.worker_id!r} unavailable: {result.unavailable_reason}"
    first = f": {result.reasons[0]}" if result.status == "blocked" and result.reasons else ""
    return "succeeded", f"worker {result.worker_id!r} {result.status}{first}"
