"""Runs as records: every workflow run, its nodes with timings, its outcome and its artifacts.

SQLite under the state dir. Inputs and everything stored are redacted first. Large outputs live
in artifacts fetched by id, so no tool result has to carry them.

Each run records the process running it (`ProcessIdentity`: host, pid, and on Linux its start
time and boot id). A run still `running` whose process on this host has ended reads as
`interrupted`; one running on another host is shown with that host, since it cannot be checked.
A row that cannot be read (bad JSON, unknown status, bad timestamps) is listed as `corrupt` with
its id, and reading it raises `StoreCorruptError`; it never breaks the listing of the others.
"""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent_orchestrator.domain.status import RunStatus, ShownRunStatus, values_of
from agent_orchestrator.errors import NotFoundError, StoreCorruptError
from agent_orchestrator.store.process import ProcessIdentity
from agent_orchestrator.store.sqlite import Redact, SqliteFile

RUNS_FILE = "runs.sqlite3"
_STATUSES: frozenset[str] = frozenset(values_of(RunStatus))
_PROCESS_COLUMNS = {"host": "TEXT", "pid": "INTEGER", "pid_start": "INTEGER", "boot_id": "TEXT"}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
    inputs TEXT NOT NULL, result TEXT NOT NULL, usage TEXT NOT NULL, started REAL NOT NULL, finished REAL,
    host TEXT, pid INTEGER, pid_start INTEGER, boot_id TEXT
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
_SUMMARY_COLUMNS = "run_id, workflow, status, reason, started, finished, host, pid, pid_start, boot_id"
_RECORD_COLUMNS = f"{_SUMMARY_COLUMNS}, inputs, result, usage"


def _migrate(db: sqlite3.Connection) -> None:
    """Add the process columns to a runs table created before they existed."""
    present = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    for name, kind in _PROCESS_COLUMNS.items():
        if name not in present:
            db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")


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
    """One run in a listing; `started_at` is None only for a corrupt row."""

    run_id: str
    workflow: str
    status: ShownRunStatus
    reason: str
    started_at: datetime | None
    finished_at: datetime | None
    host: str | None = None
    pid: int | None = None


class RunRecord(RunSummary):
    """A whole run: inputs (redacted), result, usage, nodes and artifact references."""

    inputs: dict[str, Any]
    result: dict[str, Any]
    usage: dict[str, Any]
    nodes: list[NodeRecord]
    artifacts: list[ArtifactRef]


class _Corrupt(Exception):
    """A value in a row is not what the store writes."""


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise _Corrupt(f"{what} is not text")
    return value


def _optional(value: object, kind: type[int] | type[str], what: str) -> Any:
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise _Corrupt(f"{what} is not {'an integer' if kind is int else 'text'}")
    return value


def _time(value: object, what: str) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise _Corrupt(f"{what} is not a timestamp")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise _Corrupt(f"{what} is out of range") from None


def _status(value: object) -> RunStatus:
    if value not in _STATUSES:
        raise _Corrupt(f"status {str(value)[:40]!r} is not a run status")
    return value  # pyright: ignore[reportReturnType] - checked against the Literal's values above


