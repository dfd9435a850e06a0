"""Review, fix-error and plan against a faulty leader on a real socket: bounded, counted, recorded, degraded.

Each workflow runs over the in-memory MCP client, its leader the real OpenAI-compatible model the
registry builds (SDK retries off), pointed at the fault server. Every fault ends in bounded time
with the right status, the attempts the retry policy allows (counted at the server), the failed
call in the run's usage and in the ledger, no traceback and no file written; review keeps its
analysis (a secret in the diff is still reported), fix-error its parsed errors and context, and
plan's error names the cause.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client
from fault_server import Action, FaultServer, Hang, HTTPError, Huge
from git_repos import SECRET, broken_commit_repo
from real_models import TRANSIENT_FAULTS, RealModels, endpoint_settings

from agent_orchestrator.config import load_settings
from agent_orchestrator.queries.runs import get_run
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

pytestmark = pytest.mark.anyio

MAX_RETRIES = 2
TRANSIENT = 1 + MAX_RETRIES
OUTPUT_TRIES = 3  # a call and its two output retries (`agent_for`'s retries=2)
LEADER = "openai-compatible:fault-model"


@dataclass(frozen=True)
class Fault:
    """What the leader's endpoint does to every request, and what the run must make of it."""

    action: Action
    attempts: int  # requests the server sees: the retry policy's, or the output retries'
    cause: str  # in the one-line cause
    call_timeout: float = 10.0
    rejected_output: bool = False


FAULTS = {
    **{
        name: Fault(action, TRANSIENT, f"kept failing ({kind}")
        for name, (action, kind) in TRANSIENT_FAULTS.items()
    },
    "429-retry-after-past-deadline": Fault(HTTPError(429, retry_after=30), 1, "the server asked to wait 30.0 s"),
    "hang": Fault(Hang(20), 1, "no answer before the call's deadline of 0.5 s", call_timeout=0.5),
    "4mb-answer": Fault(Huge(), OUTPUT_TRIES, "invalid output after its retries", rejected_output=True),
    "401": Fault(HTTPError(401), 1, "refused the key"),
}
FAULT_PARAMS = [pytest.param(fault, id=name) for name, fault in FAULTS.items()]


def runtime_at(server: FaultServer, fault: Fault, models: RealModels) -> Runtime:
    settings = load_settings(
        **endpoint_settings(server),
        ao_model_max_retries=MAX_RETRIES,
        ao_model_call_timeout=fault.call_timeout,
        ao_dry_run=False,
        ao_allow_write=True,
    )
    return Runtime.create(settings, models)


def workspace_files(root: Path) -> dict[str, bytes]:
    """Every file of the workspace but the state dir and git's own."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).parts[0] not in (".ao", ".git", ".xdg-config")
    }


@pytest.fixture
def workspace(isolated_env: Path) -> Path:
    """A repository whose last commit adds a secret and breaks calc.py; a type checker's log of its error."""
    return broken_commit_repo(isolated_env)


async def call(runtime: Runtime, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any] | None, str, float]:
    """The tool's structured result (None for an error), the text it returned, and how long it took."""
    started = time.monotonic()
    with anyio.fail_after(30):
        async with Client(create_server(runtime)) as client:
            result = await client.call_tool(tool, arguments, raise_on_error=False)
    text = " ".join(getattr(block, "text", "") for block in result.content)
    return (None if result.is_error else result.structured_content), text, time.monotonic() - started


async def call_failing(
    workspace: Path, fault: Fault, models: RealModels, tool: str, arguments: dict[str, Any]
) -> tuple[Runtime, FaultServer, dict[str, Any] | None, str]:
    """Call `tool` with the leader failing as `fault` says: it ends in bounded time, after the attempts
    `fault` allows, with no file written. The runtime, the (stopped) server, the tool's result and text."""
    before = workspace_files(workspace)
    with FaultServer(default=fault.action) as server:
        runtime = runtime_at(server, fault, models)
        result, text, took = await call(runtime, tool, arguments)
        assert server.count == fault.attempts
    assert took < fault.call_timeout + 5
    assert workspace_files(workspace) == before
    return runtime, server, result, text


