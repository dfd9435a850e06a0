"""Resources: the worker list, each worker profile, each run record (JSON)."""

from __future__ import annotations

from collections.abc import Callable

from fastmcp import FastMCP
from fastmcp.exceptions import ResourceError
from pydantic import BaseModel

from agent_orchestrator.errors import AOError
from agent_orchestrator.queries import runs as runs_flow
from agent_orchestrator.queries import workers
from agent_orchestrator.runtime import Runtime


def add_resources(server: FastMCP, runtime: Runtime) -> None:
    @server.resource("ao://workers", mime_type="application/json", name="worker-list")
    def worker_list() -> str:
        """Saved worker profiles: status and freshness (as the list_workers tool returns them)."""
        return _as_json(runtime, lambda: workers.list_workers(runtime))

    @server.resource("ao://runs/{run_id}", mime_type="application/json", name="run")
    def run_record(run_id: str) -> str:
        """One workflow run's record (as the get_run tool returns it)."""
        return _as_json(runtime, lambda: runs_flow.get_run(runtime, run_id))

    @server.resource("ao://workers/{worker_id}", mime_type="application/json", name="worker-profile")
    def worker_profile(worker_id: str) -> str:
        """One saved worker profile, by provider:model (as the get_worker_profile tool returns it)."""
        return _as_json(runtime, lambda: workers.get_worker_profile(runtime, worker_id))


def _as_json(runtime: Runtime, read: Callable[[], BaseModel]) -> str:
    """A resource's JSON; our errors reach the client as a redacted `ResourceError`."""
    try:
        return read().model_dump_json(indent=2)
    except AOError as exc:
        raise ResourceError(runtime.redact(str(exc))) from None
