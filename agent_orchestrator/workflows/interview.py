"""The worker-interview workflow as a graph: resolve the endpoint, ask the cases, score, save.

ResolveEndpoint -> AskCases -> ScoreAnswers -> SaveProfile -> End
                                         \\-> End (not asked to save, or unavailable)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic_ai.models import Model
from pydantic_graph import BaseNode, End, GraphRunContext

from agent_orchestrator.agents.bounds import CallBounds
from agent_orchestrator.domain.profile import InterviewResult
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.errors import UsageError
from agent_orchestrator.interview.case import GradingEnv
from agent_orchestrator.interview.runner import SuiteRun, run_suite
from agent_orchestrator.interview.scoring import InterviewMeta, build_result
from agent_orchestrator.interview.suite import build_suite
from agent_orchestrator.interview.typescript import TypeScriptToolchain, find_typescript_toolchain
from agent_orchestrator.providers import ModelSpec, resolve_spec, role_spec
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.graphs import build_graph
from agent_orchestrator.workflows.recorder import retry_policy


@dataclass(frozen=True)
class InterviewRequest:
    provider: str | None
    model: str | None
    base_url: str | None
    save: bool
    seed: int


@dataclass
class InterviewDeps:
    runtime: Runtime
    request: InterviewRequest
    progress: ProgressCallback | None


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
        request, settings = ctx.deps.request, ctx.deps.runtime.settings
        if (request.provider is None) != (request.model is None):
            raise UsageError("give both a provider and a model, or neither to interview the configured worker")
        if request.provider is None or request.model is None:
            default = role_spec(settings, "worker")
            spec = resolve_spec(default.provider, default.model, settings, "worker", request.base_url)
        else:
            spec = resolve_spec(request.provider, request.model, settings, "worker", request.base_url)
        ctx.state.spec = spec
        return AskCases(ctx.deps.runtime.model_factory(spec, settings, "worker"))


@dataclass
class AskCases(BaseNode[InterviewState, InterviewDeps, InterviewResult]):
    """Ask every case (bounded concurrency, deadlines, retries) and grade each answer."""

    worker: Model

    async def run(self, ctx: Ctx) -> ScoreAnswers:
        runtime = ctx.deps.runtime
        settings = runtime.settings
        ctx.state.toolchain = find_typescript_toolchain()
        ctx.state.suite_run = await run_suite(
            self.worker,
            build_suite(ctx.deps.request.seed),
            env=GradingEnv(typescript=ctx.state.toolchain),
            bounds=CallBounds(retry_policy(runtime), timeout_s=settings.ao_model_call_timeout),
            concurrency=settings.ao_interview_concurrency,
            redact=runtime.redact,
            progress=ctx.deps.progress,
        )
        return ScoreAnswers()


@dataclass
class ScoreAnswers(BaseNode[InterviewState, InterviewDeps, InterviewResult]):
    """Dimension scores, status, task types and advice; an endpoint that mostly failed is unavailable."""

    async def run(self, ctx: Ctx) -> SaveProfile | End[InterviewResult]:
        toolchain, spec, suite_run = ctx.state.toolchain, ctx.state.spec, ctx.state.suite_run
        assert spec is not None and suite_run is not None  # set by the earlier nodes
        note = (
            f"type-checked with the TypeScript compiler {toolchain.version} under strict"
            if toolchain is not None
            else "not type-checked: Node.js or the pinned TypeScript compiler was not found; codegen was "
            "judged by parsing only and cannot qualify"
        )
        meta = InterviewMeta(
            seed=ctx.deps.request.seed,
            ttl=timedelta(days=ctx.deps.runtime.settings.ao_profile_ttl_days),
            typescript_note=note,
            typescript_verified=toolchain is not None,
        )
        result = build_result(spec, suite_run, meta)
        if ctx.deps.request.save and result.profile is not None:
            return SaveProfile(result)
        return End(result)


@dataclass
class SaveProfile(BaseNode[InterviewState, InterviewDeps, InterviewResult]):
    """Persist a judged profile (never an unavailable outcome)."""

    result: InterviewResult

    async def run(self, ctx: Ctx) -> End[InterviewResult]:
        assert self.result.profile is not None
        path = ctx.deps.runtime.profiles.save(self.result.profile)
        return End(self.result.model_copy(update={"saved": True, "saved_to": str(path)}))


GRAPH = build_graph(
    "worker-interview",
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
    """
    request = InterviewRequest(
        provider, model, base_url, save, seed if seed is not None else secrets.randbelow(2**31)
    )
    deps = InterviewDeps(runtime, request, progress)
    return await GRAPH.run(state=InterviewState(), deps=deps, inputs=ResolveEndpoint())
