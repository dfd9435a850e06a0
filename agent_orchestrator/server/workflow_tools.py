"""Workflow tools: validate (and the engineering workflows)."""

from __future__ import annotations

from typing import Annotated

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.annotations import READ_ONLY
from agent_orchestrator.server.edge import at_edge
from agent_orchestrator.workflows import catalog
from agent_orchestrator.workflows import fix_error as fix_flow
from agent_orchestrator.workflows import leader_worker as leader_worker_flow
from agent_orchestrator.workflows import planning as planning_flow
from agent_orchestrator.workflows import review as review_flow
from agent_orchestrator.workflows import validate as validate_flow
from agent_orchestrator.workflows.catalog import WorkflowCatalog
from agent_orchestrator.workflows.fix_error import FixResult
from agent_orchestrator.workflows.leader_worker import LeaderWorkerResult
from agent_orchestrator.workflows.planning import PlanResult
from agent_orchestrator.workflows.recorder import ProgressCallback
from agent_orchestrator.workflows.review import ReviewResult
from agent_orchestrator.workflows.validate import ValidationReport

# With writes allowed and asked for, accepted patches overwrite or delete workspace files.
WRITES_FILES = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)
MODEL_WORKFLOW = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)


def progress_of(ctx: Context) -> ProgressCallback:
    """A workflow progress callback that sends MCP progress notifications."""

    async def report(done: int, total: int, message: str) -> None:
        await ctx.report_progress(done, total, message)

    return report


def add_workflow_tools(server: FastMCP, runtime: Runtime) -> None:
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

    @server.tool(annotations=MODEL_WORKFLOW)
    @edge
    async def review(
        ctx: Context,
        diff_range: Annotated[str | None, Field(description="A git range, e.g. main...HEAD")] = None,
        diff_file: Annotated[str | None, Field(description="A unified diff file in the workspace")] = None,
        files: Annotated[list[str] | None, Field(description="Whole files to review")] = None,
    ) -> ReviewResult:
        """Review a change: deterministic analysis, then risks that each cite a file and line of the diff."""
        return await review_flow.review(
            runtime, diff_range=diff_range, diff_file=diff_file, files=files, progress=progress_of(ctx)
        )

    @server.tool(annotations=MODEL_WORKFLOW)
    @edge
    async def plan(
        ctx: Context,
        goal: Annotated[str, Field(min_length=1, max_length=4000, description="What to achieve")],
        context_files: Annotated[
            list[str] | None, Field(description="Workspace files the leader should read")
        ] = None,
    ) -> PlanResult:
        """Plan a goal: steps with task types and dependencies, worker assignments, risks, validation."""
        return await planning_flow.plan(
            runtime, goal, context_files=context_files or (), progress=progress_of(ctx)
        )

    @server.tool(annotations=WRITES_FILES)
    @edge
    async def run_leader_worker(
        ctx: Context,
        goal: Annotated[str, Field(min_length=1, max_length=4000, description="What to achieve")],
        scope: Annotated[str | None, Field(description="Directory inside the workspace to work in")] = None,
        context_files: Annotated[
            list[str] | None, Field(description="Workspace files the leader should read")
        ] = None,
        worker_profile: Annotated[
            str | None, Field(description="Use this saved worker profile as given (no re-interview)")
        ] = None,
        write: Annotated[bool, Field(description="Apply accepted patches, if policy allows writes")] = False,
    ) -> LeaderWorkerResult:
        """Plan, route steps to qualified workers, validate every output, leader review; patches returned."""
        return await leader_worker_flow.leader_worker(
            runtime,
            goal,
            scope=scope,
            context_files=context_files or (),
            worker_profile=worker_profile,
            write=write,
            progress=progress_of(ctx),
        )

    @server.tool(annotations=WRITES_FILES)
    @edge
    async def fix_error(
        ctx: Context,
        error_log: Annotated[str, Field(description="A tool's error log file in the workspace")],
        scope: Annotated[str, Field(description="The directory the fix may touch")],
        write: Annotated[
            bool, Field(description="Apply the checked patch and validate it, if policy allows writes")
        ] = False,
        apply: Annotated[
            bool | None,
            Field(
                description="Deprecated: the old name of `write`; true asks for the write too",
                json_schema_extra={"deprecated": True},
            ),
        ] = None,
    ) -> FixResult:
        """Parse an error log, propose a checked patch and its validation; apply, validate, restore on failure."""
        return await fix_flow.fix_error(
            runtime, error_log=error_log, scope=scope, write=write or bool(apply), progress=progress_of(ctx)
        )

    @server.tool(annotations=READ_ONLY)
    @edge
    async def list_workflows() -> WorkflowCatalog:
        """Describe each workflow's graph: nodes, edges and a mermaid diagram."""
        return catalog.list_workflows()