def check_recorded(runtime: Runtime, fault: Fault, server: FaultServer, status: str) -> dict[str, Any]:
    """The run's record and ledger hold the one failed call with every attempt; `get_run` says why."""
    [listed] = runtime.runs.list()
    view = get_run(runtime, listed.run_id)
    assert view.status == status and fault.cause in view.reason, view.reason
    assert view.usage["calls"] == 1 and view.usage["failed_calls"] == 1
    assert view.usage["retries"] == fault.attempts - 1
    [call_record] = runtime.ledger.for_run(view.run_id)
    assert (call_record.role, call_record.model_id, call_record.attempts) == ("leader", LEADER, server.count)
    assert call_record.error is not None and fault.cause in call_record.error
    assert view.leader_model == LEADER and view.failure is not None and fault.cause in view.failure
    [model] = view.models
    assert (model.model_id, model.calls, model.failed_calls, model.retries) == (LEADER, 1, 1, fault.attempts - 1)
    assert bool(view.validation_errors) == fault.rejected_output, view.validation_errors
    assert "Traceback" not in view.model_dump_json()
    return view.model_dump(mode="json")


@pytest.mark.parametrize("fault", FAULT_PARAMS)
async def test_review_keeps_its_analysis_when_the_reviewer_fails(
    workspace: Path, fault: Fault, real_models: RealModels
) -> None:
    runtime, server, result, text = await call_failing(
        workspace, fault, real_models, "review", {"diff_range": "HEAD~1..HEAD"}
    )
    assert result is not None, f"a partial review is a result, not an error: {text}"
    assert result["status"] == "partial"
    assert fault.cause in result["failure"]["cause"] and result["failure"]["step"] == "ReviewParts"
    assert result["analysis"]["file_count"] == 2 and result["analysis"]["secrets"]
    assert ("settings.py", "analysis") in [(risk["file"], risk["source"]) for risk in result["risks"]]
    assert SECRET not in json.dumps(result) and "Traceback" not in text
    check_recorded(runtime, fault, server, "partial")


@pytest.mark.parametrize("fault", FAULT_PARAMS)
async def test_fix_error_keeps_its_errors_and_context_and_writes_nothing(
    workspace: Path, fault: Fault, real_models: RealModels
) -> None:
    runtime, server, result, text = await call_failing(
        workspace, fault, real_models, "fix_error", {"error_log": "mypy.log", "scope": ".", "write": True}
    )
    assert result is not None, f"a failed fix is a result, not an error: {text}"
    assert result["status"] == "failed"
    assert fault.cause in result["reason"] and "nothing was written" in result["reason"]
    assert fault.cause in result["failure"]["cause"] and result["failure"]["step"] == "ProposeFix"
    assert [(e["file"], e["line"]) for e in result["errors"]] == [("calc.py", 2)]
    assert result["context_files"] == ["calc.py"] and result["patch"] == "" and not result["applied"]
    assert "Traceback" not in text
    record = check_recorded(runtime, fault, server, "failed")
    assert record["result"]["context_files"] == ["calc.py"]


@pytest.mark.parametrize("fault", FAULT_PARAMS)
async def test_plan_fails_with_the_cause_and_keeps_it_in_the_run_record(
    workspace: Path, fault: Fault, real_models: RealModels
) -> None:
    runtime, server, result, text = await call_failing(
        workspace, fault, real_models, "plan", {"goal": "make add add", "context_files": ["calc.py"]}
    )
    assert result is None
    assert fault.cause in text and "internal error" not in text and "Traceback" not in text
    record = check_recorded(runtime, fault, server, "failed")
    assert record["result"]["failure"]["step"] == "DraftSteps"
    if fault.rejected_output:
        assert "the rejected output" in text, "a rejected output's errors are in the error message"
