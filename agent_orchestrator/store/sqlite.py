"""A SQLite file under the state dir: one short connection per operation, schema created once.

WAL with NORMAL sync: a commit does not wait for an fsync (a crash loses at most the last records,
never corrupts the file), which keeps recording off a workflow's critical path.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Generator
from contextlib import closing, contextmanager
from pathlib import Path

from agent_orchestrator.store.atomic import ensure_state_dir


class SqliteFile:
    """Serialises access within a process; SQLite's own locking covers other processes."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        self._schema = schema
        self._lock = threading.Lock()
        self._ready = False

    @contextmanager
    def transaction(self) -> Generator[sqlite3.Connection]:
        """A connection inside one transaction, committed on success and rolled back on error."""
        ensure_state_dir(self.path.parent)
        with self._lock, closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if not self._ready:
                db.executescript(self._schema)
                self._ready = True
            with db:
                yield db
