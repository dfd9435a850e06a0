"""Runs as records: every workflow run, its nodes with timings, its outcome and its artifacts.

SQLite under the state dir. Inputs and everything stored are redacted first. Large outputs live
in artifacts fetched by id, so no tool result has to carry them.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from agent_orchestrator.errors import NotFoundError
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.store.sqlite import SqliteFile

RUNS_FILE = "runs.sqlite3"
RunStatus = Literal["running", "succeeded", "partial", "failed", "refused", "cancelled"]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
    inputs TEXT NOT NULL, result TEXT NOT NULL, usage TEXT NOT NULL, started REAL NOT NULL, finished REAL
);
CREATE TABLE IF NOT EXISTS nodes (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, started REAL NOT NULL,
    duration_ms INTEGER NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS artifacts (
    run_id TEXT NOT NULL, artifact_id TEXT NOT NULL, name TEXT NOT NULL, media_type TEXT NOT NULL,
    content TEXT NOT NULL, PRIMARY KEY (run_id, artifact_id)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
"""


class NodeRecord(BaseModel):
    name: str
    started_at: datetime
    duration_ms: int
    status: str
    detail: str


class ArtifactRef(BaseModel):
    artifact_id: str
    name: str
    media_type: str
    size: int


class Artifact(ArtifactRef):
    content: str


class RunSummary(BaseModel):
    run_id: str
    workflow: str
    status: RunStatus
    reason: str
    started_at: datetime
    finished_at: datetime | None


class RunRecord(RunSummary):
    """A whole run: inputs (redacted), result, usage, nodes and artifact references."""

    inputs: dict[str, Any]
    result: dict[str, Any]
    usage: dict[str, Any]
    nodes: list[NodeRecord]
    artifacts: list[ArtifactRef]


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class RunStore:
    """Writes and reads run records; thread-safe within a process, SQLite-locked across processes."""

    def __init__(self, state_dir: Path, redact: Redactor) -> None:
        self._db = SqliteFile(state_dir / RUNS_FILE, _SCHEMA)
        self.path = self._db.path
        self._redact = redact

    def _json(self, value: Mapping[str, Any]) -> str:
        return self._redact(json.dumps(dict(value), default=str))

    def create(self, workflow: str, inputs: Mapping[str, Any]) -> str:
        run_id = f"run_{secrets.token_hex(6)}"
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, 'running', '', ?, '{}', '{}', ?, NULL)",
                (run_id, workflow, self._json(inputs), time.time()),
            )
        return run_id

    def add_node(self, run_id: str, name: str, started: float, duration_ms: int, status: str, detail: str) -> None:
        with self._db.transaction() as db:
            seq = db.execute("SELECT COUNT(*) FROM nodes WHERE run_id = ?", (run_id,)).fetchone()[0]
            db.execute(
                "INSERT INTO nodes VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, seq, name, started, duration_ms, status, self._redact(detail)[:2000]),
            )

    def add_artifact(self, run_id: str, name: str, content: str, media_type: str = "text/plain") -> ArtifactRef:
        artifact_id = f"art_{secrets.token_hex(5)}"
        text = self._redact(content)
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO artifacts VALUES (?, ?, ?, ?, ?)", (run_id, artifact_id, name, media_type, text)
            )
        return ArtifactRef(artifact_id=artifact_id, name=name, media_type=media_type, size=len(text))

    def finish(
        self, run_id: str, status: RunStatus, reason: str, result: Mapping[str, Any], usage: Mapping[str, Any]
    ) -> None:
        with self._db.transaction() as db:
            db.execute(
                "UPDATE runs SET status = ?, reason = ?, result = ?, usage = ?, finished = ? WHERE run_id = ?",
                (status, self._redact(reason)[:4000], self._json(result), self._json(usage), time.time(), run_id),
            )

    def get(self, run_id: str) -> RunRecord:
        with self._db.transaction() as db:
            row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no run {run_id!r}; `ao runs list` shows the recorded runs")
            nodes = db.execute(
                "SELECT name, started, duration_ms, status, detail FROM nodes WHERE run_id = ? ORDER BY seq",
                (run_id,),
            ).fetchall()
            artifacts = db.execute(
                "SELECT artifact_id, name, media_type, length(content) FROM artifacts "
                "WHERE run_id = ? ORDER BY rowid",
                (run_id,),
            ).fetchall()
        return RunRecord(
            run_id=row[0],
            workflow=row[1],
            status=row[2],
            reason=row[3],
            inputs=json.loads(row[4]),
            result=json.loads(row[5]),
            usage=json.loads(row[6]),
            started_at=_dt(row[7]) or datetime.now(UTC),
            finished_at=_dt(row[8]),
            nodes=[
                NodeRecord(
                    name=n[0],
                    started_at=_dt(n[1]) or datetime.now(UTC),
                    duration_ms=n[2],
                    status=n[3],
                    detail=n[4],
                )
                for n in nodes
            ],
            artifacts=[ArtifactRef(artifact_id=a[0], name=a[1], media_type=a[2], size=a[3]) for a in artifacts],
        )

    def get_artifact(self, run_id: str, artifact_id: str) -> Artifact:
        with self._db.transaction() as db:
            row = db.execute(
                "SELECT artifact_id, name, media_type, content FROM artifacts WHERE run_id = ? AND "
                "artifact_id = ?",
                (run_id, artifact_id),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no artifact {artifact_id!r} in run {run_id!r}")
        return Artifact(artifact_id=row[0], name=row[1], media_type=row[2], size=len(row[3]), content=row[3])

    def list(self, limit: int = 50) -> list[RunSummary]:
        if not self.path.exists():
            return []
        with self._db.transaction() as db:
            rows = db.execute(
                "SELECT run_id, workflow, status, reason, started, finished FROM runs "
                "ORDER BY started DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            RunSummary(
                run_id=r[0],
                workflow=r[1],
                status=r[2],
                reason=r[3],
                started_at=_dt(r[4]) or datetime.now(UTC),
                finished_at=_dt(r[5]),
            )
            for r in rows
        ]
