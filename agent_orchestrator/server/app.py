"""The FastMCP app factory: tools, resources and prompts over one `Runtime`.

Thin by design: every tool delegates to a workflow function and only adapts MCP concerns
(progress notifications, error conversion, annotations).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from fastmcp import FastMCP

from agent_orchestrator import __version__
from agent_orchestrator.config import Settings
from agent_orchestrator.durable.control import DurableRuns
from agent_orchestrator.providers import ModelFactory
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.argument_errors import ArgumentErrors
from agent_orchestrator.server.config_tools import add_config_tools
from agent_orchestrator.server.prompts import add_prompts
from agent_orchestrator.server.resources import add_resources
from agent_orchestrator.server.run_tools import add_run_tools
from agent_orchestrator.server.usage_tools import add_usage_tools
from agent_orchestrator.server.worker_tools import add_worker_tools
from agent_orchestrator.server.workflow_tools import add_workflow_tools

INSTRUCTIONS = """\
agent-orchestrator: a leader model plans and reviews, worker models do narrow tasks, deterministic checks validate.
1. Onboard: list_models (what is configured), interview_worker with save=true (no worker gets work before \
passing), list_workers (status, stale profiles to re-interview).
2. Work: plan (a plan only), run_leader_worker (plan, workers do the steps, leader reviews), review (diff_range, \
diff_file or files), fix_error (an error_log within a scope); validate runs allowlisted checks without a model.
3. Runs: every workflow records a run: list_runs, get_run, get_artifact for large outputs; get_usage for spend. \
Long work: start_run (returns a run_id at once; durable), poll get_run, cancel_run, resume_run.
show_config shows the settings and where each comes from.
Dry-run by default: patches are returned, not written; write=true applies them only when AO_ALLOW_WRITE=true \
and AO_DRY_RUN=false."""


def create_server_for(
    settings: Settings, model_factory: ModelFactory | None = None, *, may_execute: bool = False
) -> FastMCP:
    """The server over already-loaded settings (what `ao` runs).

    `model_factory` builds every model the server's workflows call; None means the real one
    (`providers.build_model`). Embedders and tests pass scripted models here.
    """
    return create_server(Runtime.create(settings, model_factory), may_execute=may_execute)


def create_server(runtime: Runtime | None = None, *, may_execute: bool = False) -> FastMCP:
    """Build the MCP server; pass a `Runtime` to control settings, models and the state dir.

    `may_execute`: this server may execute background runs itself (`ao mcp serve`: it becomes the
    state dir's executor when none runs); otherwise (the in-process server of an `ao` command) a
    background executor process is started for them.
    """
    runtime = runtime or Runtime.create()
    settings = runtime.settings
    durable = DurableRuns(runtime, may_execute=may_execute)

    @asynccontextmanager
    async def lifespan(_server: FastMCP) -> AsyncGenerator[dict[str, Any]]:
        async with durable.serving():
            yield {}

    server = FastMCP(
        settings.mcp_server_name,
        instructions=INSTRUCTIONS,
        version=settings.mcp_server_version or __version__,
        mask_error_details=True,
        lifespan=lifespan,
    )
    server.add_middleware(ArgumentErrors())
    add_worker_tools(server, runtime)
    add_workflow_tools(server, runtime, durable)
    add_run_tools(server, runtime, durable)
    add_usage_tools(server, runtime)
    add_config_tools(server, runtime)
    add_resources(server, runtime)
    add_prompts(server)
    return server
