"""Durable runs as the server offers them: start in the background, cancel, resume, and who executes.

`DurableRuns` is the one entry point: the MCP tools (`start_run`, `cancel_run`, `resume_run`) and
`ao ... --detach` / `ao runs cancel|resume` go through it. It never imports the engine's executor
code to read: a run's record (our run store) is what callers poll, kept in step with the engine
by the executor; control operations (enqueue, cancel, resume) go through a DBOS client.

Who executes (embedded SQLite): the process holding the state dir's executor lock. A server
(`may_execute`) takes it when it first needs the engine, and at start when runs were left
unfinished; a CLI starts a background `ao executor` that exits when idle. A run whose executor
died (crash, `kill -9`) is taken up by the next executor to start, from its last recorded step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import AsyncGenerator, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import BaseModel, Field

from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.domain.status import RunStatus
from agent_orchestrator.durable.database import (
    APP_VERSION,
    QUEUE,
    RESULT_POLL_S,
    WORKFLOW_NAME,
    EngineDatabase,
    queue_for,
)
from agent_orchestrator.durable.jobs import job_for
from agent_orchestrator.errors import UsageError
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.atomic import ensure_state_dir
from agent_orchestrator.store.runs import RunRecord

if TYPE_CHECKING:
    from dbos import DBOSClient

    from agent_orchestrator.durable.executor import Executor, ExecutorLock

FINISHED: frozenset[str] = frozenset({"succeeded", "partial", "failed", "refused"})
EXECUTOR_LOG = "executor.log"
CANCEL_WAIT_S = 10.0
logger = logging.getLogger(__name__)


class RunTicket(BaseModel):
    """A run accepted for background execution: poll it with `get_run`, stop it with `cancel_run`."""

    run_id: str
    status: RunStatus
    workflow: str
    executor: str = Field(description="who executes it: this server, a background executor, or nobody yet")
    retry_of: str | None = Field(default=None, description="the failed run this one retries, from its failed step")
    next: str = Field(description="what to call next")


class DurableRuns:
    """Background runs over one runtime; `may_execute`: this process may become the executor."""

    def __init__(self, runtime: Runtime, *, may_execute: bool) -> None:
        self.runtime = runtime
        self.may_execute = may_execute
        self.database = EngineDatabase.of(runtime.settings)
        self._serving = False
        self._executor: Executor | None = None
        self._executor_task: asyncio.Task[None] | None = None
        self._stop = anyio.Event()
        self._background: set[asyncio.Task[None]] = set()
        self._listeners: dict[str, ProgressCallback] = {}  # blocking callers here, by run id
        self._lock: ExecutorLock | None = None
        self._client: DBOSClient | None = None
        self._starting = anyio.Lock()

    # --- lifetime ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def serving(self) -> AsyncGenerator[None]:
        """For a server's lifetime: executes here once needed; takes up unfinished runs (with a shared
        database: joins the executors) a second after start.

        The executor lives in a task of its own (a host may enter and leave the server's lifespan from
        different tasks), stopped when the server stops: its runs in flight stay pending, and the next
        executor resumes them.
        """
        self._serving = True
        # Sharing a database, a server is one of its executors from the start (runs queued by others
        # reach it); embedded, it starts the engine only when it has something to take up.
        if self.may_execute and (self.database.shared or self.runtime.runs.list_unfinished(engine="dbos")):
            self._spawn(self._take_up_unfinished())
        try:
            yield
        finally:
            self._serving = False
            for task in self._background:
                task.cancel()
            self._stop.set()
            if self._executor_task is not None:
                with anyio.CancelScope(shield=True):
                    await asyncio.wait({self._executor_task})
            self._close()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _take_up_unfinished(self) -> None:
        await anyio.sleep(1.0)  # after the host's handshake: the engine's import and launch take ~0.5 s
        try:
            await self.ensure_executor()
        except Exception:  # the runs stay queued; `ao runs resume` or the next start takes them up
            logger.exception("could not start the executor for the unfinished runs")

    def _close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.destroy()
            self._client = None
        if self._lock is not None:
            self._lock.release()
        self._executor = None

    @property
    def executes_here(self) -> bool:
        return self._executor is not None

    # --- start ------------------------------------------------------------------------------------

    async def start(
        self, tool: str, arguments: dict[str, Any], *, listener: ProgressCallback | None = None
    ) -> RunTicket:
        """Queue `tool`'s workflow with `arguments` (checked now, as the tool checks them); returns at once.

        `listener` hears the run's progress when this process executes it.
        """
        job = job_for(tool)
        checked = job.validate(arguments, self.runtime.settings)
        repository = getattr(checked, "repository", None)
        target = self.runtime.for_repository(repository)
        if job.needs_workspace:
            target.safety  # noqa: B018 - no workspace: a UsageError naming what to set, before anything is queued
        root = None if target.workspace_safety is None else str(target.workspace_safety.root)
        run_id = self.runtime.runs.create(
            job.workflow, checked.model_dump(exclude_none=True), status="queued", engine="dbos", workspace=root
        )
        if listener is not None:
            self._listeners[run_id] = listener
        repository = None if target.workspace_safety is None else target.workspace_safety.root
        queue = queue_for(self.database, self.runtime.settings, repository)
        try:
            await self._enqueue(run_id, queue, tool, checked.model_dump(mode="json"))
        except BaseException as exc:
            self.runtime.runs.finish(run_id, "failed", f"it could not be queued: {exc}", {}, {})
            raise
        executor = await self.ensure_executor()
        return _ticket(run_id, job.workflow, executor)

    async def _enqueue(self, run_id: str, queue: str, tool: str, arguments: dict[str, Any]) -> None:
        from dbos import EnqueueOptions

        options: EnqueueOptions = {
            "workflow_name": WORKFLOW_NAME,
            "queue_name": queue,
            "workflow_id": run_id,
            "app_version": APP_VERSION,
        }
        await self.client().enqueue_async(options, run_id, tool, arguments)

    def client(self) -> DBOSClient:
        if self._client is None:
            from agent_orchestrator.durable.database import client

            self._client = client(self.database, self.runtime.redact)
        return self._client

    # --- who executes -----------------------------------------------------------------------------

    async def ensure_executor(self) -> str:
        """Make sure some process executes the queue; says which."""
        async with self._starting:
            if self._executor is not None:
                return "this server"
            if self.database.shared:
                return await self._ensure_shared_executor()
            from agent_orchestrator.durable.executor import ExecutorLock

            if self._lock is None:
                self._lock = ExecutorLock(self.runtime.settings.ao_state_dir)
            if self.may_execute and self._serving and self._lock.acquire():
                await self._execute_here()
                return "this server"
            if self._lock.held_elsewhere():
                return "the executor already running for this state dir"
            return spawned(self.runtime)

    async def _ensure_shared_executor(self) -> str:
        """Shared database: execute here if this is a server; else any live executor of the database will."""
        from agent_orchestrator.durable.liveness import live_executors

        if self.may_execute and self._serving:
            await self._execute_here()
            return "this server"
        alive = await anyio.to_thread.run_sync(live_executors, self.database.url)
        if alive:
            return f"one of the {alive} executors of {self.database.describe()}"
        return spawned(self.runtime, "no other was alive; ")

    async def _execute_here(self) -> None:
        """Launch the executor in its own task and wait until it runs (or failed to start: raised here)."""
        from agent_orchestrator.durable.executor import running

        ready = anyio.Event()

        async def execute() -> None:
            async with running(self.runtime, self._listeners) as executor:
                self._executor = executor
                ready.set()
                await self._stop.wait()
            self._executor = None

        self._executor_task = asyncio.get_running_loop().create_task(execute())
        while not ready.is_set():
            if self._executor_task.done():
                self._executor_task.result()  # its launch failed: raise why
                raise RuntimeError("the executor stopped before it started")
            await anyio.sleep(0.01)

    # --- cancel and resume ------------------------------------------------------------------------

    async def cancel(self, run_id: str) -> RunRecord:
        """Stop a queued or running run: it ends `cancelled`, nothing applied half-way; `resume` continues it."""
        record = self._durable_record(run_id)
        if record.status in FINISHED or record.status == "cancelled":
            raise UsageError(f"run {record.run_id} already ended ({record.status}); there is nothing to cancel")
        await self.client().cancel_workflow_async(record.run_id)
        reason = "cancelled by request"
        if record.status == "queued":
            self.runtime.runs.cancel_queued(record.run_id, f"{reason} before it started")
        elif record.status == "interrupted":
            self.runtime.runs.finish(record.run_id, "cancelled", f"{reason} after it was interrupted", {}, {})
        else:
            await self._wait_until_stopped(record.run_id)
        return self.runtime.runs.get(record.run_id)

    async def _wait_until_stopped(self, run_id: str) -> None:
        """The executor stops a cancelled run within a fraction of a second; wait that long, at most."""
        with anyio.move_on_after(CANCEL_WAIT_S):
            while self.runtime.runs.get(run_id).status == "running":
                await anyio.sleep(0.1)

    async def resume(self, run_id: str) -> RunTicket:
        """Continue a cancelled or interrupted run from its last recorded step (same run id); a failed one is
        retried from the step that failed, as a new run."""
        record = self._durable_record(run_id)
        status, queue = await self._engine_status(record.run_id)
        if status is None:
            raise UsageError(
                f"run {record.run_id} is no longer in the durable engine (its engine records were pruned after "
                f"AO_ENGINE_RETENTION_DAYS); start it again"
            )
        if status == "ERROR":
            return await self._retry(record, queue)
        if status == "SUCCESS":
            raise UsageError(f"run {record.run_id} finished ({record.status}); start a new run to do it again")
        if record.status in ("queued", "running"):
            raise UsageError(
                f"run {record.run_id} is {record.status}; there is nothing to resume (`get_run` polls it)"
            )
        self.runtime.runs.requeue(record.run_id, "resumed by request")
        await self.client().resume_workflow_async(record.run_id, queue_name=queue)
        executor = await self.ensure_executor()
        return _ticket(record.run_id, record.workflow, executor)

    async def _retry(self, record: RunRecord, queue: str) -> RunTicket:
        """A failed run forked from its first failed step (the steps before it are kept, not paid again)."""
        from dbos import SetWorkflowID

        steps = await self.client().list_workflow_steps_async(record.run_id)
        failed = [step["function_id"] for step in steps if step.get("error") is not None]
        start_step = failed[0] if failed else max((step["function_id"] for step in steps), default=1)
        new_id = self.runtime.runs.create(
            record.workflow,
            record.inputs,
            status="queued",
            engine="dbos",
            workspace=record.workspace,
            parent_run_id=record.run_id,
        )
        with SetWorkflowID(new_id):
            await self.client().fork_workflow_async(
                record.run_id, start_step, application_version=APP_VERSION, queue_name=queue
            )
        executor = await self.ensure_executor()
        return _ticket(new_id, record.workflow, executor, retry_of=record.run_id)

    async def _engine_status(self, run_id: str) -> tuple[str | None, str]:
        """The engine's status of the run and its queue (the queue it was tagged with when submitted)."""
        found = await self.client().list_workflows_async(
            workflow_ids=[run_id], load_input=False, load_output=False
        )
        if not found:
            return None, QUEUE
        return found[0].status, found[0].queue_name or QUEUE

    def _durable_record(self, run_id: str) -> RunRecord:
        record = self.runtime.runs.get(run_id.strip())
        if record.engine != "dbos":
            raise UsageError(
                f"run {record.run_id} ran in the foreground, not on the durable engine: it cannot be cancelled or "
                "resumed from here (start runs with `start_run` / `--detach` to get that)"
            )
        return record

    # --- blocking calls ---------------------------------------------------------------------------

    async def run(
        self, tool: str, arguments: dict[str, Any], progress: ProgressCallback | None
    ) -> dict[str, Any] | None:
        """Run `tool` durably and wait for its result (a server's blocking tool call), or None when this
        process cannot execute runs (then the caller runs it inline, as before).

        A crash or restart of the server does not lose the run: the next executor resumes it, and
        `get_run` has its result. A caller that gives up (the host cancels the call) cancels the run.
        """
        if not self.may_execute or await self.ensure_executor() != "this server":
            return None
        # The run reports from the executor's task; the caller's progress is sent from the caller's own
        # (an MCP context's progress needs its request), so reports cross over a bounded stream.
        send, receive = anyio.create_memory_object_stream[tuple[int, int, str]](64)

        async def relay(done: int, total: int, message: str) -> None:
            with contextlib.suppress(anyio.WouldBlock, anyio.BrokenResourceError):
                send.send_nowait((done, total, message))

        ticket = await self.start(tool, arguments, listener=relay)
        output: dict[str, Any] = {}
        failure: Exception | None = None
        try:
            async with anyio.create_task_group() as group:

                async def report() -> None:
                    async for done, total, message in receive:
                        if progress is not None:
                            await progress(done, total, message)

                group.start_soon(report)
                try:
                    handle: Any = await self.client().retrieve_workflow_async(ticket.run_id)
                    output = await handle.get_result(polling_interval_sec=RESULT_POLL_S)
                except Exception as exc:  # raised as itself below, not inside the task group's exception group
                    failure = exc
                finally:
                    send.close()
            if failure is not None:
                raise failure
            return output
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self.client().cancel_workflow_async(ticket.run_id)
            raise
        finally:
            send.close()
            receive.close()
            self._listeners.pop(ticket.run_id, None)


def _ticket(run_id: str, workflow: str, executor: str, retry_of: str | None = None) -> RunTicket:
    return RunTicket(
        run_id=run_id,
        status="queued",
        workflow=workflow,
        executor=executor,
        retry_of=retry_of,
        next=f"poll `get_run {run_id}` (status, progress, result); `cancel_run {run_id}` stops it",
    )


def spawned(runtime: Runtime, why: str = "") -> str:
    """Start a background executor; who executes, as a ticket says it."""
    pid = spawn_executor(runtime)
    return f"a background executor (pid {pid}; {why}it exits after {runtime.settings.ao_executor_idle_s:g} s idle)"


def spawn_executor(runtime: Runtime) -> int:
    """Start `ao executor` in its own session (it outlives this process), logging to the state dir; its pid."""
    state_dir = runtime.settings.ao_state_dir
    ensure_state_dir(state_dir)
    log_path = state_dir / EXECUTOR_LOG
    descriptor = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agent_orchestrator.cli",
                "executor",
                "--idle",
                str(runtime.settings.ao_executor_idle_s),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=descriptor,
            start_new_session=True,
            env={**os.environ, "AO_STATE_DIR": str(state_dir.resolve())},
        )
    finally:
        os.close(descriptor)
    return process.pid
