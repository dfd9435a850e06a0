"""The durable run itself: one DBOS workflow (`ao.run`) that runs any workflow job, steps journaled.

Imported only by an executor (it imports `dbos`, and registers the workflow, which must happen
before DBOS launches, or a dequeued run would stick as "not a registered workflow").

`ao.run(run_id, tool, arguments)` takes up the run record the submitter created, runs the tool's
workflow in this executor's runtime, and journals every `recorded_step` as a DBOS step: a run
resumed after a crash or a cancel replays recorded steps (their values, their model calls and
warnings) and runs the rest. A cancel (`cancel_run`, from any process) stops it at once here: the
executor watches its runs and cancels the one asked for, which ends its record `cancelled`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import anyio
from dbos import DBOS
from dbos._error import DBOSWorkflowCancelledError
from pydantic import BaseModel

from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.steps import StepBody, StepEffects, capturing
from agent_orchestrator.durable.database import WORKFLOW_NAME
from agent_orchestrator.durable.jobs import job_for
from agent_orchestrator.queries.runs import RESULT_ARTIFACT
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.recorder import RunContext, adopted, register_cancellation

MAX_RECOVERY_ATTEMPTS = 5  # a run that kills its executor this often ends MAX_RECOVERY_ATTEMPTS_EXCEEDED

register_cancellation(DBOSWorkflowCancelledError)


@dataclass
class ExecutorHost:
    """What the runs this process executes share: its runtime, who listens to a run's progress, and
    the cancel scope of each run in flight."""

    runtime: Runtime
    listeners: dict[str, ProgressCallback] = field(default_factory=dict[str, ProgressCallback])
    stopping: str | None = None  # why this executor stops: its runs in flight end interrupted (resumable)
    scopes: dict[str, anyio.CancelScope] = field(default_factory=dict[str, anyio.CancelScope])

    def progress_of(self, run_id: str) -> ProgressCallback:
        async def report(done: int, total: int, message: str) -> None:
            listener = self.listeners.get(run_id)
            if listener is not None:
                await listener(done, total, message)

        return report


_HOST: list[ExecutorHost] = []


def host() -> ExecutorHost:
    if not _HOST:
        raise RuntimeError("no executor runs in this process: a durable run was dequeued before its host was set")
    return _HOST[0]


def set_host(executor: ExecutorHost | None) -> None:
    _HOST.clear()
    if executor is not None:
        _HOST.append(executor)


class DbosJournal:
    """Records a run's steps as DBOS steps; a recorded step's effects are reported to the run again."""

    def __init__(self, run: RunContext) -> None:
        self._run = run

    async def step(self, name: str, fn: StepBody) -> Any:
        def run_step(body: StepBody) -> Awaitable[Any]:
            return DBOS.run_step_async({"name": name}, body)

        return await self.record(name, fn, run_step)

    def reserve(self, name: str) -> _Slot:
        return _Slot(self, name, DBOS.reserve_step())

    async def record(self, name: str, fn: StepBody, run_step: Any) -> Any:
        """Run `fn` through `run_step` (a DBOS step, fresh or reserved), capturing what it reports; replayed,
        report that again."""
        ran = False

        async def body() -> tuple[Any, list[Any], list[str]]:
            nonlocal ran
            ran = True
            effects = StepEffects()
            with capturing(effects):
                value = await fn()
            return value, effects.calls, effects.warnings

        value, calls, warnings = await run_step(body)
        if not ran:  # replayed: what it reported when it ran is reported again
            self._run.replay(StepEffects(list(calls), list(warnings)))
        return value


@dataclass
class _Slot:
    journal: DbosJournal
    name: str
    reservation: Any

    async def run(self, fn: StepBody) -> Any:
        def run_step(body: Any) -> Awaitable[Any]:
            return self.reservation.run_async({"name": self.name}, body)

        return await self.journal.record(self.name, fn, run_step)


@DBOS.workflow(name=WORKFLOW_NAME, max_recovery_attempts=MAX_RECOVERY_ATTEMPTS)
async def execute_run(run_id: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Run `tool`'s workflow as the run `run_id`; its result as data (also kept as the run's artifact).

    A retry is a fork of a failed run: the same inputs under a new workflow id, which is its run's id.
    """
    run_id = DBOS.workflow_id or run_id
    executor = host()
    job = job_for(tool)
    checked = job.arguments.model_validate(arguments)
    result: BaseModel | None = None
    with anyio.CancelScope() as scope:
        executor.scopes[run_id] = scope
        try:
            with adopted(run_id, DbosJournal, lambda: executor.stopping):
                result = await job.run(executor.runtime, checked, executor.progress_of(run_id))
        finally:
            executor.scopes.pop(run_id, None)
    if result is None:  # its cancel scope was cancelled: `cancel_run`
        raise DBOSWorkflowCancelledError(f"run {run_id} was cancelled")
    output = result.model_dump(mode="json")
    executor.runtime.runs.add_artifact(
        run_id, RESULT_ARTIFACT, result.model_dump_json(indent=2), "application/json", artifact_key="result"
    )
    return output
