"""Workflow tools: validate (and the engineering workflows)."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.durable.control import DurableRuns
from agent_orchestrator.durable.jobs import job_for
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.annotations import READ_ONLY
from agent_orchestrator.server.edge import at_edge
from agent_orchestrator.workflows.catalog import WorkflowCatalog
from agent_orchestrator.workflows.fix_error.result import FixResult
from agent_orchestrator.workflows.leader_worker.result import LeaderWorkerResult
from agent_orchestrator.workflows.plan_result import PlanResult
from agent_orchestrator.workflows.review.result import ReviewResult
from agent_orchestrator.workflows.validate import ValidationReport

R = TypeVar("R", bound=BaseModel)

# Only the result types are imported here (their output schemas are declared when the server
# starts); each tool imports its workflow, and with it the agent stack, on its first call.

# With writes allowed and asked for, accepted patches overwrite or delete workspace files.
WRITES_FILES = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)
MODEL_WORKFLOW = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)


# Every tool that reads, runs or writes workspace files takes it; the server checks it (`Runtime.for_repository`).
Repository = Annotated[
    str | None,
    Field(description="In AO_ALLOWED_ROOTS; default workspace"),
]
# `review` and `plan` take it; checked against the configuration before anything runs or is queued.
SecondOpinion = Annotated[
    str | None,
    Field(description="Second model (provider:model)"),
]


def progress_of(ctx: Context) -> ProgressCallback:
    """A workflow progress callback that sends MCP progress notifications."""

    async def report(done: int, total: int, message: str) -> None:
        await ctx.report_progress(done, total, message)

    return report


def given(arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments a caller gave (the defaults apply to the others when the run executes)."""
    return {key: value for key, value in arguments.items() if value is not None}


