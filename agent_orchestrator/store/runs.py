"""Runs as records: every workflow run, its nodes with timings, its outcome and its artifacts.

SQLite under the state dir, or PostgreSQL shared by every process with AO_DATABASE_URL (see
`store.database`). Inputs and everything stored are redacted first. Large outputs live
in artifacts fetched by id, so no tool result has to carry them.

Each run records the process running it (`ProcessIdentity`: host, pid, and on Linux its start
time and boot id). A run still `running` whose process on this host has ended reads as
`interrupted`; one running on another host is shown with that host, since it cannot be checked.
A row that cannot be read (bad JSON, unknown status, bad timestamps) is listed as `corrupt` with
its id, and reading it raises `StoreCorruptError`; it never breaks the listing of the others.

Durable runs (engine `dbos`; NULL in the `engine` column means `inline`) may be `queued` first (no
process recorded until `start`), are resumed after a crash by replaying their body, and so are
recorded idempotently: a node with a `node_key` is written once (a replay keeps the first timings
of a node that succeeded, and replaces a node that did not), an artifact with an `artifact_key`
has a deterministic id, and a running dbos run whose process ended reads as `interrupted`
(resumable). Progress (`set_progress`) is kept on the run row so any process can read it. The
workspace is stored as given (unredacted: a resume needs it).
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from agent_orchestrator.domain.status import RunStatus, ShownRunStatus, values_of
from agent_orchestrator.errors import NotFoundError, StoreCorruptError, UsageError
from agent_orchestrator.store.database import MigrationConnection, Redact, open_database
from agent_orchestrator.store.process import ProcessIdentity

RUNS_FILE = "runs.sqlite3"
_STATUSES: frozenset[str] = frozenset(values_of(RunStatus))
# Columns added to `runs` after its first release, added to older files by `_migrate`.
_ADDED_RUN_COLUMNS = {
    "host": "TEXT",
    "pid": "INTEGER",
    "pid_start": "INTEGER",
    "boot_id": "TEXT",
    "engine": "TEXT",
    "workspace": "TEXT",
    "parent_run_id": "TEXT",
    "progress": "TEXT",
    "updated": "REAL",
}
# A run these statuses are in can be started (`start`) or sent back to the queue (`requeue`).
_STARTABLE = ("queued", "running", "interrupted", "cancelled")
_REQUEUEABLE = ("queued", "interrupted", "cancelled")
_PROGRESS_MESSAGE_MAX = 500
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
    inputs TEXT NOT NULL, result TEXT NOT NULL, usage TEXT NOT NULL, started REAL NOT NULL, finished REAL,
    host TEXT, pid INTEGER, pid_start INTEGER, boot_id TEXT,
    engine TEXT, workspace TEXT, parent_run_id TEXT, progress TEXT, updated REAL
);
CREATE TABLE IF NOT EXISTS nodes (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, started REAL NOT NULL,
    duration_ms INTEGER NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL, node_key TEXT,
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS artifacts (
    run_id TEXT NOT NULL, artifact_id TEXT NOT NULL, name TEXT NOT NULL, media_type TEXT NOT NULL,
    content TEXT NOT NULL, seq INTEGER, PRIMARY KEY (run_id, artifact_id)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
CREATE INDEX IF NOT EXISTS runs_status ON runs (status);
"""
_SUMMARY_COLUMNS = (
    "run_id, workflow, status, reason, started, finished, host, pid, pid_start, boot_id, "
    "engine, workspace, parent_run_id, progress"
)
_RECORD_COLUMNS = f"{_SUMMARY_COLUMNS}, inputs, result, usage"
_DATA = len(_SUMMARY_COLUMNS.split(","))  # where inputs, result and usage start in a record row


def _migrate(db: MigrationConnection) -> None:
    """Bring a file created by an older version up to date: the columns added since, node keys, and
    the order of artifacts.

    Old nodes get `legacy:<seq>` as their key, then (run_id, node_key) is made unique. Old artifacts
    keep their order (the `seq` added for them is their SQLite rowid: only SQLite files predate it).
    """
    present = db.columns("runs")
    for name, kind in _ADDED_RUN_COLUMNS.items():
        if name not in present:
            db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
    if "node_key" not in db.columns("nodes"):
        db.execute("ALTER TABLE nodes ADD COLUMN node_key TEXT")
        db.execute("UPDATE nodes SET node_key = 'legacy:' || seq")
    db.execute("CREATE UNIQUE INDEX IF NOT EXISTS nodes_key ON nodes (run_id, node_key)")
    if "seq" not in db.columns("artifacts"):
        db.execute("ALTER TABLE artifacts ADD COLUMN seq INTEGER")
        db.execute("UPDATE artifacts SET seq = rowid")


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


