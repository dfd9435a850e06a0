"""An executor: the process that runs durable runs (one per state dir with the embedded SQLite engine).

Who executes a run in embedded mode: whichever process holds `<state dir>/executor.lock` (an
exclusive `flock`, released by the kernel even on `kill -9`). An `ao mcp serve` takes it when it
first needs the engine, if it is free; `ao ... --detach` and `ao runs resume` start a background
`ao executor` (which exits after AO_EXECUTOR_IDLE_S without work) when nobody holds it. With a
fixed executor id ("embedded"), DBOS's recovery at launch takes up every run a dead predecessor
left pending: the runs of a crashed or killed executor resume when the next one starts.

Launched inside the caller's event loop, so runs execute on it. While it runs it watches its runs:
one cancelled from another process (`ao runs cancel`) is stopped at once, not at its next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import anyio

from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.durable.database import (
    APP_VERSION,
    QUEUE_POLL_S,
    EngineDatabase,
    dbos_config,
    queues_served,
)
from agent_orchestrator.durable.liveness import Liveness, new_executor_id
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.atomic import ensure_state_dir

EMBEDDED_EXECUTOR_ID = "embedded"
LOCK_FILE = "executor.lock"
WATCH_S = 0.25
ACTIVE = ["ENQUEUED", "PENDING"]
logger = logging.getLogger(__name__)


class ExecutorLock:
    """The state dir's executor lock (embedded mode): held by at most one live process."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_FILE
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        """Take it if it is free; True when this process holds it now."""
        if self._file is not None:
            return True
        import fcntl

        ensure_state_dir(self.path.parent)
        handle = open(self.path, "ab")  # noqa: SIM115 - held for the executor's life
        os.chmod(self.path, 0o600)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the flock
            self._file = None

    def held_elsewhere(self) -> bool:
        """Whether another process holds it (an executor is alive)."""
        if self._file is not None:
            return False
        if not self.acquire():
            return True
        self.release()
        return False


class Executor:
    """DBOS launched in this process, running the run queue, with its runs watched for cancels."""

    def __init__(
        self,
        runtime: Runtime,
        executor_id: str = EMBEDDED_EXECUTOR_ID,
        listeners: dict[str, ProgressCallback] | None = None,
    ) -> None:
        self.runtime = runtime
        self.listeners = {} if listeners is None else listeners
        self.executor_id = executor_id
        self.database = EngineDatabase.of(runtime.settings)
        self.launched_at: float | None = None
        self.liveness: Liveness | None = None

    async def launch(self) -> None:
        from dbos import DBOS

        from agent_orchestrator.durable import engine  # registers ao.run before launch

        engine.set_host(engine.ExecutorHost(self.runtime, self.listeners))
        if self.database.shared:  # a unique id, registered and locked before it takes any run
            self.executor_id = new_executor_id()
            self.liveness = Liveness(
                self.database.url,
                self.executor_id,
                APP_VERSION,
                DBOS._recover_pending_workflows,  # pyright: ignore[reportPrivateUsage] - dbos pinned to 3.4
                _declared_dead,
            )
            await anyio.to_thread.run_sync(self.liveness.register)
        queues = queues_served(self.database, self.runtime.settings)
        # Registered before launch, so the queue manager polls them from its first round (else ~1 s later).
        await anyio.to_thread.run_sync(self._register_queues, queues)
        DBOS(config=dbos_config(self.database, self.executor_id, self.runtime.redact))
        if self.database.shared:
            DBOS.listen_queues(queues)  # only runs tagged with a workspace this executor has
        DBOS.launch()  # recovers this executor id's pending runs (embedded: a dead predecessor's)
        self.launched_at = time.monotonic()

    def _register_queues(self, queues: list[str]) -> None:
        from agent_orchestrator.durable.database import client

        engine_client = client(self.database, self.runtime.redact)
        try:
            for queue in queues:
                engine_client.register_queue(
                    queue,
                    worker_concurrency=self.runtime.settings.ao_executor_concurrency,
                    polling_interval_sec=QUEUE_POLL_S,
                    on_conflict="always_update",
                )
        finally:
            engine_client.destroy()

    def destroy(self) -> None:
        from dbos import DBOS

        from agent_orchestrator.durable import engine

        # Runs in flight stop with the executor: interrupted (resumable), not cancelled.
        engine.host().stopping = (
            "its executor stopped before it finished (resumable: the next executor resumes it)"
        )
        with contextlib.suppress(Exception):
            DBOS.destroy(workflow_completion_timeout_sec=0)
        # DBOS made its own thread pool the loop's default and has shut it down: give the loop a live one.
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(thread_name_prefix="ao-"))
        if self.liveness is not None:
            self.liveness.close()
            self.liveness = None
        engine.set_host(None)
        self.launched_at = None

    async def watch(self) -> None:
        """Stop at once a run of ours cancelled from elsewhere (DBOS alone would stop it at its next step)."""
        from dbos import DBOS

        from agent_orchestrator.durable import engine

        executing = engine.host()
        while True:
            for run_id, scope in list(executing.scopes.items()):
                status = await DBOS.get_workflow_status_async(run_id)
                if status is not None and status.status == "CANCELLED":
                    scope.cancel()
            await anyio.sleep(WATCH_S)

    async def prune(self) -> None:
        """Apply the retentions (`retention`) now and every hour."""
        from dbos import DBOS

        from agent_orchestrator.durable.retention import PRUNE_EVERY_S, prune_engine, prune_records

        while True:
            try:
                deleted = await prune_engine(DBOS, self.runtime.settings.ao_engine_retention_days)
                runs, calls = await anyio.to_thread.run_sync(prune_records, self.runtime)
                if deleted or runs or calls:
                    logger.info(
                        "pruned %d engine runs, %d run records, %d calls past retention", deleted, runs, calls
                    )
            except Exception:  # retention is housekeeping: never stop the executor for it
                logger.exception("could not prune the records past retention")
            await anyio.sleep(PRUNE_EVERY_S)

    async def busy(self) -> bool:
        """Whether any run is queued or running (here, or on any executor of this database)."""
        from dbos import DBOS

        from agent_orchestrator.durable import engine

        if engine.host().scopes:
            return True
        active = await DBOS.list_workflows_async(status=ACTIVE, load_input=False, load_output=False, limit=1)
        return bool(active)


