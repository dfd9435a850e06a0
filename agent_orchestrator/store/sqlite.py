"""A SQLite file under the state dir: one short connection per operation, schema created once.

WAL with NORMAL sync: a commit does not wait for an fsync (a crash loses at most the last records,
never corrupts the file), which keeps recording off a workflow's critical path.

The files hold redacted but private records (goals, diffs, decisions): the database is created
0600 before SQLite opens it (its -wal and -shm files take the database's mode), and an existing
database, -wal or -shm file of ours that others can read is tightened to 0600 when first opened.
(On Windows the mode bits mean nothing; the files are as private as the state dir's ACLs.)
Text that is not valid UTF-8 reads with replacement characters instead of failing the whole query.
It is one of the two `store.database.Database`s (the other is PostgreSQL, with AO_DATABASE_URL).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Generator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from agent_orchestrator.store.atomic import ensure_state_dir, tighten

PRIVATE_FILE = 0o600


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


class SqliteMigration:
    """What a migration works with: the connection, and the columns a table has."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> sqlite3.Cursor:
        return self._db.execute(sql, parameters)

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}


class SqliteFile:
    """Serialises access within a process; SQLite's own locking covers other processes."""

    def __init__(self, path: Path, schema: str, migrate: Callable[[SqliteMigration], None] | None = None) -> None:
        self.path = path
        self._schema = schema
        self._migrate = migrate
        self._lock = threading.Lock()
        self._ready = False

    def exists(self) -> bool:
        """Whether the file was created (reading a store that was never written creates nothing)."""
        return self.path.exists()

    def describe(self) -> str:
        return str(self.path)

    @contextmanager
    def transaction(self) -> Generator[sqlite3.Connection]:
        """A connection inside one transaction, committed on success and rolled back on error."""
        ensure_state_dir(self.path.parent)
        with self._lock:
            if not self._ready:
                self._secure()
            with closing(sqlite3.connect(self.path, timeout=10)) as db:
                db.text_factory = _decode
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                if not self._ready:
                    self._prepare(db)
                with db:
                    yield db

    def _secure(self) -> None:
        """Create the database 0600 (never readable by others, not even briefly), tighten what exists."""
        with contextlib.suppress(FileExistsError):  # an existing one SQLite opens as it is (read-only if it must)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        for suffix in ("", "-wal", "-shm"):
            tighten(self.path.with_name(self.path.name + suffix), PRIVATE_FILE)

    def _prepare(self, db: sqlite3.Connection) -> None:
        db.executescript(self._schema)
        if self._migrate is not None:
            db.execute("BEGIN IMMEDIATE")  # one process migrates at a time; the others see its result
            try:
                self._migrate(SqliteMigration(db))
            except BaseException:
                db.rollback()
                raise
            db.commit()
        self._ready = True