class RunProgress(BaseModel):
    """How far a run is: `done` of `total` steps, the latest message, and when it was reported."""

    done: int
    total: int
    message: str
    at: datetime


class RunSummary(BaseModel):
    """One run in a listing; `started_at` is None only for a corrupt row.

    `engine` is `inline` (run in the calling process) or `dbos` (durable); `progress` is None until
    a progress report (or when the stored one cannot be read).
    """

    run_id: str
    workflow: str
    status: ShownRunStatus
    reason: str
    started_at: datetime | None
    finished_at: datetime | None
    host: str | None = None
    pid: int | None = None
    engine: str = "inline"
    progress: RunProgress | None = None
    parent_run_id: str | None = None
    workspace: str | None = None


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


def _progress(value: object) -> RunProgress | None:
    """The stored progress report; None when there is none or it cannot be read (it is only a hint)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = json.loads(value)
        if not isinstance(parsed, dict):
            return None
        fields: dict[str, Any] = dict(parsed)  # pyright: ignore[reportUnknownArgumentType]
        return RunProgress.model_validate(fields | {"at": _time(fields.get("at"), "progress time")})
    except (ValueError, TypeError, _Corrupt):  # pydantic's ValidationError is a ValueError
        return None


def _as_seen_now(
    run_id: str, status: RunStatus, reason: str, process: ProcessIdentity | None, engine: str
) -> tuple[RunStatus, str]:
    """A `running` run reads as `interrupted` once the process running it is known to have ended.

    A durable (`dbos`) run can then be resumed, and its reason says how.
    """
    if status != "running" or process is None:
        return status, reason
    if process.has_ended():
        ended = f"the process running it ({process.describe()}) ended without finishing it"
        if engine == "dbos":
            return "interrupted", f"{ended} (resumable: `ao runs resume {run_id}`)"
        return "interrupted", ended
    if not process.on_this_host():
        return status, f"running on host {process.host} (pid {process.pid}); it cannot be checked from this host"
    return status, reason


def _summary(row: Sequence[object]) -> RunSummary:
    """A summary from `_SUMMARY_COLUMNS`; raises `_Corrupt` naming what is wrong."""
    process = _identity(row)
    run_id = _text(row[0], "run id")
    engine = _optional(row[10], str, "engine") or "inline"
    status, reason = _as_seen_now(run_id, _status(row[2]), _text(row[3], "reason"), process, engine)
    return RunSummary(
        run_id=run_id,
        workflow=_text(row[1], "workflow"),
        status=status,
        reason=reason,
        started_at=_time(row[4], "start time"),
        finished_at=None if row[5] is None else _time(row[5], "finish time"),
        host=None if process is None else process.host,
        pid=None if process is None else process.pid,
        engine=engine,
        workspace=_optional(row[11], str, "workspace"),
        parent_run_id=_optional(row[12], str, "parent run id"),
        progress=_progress(row[13]),
    )


def _listed(row: Sequence[object]) -> RunSummary:
    """A summary from `_RECORD_COLUMNS`, or a `corrupt` one naming the problem; never raises."""
    try:
        for column, what in ((_DATA, "inputs"), (_DATA + 1, "result"), (_DATA + 2, "usage")):
            _object(row[column], what)
        return _summary(row)
    except (_Corrupt, ValueError) as exc:
        return _corrupt_summary(row, _problem(exc))


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
    """Writes and reads run records; thread-safe within a process, database-locked across processes.

    With `database_url` (AO_DATABASE_URL) the records are in that PostgreSQL database; `path` is then
    only where the SQLite file would be, and `location` says where they are.
    """

    def __init__(self, state_dir: Path, redact: Redact, *, database_url: str | None = None) -> None:
        self.path = state_dir / RUNS_FILE
        self._db = open_database(database_url, self.path, _SCHEMA, _migrate)
        self.location = self._db.describe()
        self._redact = redact

    def _json(self, value: Mapping[str, Any]) -> str:
        return self._redact(json.dumps(dict(value), default=str))

    def create(
        self,
        workflow: str,
        inputs: Mapping[str, Any],
        *,
        status: Literal["running", "queued"] = "running",
        engine: str | None = None,
        workspace: str | None = None,
        parent_run_id: str | None = None,
        run_id: str | None = None,
    ) -> str:
        """A new run, and its id (`run_id` when given, else a new one).

        A `running` run is recorded as run by this process; a `queued` one (accepted for background
        execution) records no process until `start`. `engine` None means `inline`. A `run_id` that is
        already recorded raises `UsageError`.
        """
        run_id = run_id or f"run_{secrets.token_hex(6)}"
        me = ProcessIdentity.current() if status == "running" else None
        now = time.time()
        with self._db.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (run_id, workflow, status, reason, inputs, result, usage, started, "
                "finished, host, pid, pid_start, boot_id, engine, workspace, parent_run_id, progress, "
                "updated) "
                "VALUES (?, ?, ?, '', ?, '{}', '{}', ?, NULL, ?, ?, ?, ?, ?, ?, ?, NULL, ?) "
                "ON CONFLICT (run_id) DO NOTHING",
                (
                    run_id,
                    workflow,
                    status,
                    self._json(inputs),
                    now,
                    None if me is None else me.host,
                    None if me is None else me.pid,
                    None if me is None else me.start_ticks,
                    None if me is None else me.boot_id,
                    None if engine in (None, "inline") else engine,
                    workspace,
                    parent_run_id,
                    now,
                ),
            )
        if cursor.rowcount != 1:
            raise UsageError(f"run {run_id!r} is already recorded; a new run needs a new id")
        return run_id

    def start(self, run_id: str) -> bool:
        """The run becomes `running`, owned by this process; False (nothing changed) when it cannot be.

        A `queued` run starts; a `running`, `interrupted` or `cancelled` one is taken over (a durable run
        resumed after a crash, possibly by another process): the reason and finish time are cleared.
        A run that already ended (succeeded, partial, failed, refused), or an unknown id, gives False.
        """
        me = ProcessIdentity.current()
        marks = ", ".join("?" for _ in _STARTABLE)
        with self._db.transaction() as db:
            cursor = db.execute(
                "UPDATE runs SET status = 'running', reason = '', finished = NULL, host = ?, pid = ?, "
                f"pid_start = ?, boot_id = ?, updated = ? WHERE run_id = ? AND status IN ({marks})",
                (me.host, me.pid, me.start_ticks, me.boot_id, time.time(), run_id, *_STARTABLE),
            )
        return cursor.rowcount == 1

    def requeue(self, run_id: str, reason: str) -> bool:
        """Send a run back to `queued` (to be resumed) with `reason`; its process and finish time are cleared.

        Only a `queued`, `cancelled` or `interrupted` run, or a `running` one whose process is known to
        have ended, is requeued; otherwise (it finished, it is still running or cannot be checked, or
        the id is unknown) this returns False and changes nothing.
        """
        with self._db.transaction() as db:
            row = db.execute(
                "SELECT status, host, pid, pid_start, boot_id FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            if row is None:
                return False
            status, host, pid, ticks, boot = row
            if status == "running":
                ended = isinstance(host, str) and isinstance(pid, int)
                ended = ended and ProcessIdentity(host, pid, _int_or_none(ticks), _str_or_none(boot)).has_ended()
                if not ended:
                    return False
            elif status not in _REQUEUEABLE:
                return False
            # only if the row is still as read: the same status and process (`pid IS ?` is SQLite only)
            same_pid, pid_argument = ("pid IS NULL", ()) if pid is None else ("pid = ?", (pid,))
            cursor = db.execute(
                "UPDATE runs SET status = 'queued', reason = ?, finished = NULL, host = NULL, pid = NULL, "
                f"pid_start = NULL, boot_id = NULL, updated = ? WHERE run_id = ? AND status = ? AND {same_pid}",
                (self._redact(reason)[:4000], time.time(), run_id, status, *pid_argument),
            )
        return cursor.rowcount == 1

    def set_progress(self, run_id: str, done: int, total: int, message: str) -> None:
        """Record how far the run is (one UPDATE); the message is redacted and cut to 500 characters."""
        now = time.time()
        message = self._redact(message)[:_PROGRESS_MESSAGE_MAX]
        report = {"done": done, "total": total, "message": message, "at": now}
        with self._db.transaction() as db:
            db.execute(
                "UPDATE runs SET progress = ?, updated = ? WHERE run_id = ?", (json.dumps(report), now, run_id)
            )

    def cancel_queued(self, run_id: str, reason: str) -> bool:
        """End a `queued` run as `cancelled` with `reason`; False when it is not queued (or unknown)."""
        now = time.time()
        with self._db.transaction() as db:
            cursor = db.execute(
                "UPDATE runs SET status = 'cancelled', reason = ?, finished = ?, updated = ? "
                "WHERE run_id = ? AND status = 'queued'",
                (self._redact(reason)[:4000], now, now, run_id),
            )
        return cursor.rowcount == 1

    def prune(self, finished_before: float) -> int:
        """Delete the runs that ended before `finished_before` (epoch seconds), with their nodes and
        artifacts; how many. Queued and running runs are never deleted."""
        with self._db.transaction() as db:
            old = "SELECT run_id FROM runs WHERE finished IS NOT NULL AND finished < ?"
            db.execute(f"DELETE FROM nodes WHERE run_id IN ({old})", (finished_before,))
            db.execute(f"DELETE FROM artifacts WHERE run_id IN ({old})", (finished_before,))
            cursor = db.execute("DELETE FROM runs WHERE finished IS NOT NULL AND finished < ?", (finished_before,))
        return cursor.rowcount

    def add_node(
        self,
        run_id: str,
        name: str,
        started: float,
        duration_ms: int,
        status: str,
        detail: str,
        node_key: str | None = None,
    ) -> None:
        """Record a node, after the run's earlier ones.

        With a `node_key`, a node already recorded under that key keeps its place; it is replaced
        only when it did not succeed (a replayed run keeps the first timings of a node that
        succeeded, and a node cancelled then run again on resume shows its new outcome).
        """
        text = self._redact(detail)[:2000]
        with self._db.transaction() as db:
            seq = db.execute("SELECT COUNT(*) FROM nodes WHERE run_id = ?", (run_id,)).fetchone()[0]
            db.execute(
                "INSERT INTO nodes (run_id, seq, name, started, duration_ms, status, detail, node_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, node_key) DO UPDATE SET "
                "name = excluded.name, started = excluded.started, duration_ms = excluded.duration_ms, "
                "status = excluded.status, detail = excluded.detail WHERE nodes.status != 'succeeded'",
                (run_id, seq, name, started, duration_ms, status, text, node_key or f"seq:{seq}"),
            )

    def add_artifact(
        self,
        run_id: str,
        name: str,
        content: str,
        media_type: str = "text/plain",
        artifact_key: str | None = None,
    ) -> ArtifactRef:
        """Store an artifact, after the run's earlier ones; with an `artifact_key` its id is derived from
        the run and the key, so a replay writing it again replaces it (same id, same place) rather than
        adding another."""
        if artifact_key is None:
            artifact_id = f"art_{secrets.token_hex(5)}"
        else:
            artifact_id = "art_" + hashlib.sha256(f"{run_id}\0{artifact_key}".encode()).hexdigest()[:10]
        text = self._redact(content)
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO artifacts (run_id, artifact_id, name, media_type, content, seq) "
                "VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), -1) + 1 FROM artifacts WHERE run_id = ?)) "
                "ON CONFLICT (run_id, artifact_id) DO UPDATE SET name = excluded.name, "
                "media_type = excluded.media_type, content = excluded.content",
                (run_id, artifact_id, name, media_type, text, run_id),
            )
        return ArtifactRef(artifact_id=artifact_id, name=name, media_type=media_type, size=len(text))

    def finish(
        self, run_id: str, status: RunStatus, reason: str, result: Mapping[str, Any], usage: Mapping[str, Any]
    ) -> bool:
        """End a running or queued run; False (and nothing changed) when it had already ended."""
        now = time.time()
        with self._db.transaction() as db:
            cursor = db.execute(
                "UPDATE runs SET status = ?, reason = ?, result = ?, usage = ?, finished = ?, updated = ? "
                "WHERE run_id = ? AND status IN ('running', 'queued')",
                (status, self._redact(reason)[:4000], self._json(result), self._json(usage), now, now, run_id),
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
                "WHERE run_id = ? ORDER BY seq",
                (run_id,),
            ).fetchall()
        try:
            return RunRecord(
                **_summary(row).model_dump(),
                inputs=_object(row[_DATA], "inputs"),
                result=_object(row[_DATA + 1], "result"),
                usage=_object(row[_DATA + 2], "usage"),
                nodes=[_node(n) for n in nodes],
                artifacts=[
                    ArtifactRef(artifact_id=a[0], name=a[1], media_type=a[2], size=a[3]) for a in artifacts
                ],
            )
        except (_Corrupt, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            raise StoreCorruptError(
                f"run {run_id!r} in {self.location!r} is corrupt ({_problem(exc)}); it was left as is, and "
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
        if not self._db.exists():
            return []
        with self._db.transaction() as db:
            rows = db.execute(
                f"SELECT {_RECORD_COLUMNS} FROM runs ORDER BY started DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_listed(row) for row in rows]

    def list_unfinished(self, engine: str | None = None) -> list[RunSummary]:
        """Runs stored as `queued` or `running` (of one engine, when given), newest first.

        Each reads as seen now: a running run whose process ended is `interrupted`; a row that cannot
        be read is `corrupt`.
        """
        if not self._db.exists():
            return []
        query = f"SELECT {_RECORD_COLUMNS} FROM runs WHERE status IN ('queued', 'running')"
        arguments: tuple[str, ...] = ()
        if engine == "inline":
            query += " AND (engine IS NULL OR engine = 'inline')"
        elif engine is not None:
            query += " AND engine = ?"
            arguments = (engine,)
        with self._db.transaction() as db:
            rows = db.execute(f"{query} ORDER BY started DESC", arguments).fetchall()
        return [_listed(row) for row in rows]


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _problem(exc: Exception) -> str:
    return str(exc) if isinstance(exc, _Corrupt) else f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
