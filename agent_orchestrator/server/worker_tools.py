"""Worker onboarding tools: interview a worker, list and show profiles, list models."""

from __future__ import annotations

from typing import Annotated

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from agent_orchestrator.domain.leader_profile import LeaderInterviewResult
from agent_orchestrator.domain.profile import InterviewResult
from agent_orchestrator.queries import workers
from agent_orchestrator.queries.workers import ModelsListing, WorkerList, WorkerProfileView
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.annotations import READ_ONLY
from agent_orchestrator.server.edge import at_edge


def add_worker_tools(server: FastMCP, runtime: Runtime) -> None:
    edge = at_edge(runtime.redact)

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
        ),
    )
    @edge
    async def interview_worker(
        ctx: Context,
        provider: Annotated[
            str | None,
            Field(description="A provider list_models names, with model; omit both for the configured worker"),
        ] = None,
        model: Annotated[str | None, Field(description="Model name at that provider; give with provider")] = None,
        base_url: Annotated[str | None, Field(description="Endpoint base URL")] = None,
        save: Annotated[bool, Field(description="Save it: workflows route to it")] = False,
        seed: Annotated[int | None, Field(description="Case-variant seed (reproduces an interview)")] = None,
    ) -> InterviewResult:
        """Onboard a worker before it gets work: 19 cases over six dimensions, checked deterministically:
        active|limited|blocked|unavailable, scores, reasons, allowed task types. Cost: a worker call per case."""

        async def progress(done: int, total: int, message: str) -> None:
            await ctx.report_progress(done, total, message)

        # The interview (pydantic-evals, the agent stack) is imported on the first call, not at start.
        from agent_orchestrator.workflows.interview import interview_worker as run_interview

        return await run_interview(
            runtime, provider=provider, model=model, base_url=base_url, save=save, seed=seed, progress=progress
        )

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
        ),
    )
    @edge
    async def interview_leader(
        ctx: Context,
        provider: Annotated[
            str | None, Field(description="With model; omit both for the configured leader")
        ] = None,
        model: Annotated[str | None, Field(description="Model name at that provider")] = None,
        base_url: Annotated[str | None, Field(description="Endpoint base URL")] = None,
        save: Annotated[bool, Field(description="Save it: workflows refuse roles it failed")] = False,
        seed: Annotated[int | None, Field(description="Case-variant seed")] = None,
    ) -> LeaderInterviewResult:
        """Vet the leader: 18 cases (plans, diffs with planted defects, verdicts on worker outputs, fixes)
        asked as workflows ask; active|limited|blocked per role. Cost: a leader model call per case."""

        async def progress(done: int, total: int, message: str) -> None:
            await ctx.report_progress(done, total, message)

        from agent_orchestrator.workflows.leader_interview import interview_leader as run_interview

        return await run_interview(
            runtime, provider=provider, model=model, base_url=base_url, save=save, seed=seed, progress=progress
        )

    @server.tool(annotations=READ_ONLY)
    @edge
    async def list_workers() -> WorkerList:
        """List saved worker profiles: status and whether each is stale (re-interview those). No model calls."""
        return workers.list_workers(runtime)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def get_worker_profile(
        worker_id: Annotated[str, Field(description="provider:model, as list_workers shows")],
    ) -> WorkerProfileView:
        """Show one saved worker profile: scores, per-case evidence, routing policy, freshness. No model calls."""
        return workers.get_worker_profile(runtime, worker_id)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def list_models() -> ModelsListing:
        """Start here: configured leader and worker models, providers, whether the embedded local model is
        installed, and configuration problems. No model calls."""
        return workers.list_models(runtime)