def _object(value: object, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(_text(value, what))
    except json.JSONDecodeError as exc:
        raise _Corrupt(f"{what} is not valid JSON ({exc.msg})") from None
    if not isinstance(parsed, dict):
        raise _Corrupt(f"{what} is not a JSON object")
    return parsed  # pyright: ignore[reportUnknownVariableType]


def _identity(row: Sequence[object]) -> ProcessIdentity | None:
    host, pid = _optional(row[6], str, "host"), _optional(row[7], int, "pid")
    start, boot = _optional(row[8], int, "process start time"), _optional(row[9], str, "boot id")
    return None if host is None or pid is None else ProcessIdentity(host, pid, start, boot)


def _as_seen_now(status: RunStatus, reason: str, process: ProcessIdentity | None) -> tuple[RunStatus, str]:
    """A `running` run reads as `interrupted` once the process running it is known to have ended."""
    if status != "running" or process is None:
        return status, reason
    if process.has_ended():
        return "interrupted", f"the process running it ({process.describe()}) ended without finishing it"
    if not process.on_this_host():
        return status, f"running on host {process.host} (pid {process.pid}); it cannot be checked from this host"
    return status, reason


def _summary(row: Sequence[object]) -> RunSummary:
    """A summary from `_SUMMARY_COLUMNS`; raises `_Corrupt` naming what is wrong."""
    process = _identity(row)
    status, reason = _as_seen_now(_status(row[2]), _text(row[3], "reason"), process)
    return RunSummary(
        run_id=_text(row[0], "run id"),
        workflow=_text(row[1], "workflow"),
        status=status,
        reason=reason,
        started_at=_time(row[4], "start time"),
        finished_at=None if row[5] is None else _time(row[5], "finish time"),
        host=None if process is None else process.host,
        pid=None if process is None else process.pid,
    )


def _corrupt_summary(row: Sequence[object], problem: str) -> RunSummary:
    run_id = row[0] if isinstance(row[0], str) else repr(row[0])
    return RunSummary(
        run_id=run_id,
        workflow=row[1] if isinstance(row[1], str) else "?",
        status="corrupt",
        reason=f"this run's record cannot be read: {problem}",
        started_at=None,
        finished_at=None,
    )


def _node(row: Sequence[object]) -> NodeRecord:
    duration = _optional(row[2], int, "node duration")
    return NodeRecord(
        name=_text(row[0], "node name"),
        started_at=_time(row[1], "node start time"),
        duration_ms=0 if duration is None else duration,
        status=_text(row[3], "node status"),
        detail=_text(row[4], "node detail"),
    )


class RunStore:
    """Writes and reads run records; thread-safe within a process, SQLite-locked across processes."""

    def __init__(self, state_dir: Path, redact: Redact) -> None:
        self._db = SqliteFile(state_dir / RUNS_FILE, _SCHEMA, _migrate)
        self.path = self._db.path
        self._redact = redact

    def _json(self, value: Mapping[str, Any]) -> str:
        return self._redact(json.dumps(dict(value), default=str))

    def create(self, workflow: str, inputs: Mapping[str, Any]) -> str:
        """A new `running` run, recorded as run by this process."""
        run_id = f"run_{secrets.token_hex(6)}"
        me = ProcessIdentity.current()
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO runs (run_id, workflow, status, reason, inputs, result, usage, started, finished, "
                "host, pid, pid_start, boot_id) VALUES (?, ?, 'running', '', ?, '{}', '{}', ?, NULL, ?, ?, ?, ?)",
                (run_id, workflow, self._json(inputs), time.time(), me.host, me.pid, me.start_ticks, me.boot_id),
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
    ) -> bool:
        """End a running run; False (and nothing changed) when it had already ended."""
        with self._db.transaction() as db:
            cursor = db.execute(
                "UPDATE runs SET status = ?, reason = ?, result = ?, usage = ?, finished = ? "
                "WHERE run_id = ? AND status = 'running'",
                (status, self._redact(reason)[:4000], self._json(result), self._json(usage), time.time(), run_id),
            )
        return cursor.rowcount == 1

    def get(self, run_id: str) -> RunRecord:
        """One whole run; `StoreCorruptError` (naming the problem) when its record cannot be read."""
        with self._db.transaction() as db:
            row = db.execute(f"SELECT {_RECORD_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"no run {run_id!r}; `list_runs` shows the recorded runs")
            nodes = db.execute(
                "SELECT name, started, duration_ms, status, detail FROM nodes WHERE run_id = ? ORDER BY seq",
                (run_id,),
            ).fetchall()
            artifacts = db.execute(
                "SELECT artifact_id, name, media_type, length(content) FROM artifacts "
                "WHERE run_id = ? ORDER BY rowid",
                (run_id,),
            ).fetchall()
        try:
            return RunRecord(
                **_summary(row).model_dump(),
                inputs=_object(row[10], "inputs"),
                result=_object(row[11], "result"),
                usage=_object(row[12], "usage"),
                nodes=[_node(n) for n in nodes],
                artifacts=[
                    ArtifactRef(artifact_id=a[0], name=a[1], media_type=a[2], size=a[3]) for a in artifacts
                ],
            )
        except (_Corrupt, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            raise StoreCorruptError(
                f"run {run_id!r} in {str(self.path)!r} is corrupt ({_problem(exc)}); it was left as is, and "
                "the other runs are unaffected (`list_runs` shows it as corrupt)"
            ) from None

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
        """The newest runs first; a row that cannot be read is listed as `corrupt`, never raised."""
        if not self.path.exists():
            return []
        with self._db.transaction() as db:
            rows = db.execute(
                f"SELECT {_RECORD_COLUMNS} FROM runs ORDER BY started DESC LIMIT ?", (limit,)
            ).fetchall()
        summaries: list[RunSummary] = []
        for row in rows:
            try:
                for column, what in ((10, "inputs"), (11, "result"), (12, "usage")):
                    _object(row[column], what)
                summaries.append(_summary(row))
            except (_Corrupt, ValueError) as exc:
                summaries.append(_corrupt_summary(row, _problem(exc)))
        return summaries


def _problem(exc: Exception) -> str:
    return str(exc) if isinstance(exc, _Corrupt) else f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
