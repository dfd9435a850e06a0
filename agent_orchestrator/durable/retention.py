"""Retention: what is kept about ended runs, and for how long.

- The engine's own rows (DBOS keeps every workflow, its inputs and each step's output forever) are
  needed only to resume or retry a run: deleted AO_ENGINE_RETENTION_DAYS (7) after the run ended.
- Our run records (what `get_run` shows: nodes, artifacts) and the call ledger: deleted
  AO_RUN_RETENTION_DAYS (90, at least 32 so the monthly spending cap sees the whole month) after.
- The audit log prunes itself on every write (AO_AUDIT_RETENTION_DAYS, AO_AUDIT_MAX_ROWS).

Each executor prunes when it starts and every hour while it runs; `ao runs prune` does it now
(`--vacuum` also shrinks the SQLite files, which do not shrink by themselves). A run whose engine
rows are gone can no longer be resumed or retried, and `resume_run` says so. Queued and running
runs are never pruned.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from agent_orchestrator.durable.database import ENGINE_FILE, EngineDatabase, client
from agent_orchestrator.runtime import Runtime

logger = logging.getLogger(__name__)

ENDED = ["SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"]
BATCH = 200
PRUNE_EVERY_S = 3600.0


class PruneReport(BaseModel):
    """What `ao runs prune` removed, and which files it compacted."""

    runs: int
    calls: int
    engine_runs: int
    vacuumed: list[str]


async def prune_engine(engine: Any, retention_days: float, now: datetime | None = None) -> int:
    """Delete the engine's rows of runs that ended before the retention window (children too); how many.

    `engine` is `dbos.DBOS` (in an executor) or a `DBOSClient`: both list and delete the same way.
    """
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    deleted = 0
    while True:
        ended = await engine.list_workflows_async(
            status=ENDED,
            completed_before=cutoff.isoformat(),
            has_parent=False,
            load_input=False,
            load_output=False,
            limit=BATCH,
        )
        if not ended:
            return deleted
        await engine.delete_workflows_async([status.workflow_id for status in ended], delete_children=True)
        deleted += len(ended)


def prune_records(runtime: Runtime, now: float | None = None) -> tuple[int, int]:
    """Delete our records of runs, and the ledger's calls, older than AO_RUN_RETENTION_DAYS: (runs, calls)."""
    cutoff = (time.time() if now is None else now) - runtime.settings.ao_run_retention_days * 86_400
    return runtime.runs.prune(cutoff), runtime.ledger.prune(cutoff)


async def prune_now(runtime: Runtime, *, vacuum: bool) -> PruneReport:
    """`ao runs prune`: both retentions applied now; `vacuum` compacts the SQLite files afterwards."""
    runs, calls = prune_records(runtime)
    database = EngineDatabase.of(runtime.settings)
    engine_client = client(database, runtime.redact)
    try:
        engine_runs = await prune_engine(engine_client, runtime.settings.ao_engine_retention_days)
    finally:
        engine_client.destroy()
    vacuumed: list[str] = []
    if vacuum and not database.shared:
        for path in (runtime.runs.path, runtime.settings.ao_state_dir / ENGINE_FILE):
            if path.exists():
                with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
                    db.execute("VACUUM")
                vacuumed.append(str(path))
    return PruneReport(runs=runs, calls=calls, engine_runs=engine_runs, vacuumed=vacuumed)
