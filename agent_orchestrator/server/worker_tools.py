"""Worker onboarding tools: interview a worker, list and show profiles, list models."""

from __future__ import annotations

from typing import Annotated

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from agent_orchestrator.domain.profile import InterviewResult
from agent_orchestrator.queries import workers
from agent_orchestrator.queries.workers import ModelsListing, WorkerList, WorkerProfileView
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.annotations import READ_ONLY
from agent_orchestrator.server.edge import at_edge
from agent_orchestrator.workflows import interview as interview_flow


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
            Field(description="litellm, openai-compatible, ollama, local, ...; omit for the configured worker"),
        ] = None,
        model: Annotated[str | None, Field(description="Model name at that provider")] = None,
        base_url: Annotated[str | None, Field(description="Endpoint base URL; overrides configured ones")] = None,
        save: Annotated[bool, Field(description="Persist the profile to the state dir")] = False,
        seed: Annotated[int | None, Field(description="Variant seed, to reproduce an interview")] = None,
    ) -> InterviewResult:
        """Interview a worker model on six deterministic dimensions and return its capability profile."""

        async def progress(done: int, total: int, message: str) -> None:
            await ctx.report_progress(done, total, message)

        return await interview_flow.interview_worker(
            runtime, provider=provider, model=model, base_url=base_url, save=save, seed=seed, progress=progress
        )

    @server.tool(annotations=READ_ONLY)
    @edge
    async def list_workers() -> WorkerList:
        """List saved worker profiles with status and whether each is stale."""
        return workers.list_workers(runtime)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def get_worker_profile(
        worker_id: Annotated[str, Field(description="provider:model, e.g. litellm:qwen3-coder")],
    ) -> WorkerProfileView:
        """Show one saved worker profile with its evidence and freshness."""
        return workers.get_worker_profile(runtime, worker_id)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def list_models() -> ModelsListing:
        """List configured leader/worker models, providers and whether the embedded model is installed."""
        return workers.list_models(runtime)
