"""Where the SQL stores (runs, the call ledger, the audit log) keep their tables: a file or PostgreSQL.

`Database` is all a store uses: `transaction()` yields a connection whose `execute(sql, parameters)`
returns a cursor (`fetchone`, `fetchall`, `rowcount`), committed on success and rolled back on error.
A store writes its SQL once, in what both engines run: `?` placeholders, `ON CONFLICT ... DO
NOTHING / DO UPDATE`, no `rowid`, no `PRAGMA`, no `INSERT OR ...`. Its schema is SQLite DDL; the
PostgreSQL adapter translates the column types. A migration gets a connection that also says which
columns a table has (`columns`), so it needs no engine-specific query.

`open_database` picks the engine: PostgreSQL (`store/postgres.py`, tables in schema `ao`) when a
database URL is configured (AO_DATABASE_URL: every process on every machine shares the records),
else the SQLite file under the state dir (`store/sqlite.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from agent_orchestrator.store.postgres import PostgresDatabase
from agent_orchestrator.store.sqlite import SqliteFile

# What the stores redact with (a `policies.redaction.Redactor` in practice, wired by the runtime):
# the store only needs a text-to-text function, so it does not depend on the policy layer.
Redact = Callable[[str], str]


class Cursor(Protocol):
    """The result of one statement."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """A connection inside one transaction."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...


class MigrationConnection(Connection, Protocol):
    """What a migration works with: a connection that also names the columns a table has."""

    def columns(self, table: str) -> set[str]: ...


Migration = Callable[[MigrationConnection], None]


class Database(Protocol):
    """One store's tables, created (and migrated) on first use."""

    def transaction(self) -> AbstractContextManager[Connection]:
        """A connection inside one transaction, committed on success and rolled back on error."""
        ...

    def exists(self) -> bool:
        """False when nothing was ever stored (no SQLite file yet): reading finds nothing, creates nothing."""
        ...

    def describe(self) -> str:
        """Where the tables are, for messages: the file, or `postgresql://host:port/db` (never a password)."""
        ...


def open_database(url: str | None, path: Path, schema: str, migrate: Migration | None = None) -> Database:
    """PostgreSQL at `url` (schema `ao`) when a URL is given, else the SQLite file at `path`."""
    if url is None:
        return SqliteFile(path, schema, migrate)
    return PostgresDatabase(url, schema, migrate)
