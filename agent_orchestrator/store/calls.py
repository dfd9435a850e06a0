"""The call ledger: every model call of every run and interview, failed ones too, one row each.

Kept in the run database (`runs.sqlite3`, or PostgreSQL with AO_DATABASE_URL), written as each call
ends (so a crash loses at most the call in flight), read by `get_run` (per-model usage), the spending
caps (what was spent today and this month) and `ao usage` (spend by model, role and workflow over a
period).

A call carrying a `call_id` is recorded once: a durable run replayed after a crash may add the same
call again, and that second add is a no-op (a UNIQUE index on `call_id`; calls without one, NULL,
are never deduplicated).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from agent_orchestrator.domain.calls import CallRecord, CallTotals
from agent_orchestrator.store.database import MigrationConnection, Redact, open_database
from agent_orchestrator.store.runs import RUNS_FILE

UsageGrouping = Literal["model", "role", "workflow"]
_COLUMNS = (
    "role, model_id, started, latency_ms, attempts, requests, input_tokens, output_tokens, cost_usd, "
    "error_kind, error, fallback_from, fallback_reason, call_id"
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS model_calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, workflow TEXT NOT NULL,
    role TEXT NOT NULL, model_id TEXT NOT NULL, started REAL NOT NULL, latency_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL, requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL, cost_usd REAL, error_kind TEXT, error TEXT,
    fallback_from TEXT, fallback_reason TEXT, call_id TEXT
);
CREATE INDEX IF NOT EXISTS model_calls_started ON model_calls (started);
CREATE INDEX IF NOT EXISTS model_calls_run ON model_calls (run_id);
"""


def _migrate(db: MigrationConnection) -> None:
    """Add `call_id` to a ledger created before it existed, then make it unique (NULLs excepted)."""
    if "call_id" not in db.columns("model_calls"):
        db.execute("ALTER TABLE model_calls ADD COLUMN call_id TEXT")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS model_calls_call_id ON model_calls (call_id)")


class UsageRow(CallTotals):
    """Spend of one model, role or workflow over a period."""

    key: str
    unpriced_calls: int


class UsageReport(BaseModel):
    """What `ao usage` / `get_usage` return: spend grouped one way over [since, until)."""

    since: datetime
    until: datetime
    by: UsageGrouping
    rows: list[UsageRow]
    total_cost_usd: float | None
    total_calls: int


def period_start(now: datetime, period: Literal["day", "month"]) -> datetime:
    """The start of the UTC day or month containing `now`."""
    now = now.astimezone(UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.replace(day=1) if period == "month" else start


class CallLedger:
    """Appends and sums call records; thread-safe within a process, database-locked across processes."""

    def __init__(self, state_dir: Path, redact: Redact, *, database_url: str | None = None) -> None:
        # The same database as the run store's, with its own tables: each store prepares (creates and
        # migrates) its own schema once per instance, so both are migrated whichever opens first.
        self._db = open_database(database_url, state_dir / RUNS_FILE, _SCHEMA, _migrate)
        self._redact = redact

    def add(self, run_id: str, workflow: str, call: CallRecord) -> None:
        """Record one call; a call whose `call_id` is already recorded is left as it is (no double count)."""
        error = None if call.error is None else self._redact(call.error)[:1000]
        reason = None if call.fallback_reason is None else self._redact(call.fallback_reason)[:1000]
        with self._db.transaction() as db:
            db.execute(
                f"INSERT INTO model_calls (run_id, workflow, {_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    run_id,
                    workflow,
                    call.role,
                    call.model_id,
                    call.started,
                    call.latency_ms,
                    call.attempts,
                    call.requests,
                    call.input_tokens,
                    call.output_tokens,
                    call.cost_usd,
                    call.error_kind,
                    error,
                    call.fallback_from,
                    reason,
                    call.call_id,
                ),
            )

    def for_run(self, run_id: str) -> list[CallRecord]:
        """A run's calls in the order they ended."""
        with self._db.transaction() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM model_calls WHERE run_id = ? ORDER BY seq", (run_id,)
            ).fetchall()
        return [_record(row) for row in rows]

    def prune(self, started_before: float) -> int:
        """Delete the calls that started before `started_before` (epoch seconds); how many."""
        with self._db.transaction() as db:
            cursor = db.execute("DELETE FROM model_calls WHERE started < ?", (started_before,))
        return cursor.rowcount

    def cost_since(self, since: datetime) -> float:
        """What every priced call since `since` cost, in USD."""
        with self._db.transaction() as db:
            row = db.execute(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM model_calls WHERE started >= ?", (since.timestamp(),)
            ).fetchone()
        return float(row[0])

    def report(self, since: datetime, until: datetime, by: UsageGrouping) -> UsageReport:
        column = {"model": "model_id", "role": "role", "workflow": "workflow"}[by]
        with self._db.transaction() as db:
            rows = db.execute(
                f"SELECT {column}, COUNT(*), COUNT(error), "
                "SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), "
                "SUM(requests), SUM(input_tokens), SUM(output_tokens), SUM(cost_usd), "
                "SUM(CASE WHEN cost_usd IS NULL AND requests > 0 THEN 1 ELSE 0 END) "
                f"FROM model_calls WHERE started >= ? AND started < ? GROUP BY {column} "
                "ORDER BY COALESCE(SUM(cost_usd), 0) DESC, COUNT(*) DESC",
                (since.timestamp(), until.timestamp()),
            ).fetchall()
        usage = [_usage_row(row) for row in rows]
        priced = [row.cost_usd for row in usage if row.cost_usd is not None]
        return UsageReport(
            since=since,
            until=until,
            by=by,
            rows=usage,
            total_cost_usd=round(sum(priced), 6) if priced else None,
            total_calls=sum(row.calls for row in usage),
        )


def _record(row: Sequence[object]) -> CallRecord:
    names = [name.strip() for name in _COLUMNS.split(",")]
    return CallRecord.model_validate(dict(zip(names, row, strict=True)))


def _usage_row(row: Sequence[object]) -> UsageRow:
    """One grouped row (PostgreSQL sums integers as numeric: `int` takes a Decimal too)."""
    key, calls, failed, retries, requests, tokens_in, tokens_out, cost, unpriced = row
    return UsageRow(
        key=str(key),
        calls=int(calls or 0),  # type: ignore[arg-type]
        failed_calls=int(failed or 0),  # type: ignore[arg-type]
        retries=int(retries or 0),  # type: ignore[arg-type]
        requests=int(requests or 0),  # type: ignore[arg-type]
        input_tokens=int(tokens_in or 0),  # type: ignore[arg-type]
        output_tokens=int(tokens_out or 0),  # type: ignore[arg-type]
        cost_usd=None if cost is None else round(float(cost), 6),  # type: ignore[arg-type]
        unpriced_calls=int(unpriced or 0),  # type: ignore[arg-type]
    )
