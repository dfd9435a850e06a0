"""The FastMCP app factory: tools, resources and prompts over one `Runtime`.

Thin by design: every tool delegates to a workflow function and only adapts MCP concerns
(progress notifications, error conversion, annotations).
"""

from __future__ import annotations

from typing import Annotated

from fastmcp import Context, FastMCP
from fastmcp.exceptions import ResourceError
from mcp.types import ToolAnnotations
from pydantic import Field

from agent_orchestrator import __version__
from agent_orchestrator.errors import AOError
from agent_orchestrator.interview.profile import Dimension, InterviewResult
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.edge import at_edge
from agent_orchestrator.store.runs import RunRecord
from agent_orchestrator.workflows import interview as interview_flow
from agent_orchestrator.workflows import runs as runs_flow
from agent_orchestrator.workflows import validate as validate_flow
from agent_orchestrator.workflows import workers
from agent_orchestrator.workflows.runs import ArtifactPage, RunList
from agent_orchestrator.workflows.validate import ValidationReport
from agent_orchestrator.workflows.workers import ModelsListing, WorkerList, WorkerProfileView

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
INSTRUCTIONS = (
    "agent-orchestrator: interview worker models before they get work, then route engineering tasks to "
    "qualified workers. Start with list_models, then interview_worker."
)


def create_server(runtime: Runtime | None = None) -> FastMCP:
    """Build the MCP server; pass a `Runtime` to control settings, models and the state dir."""
    runtime = runtime or Runtime.create()
    settings = runtime.settings
    server = FastMCP(
        settings.mcp_server_name,
        instructions=INSTRUCTIONS,
        version=settings.mcp_server_version or __version__,
        mask_error_details=True,
    )
    _add_worker_tools(server, runtime)
    _add_deterministic_tools(server, runtime)
    _add_run_tools(server, runtime)
    _add_resources(server, runtime)
    _add_prompts(server)
    return server


def _add_worker_tools(server: FastMCP, runtime: Runtime) -> None:
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


def _add_deterministic_tools(server: FastMCP, runtime: Runtime) -> None:
    edge = at_edge(runtime.redact)

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
        ),
    )
    @edge
    async def validate(
        commands: Annotated[
            list[str], Field(description="Allowlisted commands, e.g. ['pytest -q', 'ruff check .']")
        ],
        cwd: Annotated[str | None, Field(description="Working directory inside the workspace")] = None,
        timeout_s: Annotated[float, Field(gt=0, le=3600, description="Deadline per command, seconds")] = 300.0,
    ) -> ValidationReport:
        """Run allowlisted validation commands (no shell) and return exit codes and parsed errors."""
        return await validate_flow.validate(runtime, commands, cwd=cwd, timeout_s=timeout_s)


def _add_run_tools(server: FastMCP, runtime: Runtime) -> None:
    edge = at_edge(runtime.redact)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def list_runs(
        limit: Annotated[int, Field(ge=1, le=1000, description="How many recent runs")] = 50,
    ) -> RunList:
        """List recent workflow runs, newest first."""
        return runs_flow.list_runs(runtime, limit)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def get_run(run_id: Annotated[str, Field(description="A run id, e.g. run_0123abcd4567")]) -> RunRecord:
        """Show one run: inputs (redacted), status and reason, nodes with timings, usage, artifacts."""
        return runs_flow.get_run(runtime, run_id)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def get_artifact(
        run_id: str,
        artifact_id: str,
        offset: Annotated[int, Field(ge=0)] = 0,
        limit: Annotated[int, Field(ge=1, le=runs_flow.MAX_ARTIFACT_PAGE)] = runs_flow.MAX_ARTIFACT_PAGE,
    ) -> ArtifactPage:
        """Read a run's large output (a diff, a log) page by page."""
        return runs_flow.get_artifact(runtime, run_id, artifact_id, offset, limit)


def _add_resources(server: FastMCP, runtime: Runtime) -> None:
    @server.resource("ao://workers", mime_type="application/json", name="worker-list")
    def worker_list() -> str:
        """Saved worker profiles: status and freshness."""
        try:
            return workers.list_workers(runtime).model_dump_json(indent=2)
        except AOError as exc:
            raise ResourceError(runtime.redact(str(exc))) from None

    @server.resource("ao://runs/{run_id}", mime_type="application/json", name="run")
    def run_record(run_id: str) -> str:
        """One workflow run's record."""
        try:
            return runs_flow.get_run(runtime, run_id).model_dump_json(indent=2)
        except AOError as exc:
            raise ResourceError(runtime.redact(str(exc))) from None

    @server.resource("ao://workers/{worker_id}", mime_type="application/json", name="worker-profile")
    def worker_profile(worker_id: str) -> str:
        """One saved worker profile."""
        try:
            return workers.get_worker_profile(runtime, worker_id).model_dump_json(indent=2)
        except AOError as exc:
            raise ResourceError(runtime.redact(str(exc))) from None


def _add_prompts(server: FastMCP) -> None:
    from agent_orchestrator.interview.suite import WORKER_INSTRUCTIONS, build_suite

    @server.prompt(name="worker_interview_instructions")
    def worker_interview_instructions() -> str:
        """The system instructions every interviewed worker receives."""
        return WORKER_INSTRUCTIONS

    @server.prompt(name="interview_case")
    def interview_case(dimension: Dimension, seed: int = 0) -> str:
        """A sample interview case for one dimension, as the worker sees it."""
        cases = build_suite(seed, (dimension,))
        body = "\n\n---\n\n".join(f"[{case.case_id}]\n{case.prompt}" for case in cases)
        return f"{WORKER_INSTRUCTIONS}\n\n{body}"
