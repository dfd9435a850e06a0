"""The audit log: every command, write and policy decision, redacted, in SQLite under the state dir
(or in PostgreSQL with AO_DATABASE_URL, one log for every process).

Retention is bounded by age and by row count, pruned on every write, so the log cannot grow
without limit on a busy server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from agent_orchestrator.store.database import Redact, open_database

AUDIT_FILE = "audit.sqlite3"
Kind = Literal["command", "write", "path", "policy"]
Decision = Literal["allowed", "refused", "dry_run", "executed", "failed"]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    decision TEXT NOT NULL,
    rule TEXT,
    reason TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
"""


class AuditRecord(BaseModel):
    """One recorded decision."""

    id: int
    at: datetime
    kind: Kind
    action: str
    decision: Decision
    rule: str | None
    reason: str
    details: dict[str, object]


class AuditLog:
    """Append-only decision log with bounded retention; every text field passes through redaction."""

    def __init__(
        self,
        state_dir: Path,
        redact: Redact,
        *,
        retention_days: float = 30.0,
        max_rows: int = 50_000,
        database_url: str | None = None,
    ) -> None:
        self.path = state_dir / AUDIT_FILE  # with `database_url`, only where the file would be
        self._db = open_database(database_url, self.path, _SCHEMA)
        self._redact = redact
        self._retention_s = retention_days * 86_400
        self._max_rows = max_rows

    def record(
        self,
        kind: Kind,
        action: str,
        decision: Decision,
        reason: str,
        *,
        rule: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        """Append one decision (redacted) and prune what is past retention."""
        details_json = self._redact(json.dumps(dict(details or {}), default=str))[:20_000]
        row = (
            time.time(),
            kind,
            self._redact(action)[:4_000],
            decision,
            rule,
            self._redact(reason)[:4_000],
            details_json,
        )
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO audit (at, kind, action, decision, rule, reason, details) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            db.execute("DELETE FROM audit WHERE at < ?", (time.time() - self._retention_s,))
            db.execute("DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?", (self._max_rows,))

    def recent(self, limit: int = 100) -> list[AuditRecord]:
        """The newest records first."""
        if not self._db.exists():
            return []
        with self._db.transaction() as db:
            rows = db.execute(
                "SELECT id, at, kind, action, decision, rule, reason, details FROM audit ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            AuditRecord(
                id=r[0],
                at=datetime.fromtimestamp(r[1], UTC),
                kind=r[2],
                action=r[3],
                decision=r[4],
                rule=r[5],
                reason=r[6],
                details=json.loads(r[7]),
            )
            for r in rows
        ]
