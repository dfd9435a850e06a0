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

import contextlib
import logging
import os
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import anyio

from agent_orchestrator.durable.database import QUEUE, QUEUE_POLL_S, EngineDatabase, dbos_config
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

    def __init__(self, runtime: Runtime, executor_id: str = EMBEDDED_EXECUTOR_ID) -> None:
        self.runtime = runtime
        self.executor_id = executor_id
        self.database = EngineDatabase.of(runtime.settings)
        self.launched_at: float | None = None

    async def launch(self) -> None:
        from dbos import DBOS

        from agent_orchestrator.durable import engine  # registers ao.run before launch

        engine.set_host(engine.ExecutorHost(self.runtime))
        DBOS(config=dbos_config(self.database, self.executor_id, self.runtime.redact))
        DBOS.launch()  # recovers this executor id's pending runs (a dead predecessor's)
        await DBOS.register_queue_async(
            QUEUE,
            worker_concurrency=self.runtime.settings.ao_executor_concurrency,
            polling_interval_sec=QUEUE_POLL_S,
            on_conflict="always_update",
        )
        self.launched_at = time.monotonic()

    def destroy(self) -> None:
        from dbos import DBOS

        from agent_orchestrator.durable import engine

        with contextlib.suppress(Exception):
            DBOS.destroy(workflow_completion_timeout_sec=0)
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

    async def busy(self) -> bool:
        """Whether any run is queued or running (on any executor of this database)."""
        from dbos import DBOS

        active = await DBOS.list_workflows_async(status=ACTIVE, load_input=False, load_output=False, limit=1)
        return bool(active)


@asynccontextmanager
async def running(runtime: Runtime) -> AsyncGenerator[Executor]:
    """This process as an executor for the duration of the block (the caller holds the lock)."""
    executor = Executor(runtime)
    await executor.launch()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(executor.watch)
            try:
                yield executor
            finally:
                group.cancel_scope.cancel()
    finally:
        executor.destroy()


async def serve(runtime: Runtime, idle_s: float | None) -> int:
    """`ao executor`: run the queue until stopped, or until idle for `idle_s`; an exit code.

    Exits 0 at once when another process already is the executor. To exit when idle it releases
    the lock and then looks for work once more, so a run queued meanwhile is never stranded: its
    submitter either saw the lock held (this process takes it back) or started a new executor.
    """
    lock = ExecutorLock(runtime.settings.ao_state_dir)
    if not lock.acquire():
        logger.info("another process is the executor of %s", runtime.settings.ao_state_dir)
        return 0
    while True:
        async with running(runtime) as executor:
            idle_since = time.monotonic()
            while idle_s is None or time.monotonic() - idle_since < idle_s:
                if await executor.busy():
                    idle_since = time.monotonic()
                await anyio.sleep(0.2)
        lock.release()
        if not await pending_work(runtime) or not lock.acquire():
            return 0


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