def add_workflow_tools(server: FastMCP, runtime: Runtime, durable: DurableRuns) -> None:
    """The workflow tools; in a server that executes runs (`ao mcp serve`), each model workflow runs durably
    (`DurableRuns.run`: a restart resumes it), else inline."""
    edge = at_edge(runtime.redact)

    async def run_workflow(tool: str, arguments: dict[str, Any], ctx: Context, result: type[R]) -> R:
        """`tool`'s workflow through its job (`durable.jobs`): durably when this server executes runs, else
        inline; the job imports the workflow (and the agent stack) on the first call."""
        chosen = given(arguments)
        output = await durable.run(tool, chosen, progress_of(ctx))
        if output is not None:
            return result.model_validate(output)
        job = job_for(tool)
        checked = job.validate(chosen, runtime.settings)
        return result.model_validate(await job.run(runtime, checked, progress_of(ctx)))

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
        ),
    )
    @edge
    async def validate(
        commands: Annotated[
            list[str],
            Field(description="1-20 allowlisted commands, run in order, e.g. 'pytest -q'"),
        ],
        cwd: Annotated[str | None, Field(description="Working directory; default workspace root")] = None,
        timeout_s: Annotated[float, Field(gt=0, le=3600, description="Deadline per command, seconds")] = 300.0,
        repository: Repository = None,
    ) -> ValidationReport:
        """Run allowlisted commands (no shell) to check a change: passed|failed, exit codes, output tails,
        parsed errors. No model calls."""
        from agent_orchestrator.workflows.validate import validate as run_validate

        return await run_validate(runtime.for_repository(repository), commands, cwd=cwd, timeout_s=timeout_s)

    @server.tool(annotations=MODEL_WORKFLOW)
    @edge
    async def review(
        ctx: Context,
        diff_range: Annotated[
            str | None, Field(description="Git commit range, e.g. main...HEAD; or diff_file or files")
        ] = None,
        diff_file: Annotated[str | None, Field(description="Unified diff file; or diff_range or files")] = None,
        files: Annotated[
            list[str] | None,
            Field(description="Up to 100 files, reviewed whole; or diff_range or diff_file"),
        ] = None,
        second_opinion: SecondOpinion = None,
        repository: Repository = None,
    ) -> ReviewResult:
        """Review a change; give exactly one of diff_range, diff_file, files. Deterministic analysis, then a
        reviewer model call per diff part (and by second_opinion: findings both cite are confirmed). Read-only.
        Reviewer failed: partial; echoed injection: needs_attention."""
        arguments = {
            "diff_range": diff_range,
            "diff_file": diff_file,
            "files": files,
            "second_opinion": second_opinion,
            "repository": repository,
        }
        return await run_workflow("review", arguments, ctx, ReviewResult)

    @server.tool(annotations=MODEL_WORKFLOW)
    @edge
    async def plan(
        ctx: Context,
        goal: Annotated[str, Field(min_length=1, max_length=4000, description="What to achieve")],
        context_files: Annotated[list[str] | None, Field(description="Files for the leader to read")] = None,
        second_opinion: SecondOpinion = None,
        repository: Repository = None,
    ) -> PlanResult:
        """Plan without doing: steps, task types, dependencies, workers, risks, validation. Cost: 1-2 leader
        model calls (+1 second_opinion: marks risks both name). Read-only. Checks failed twice: error; echoed
        injection: needs_attention."""
        arguments = {
            "goal": goal,
            "context_files": context_files,
            "second_opinion": second_opinion,
            "repository": repository,
        }
        return await run_workflow("plan", arguments, ctx, PlanResult)

    @server.tool(annotations=WRITES_FILES)
    @edge
    async def run_leader_worker(
        ctx: Context,
        goal: Annotated[str, Field(min_length=1, max_length=4000, description="What to achieve")],
        scope: Annotated[str | None, Field(description="Directory patches may touch")] = None,
        context_files: Annotated[list[str] | None, Field(description="Files for the leader to read")] = None,
        worker_profile: Annotated[
            str | None, Field(description="Saved profile id (provider:model) to use as is")
        ] = None,
        write: Annotated[
            bool, Field(description="Apply accepted patches; needs AO_ALLOW_WRITE=true, AO_DRY_RUN=false")
        ] = False,
        repository: Repository = None,
    ) -> LeaderWorkerResult:
        """Do a goal: plan, route steps to qualified workers (else the leader), check outputs; the leader
        accepts, revises (max 3) or rejects: succeeded|partial|failed; dry-run unless write. Cost: leader and
        worker calls per step."""
        arguments = {
            "goal": goal,
            "scope": scope,
            "context_files": context_files,
            "worker_profile": worker_profile,
            "write": write,
            "repository": repository,
        }
        return await run_workflow("run_leader_worker", arguments, ctx, LeaderWorkerResult)

    @server.tool(annotations=WRITES_FILES)
    @edge
    async def fix_error(
        ctx: Context,
        error_log: Annotated[str, Field(description="File with the error output")],
        scope: Annotated[str, Field(description="Directory the fix may touch")],
        write: Annotated[
            bool, Field(description="Apply the checked patch; needs AO_ALLOW_WRITE=true, AO_DRY_RUN=false")
        ] = False,
        apply: Annotated[
            bool | None,
            Field(
                description="Deprecated alias of write",
                json_schema_extra={"deprecated": True},
            ),
        ] = None,
        repository: Repository = None,
    ) -> FixResult:
        """Fix a failing build or test from its log: cause, checked patch, validation commands
        (fixed|proposed|nothing_to_fix|failed|restored). With write: snapshot, apply, validate, restore on
        failure. Cost: fixer model calls."""
        arguments = {
            "error_log": error_log,
            "scope": scope,
            "write": write or bool(apply),
            "repository": repository,
        }
        return await run_workflow("fix_error", arguments, ctx, FixResult)

    @server.tool(annotations=READ_ONLY)
    @edge
    async def list_workflows() -> WorkflowCatalog:
        """Describe each workflow's graph: nodes, edges, mermaid diagram. No model calls."""
        from agent_orchestrator.workflows.catalog import list_workflows as catalog

        return catalog()
