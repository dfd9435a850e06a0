"""Retention: the engine's own records of finished runs are deleted after AO_ENGINE_RETENTION_DAYS.

DBOS keeps every workflow, its inputs and each step's output forever; nothing of it is needed once
a run has ended, except to resume or retry it. So the engine's rows of runs that ended more than
AO_ENGINE_RETENTION_DAYS ago (default 7) are deleted, in batches, by each executor when it starts and
every hour while it runs, and by `ao runs prune`. Our run records (what `get_run` shows) are kept
longer (AO_RUN_RETENTION_DAYS); a run whose engine rows are gone can no longer be resumed or retried,
and `resume_run` says so. A SQLite file does not shrink by itself: `ao runs prune --vacuum` does it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)

ENDED = ["SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"]
BATCH = 200
PRUNE_EVERY_S = 3600.0


async def prune_engine(client: Any, retention_days: float, now: datetime | None = None) -> int:
    """Delete the engine's rows of runs that ended before the retention window (children too); how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    deleted = 0
    while True:
        ended = await client.list_workflows_async(
            status=ENDED,
            completed_before=cutoff.isoformat(),
            has_parent=False,
            load_input=False,
            load_output=False,
            limit=BATCH,
        )
        if not ended:
            return deleted
        await client.delete_workflows_async([status.workflow_id for status in ended], delete_children=True)
        deleted += len(ended)