@asynccontextmanager
async def running(
    runtime: Runtime, listeners: dict[str, ProgressCallback] | None = None
) -> AsyncGenerator[Executor]:
    """This process as an executor for the duration of the block (the caller holds the lock); `listeners`
    hear the progress of runs by id (blocking callers in this process)."""
    executor = Executor(runtime, listeners=listeners)
    await executor.launch()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(executor.watch)
            group.start_soon(executor.prune)
            if executor.liveness is not None:
                group.start_soon(executor.liveness.run)
            try:
                yield executor
            finally:
                group.cancel_scope.cancel()
    finally:
        executor.destroy()


def _declared_dead() -> None:
    """Another executor presumed this one dead and took up its runs: stop now, doing nothing more."""
    os._exit(75)


async def serve(runtime: Runtime, idle_s: float | None) -> int:
    """`ao executor`: run the queue until stopped, or until idle for `idle_s`; an exit code.

    Embedded, it exits 0 at once when another process already is the executor. To exit when idle it
    releases the lock and then looks for work once more, so a run queued meanwhile is never stranded:
    its submitter either saw the lock held (this process takes it back) or started a new executor.
    With a shared database there is no lock: every executor of the database serves its queues.
    """
    if EngineDatabase.of(runtime.settings).shared:
        await _until_idle(runtime, idle_s)
        return 0
    lock = ExecutorLock(runtime.settings.ao_state_dir)
    if not lock.acquire():
        logger.info("another process is the executor of %s", runtime.settings.ao_state_dir)
        return 0
    while True:
        await _until_idle(runtime, idle_s)
        lock.release()
        if not await pending_work(runtime) or not lock.acquire():
            return 0


async def _until_idle(runtime: Runtime, idle_s: float | None) -> None:
    """Execute until no run was queued or running for `idle_s` (None: until stopped).

    Work is looked for before the clock is read: a loop that was busy past `idle_s` (a run's first
    imports) must not take that for idleness and stop with a run in flight.
    """
    async with running(runtime) as executor:
        idle_since = time.monotonic()
        while True:
            if await executor.busy():
                idle_since = time.monotonic()
            elif idle_s is not None and time.monotonic() - idle_since >= idle_s:
                return
            await anyio.sleep(0.2)


async def pending_work(runtime: Runtime) -> bool:
    """Whether runs are queued or pending, read without launching the engine."""
    from agent_orchestrator.durable.database import client

    engine_client = client(EngineDatabase.of(runtime.settings), runtime.redact)
    try:
        active = await engine_client.list_workflows_async(
            status=ACTIVE, load_input=False, load_output=False, limit=1
        )
        return bool(active)
    finally:
        engine_client.destroy()
