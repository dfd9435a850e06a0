"""PostgreSQL for the SQL stores (AO_DATABASE_URL): tables in schema `ao`, shared by every process.

The stores write SQLite-flavoured SQL in a subset both engines run; this adapter translates what
differs: `?` placeholders become `%s` (a literal `%` is escaped), and in `CREATE`/`ALTER` statements
`INTEGER PRIMARY KEY AUTOINCREMENT` becomes `BIGSERIAL PRIMARY KEY`, `INTEGER` `BIGINT` and `REAL`
`DOUBLE PRECISION` (a timestamp in PostgreSQL's 4-byte REAL would lose its seconds). PostgreSQL
text cannot hold NUL characters: a NUL in a stored string is replaced by U+FFFD.

Each process keeps one connection per database URL, shared by its stores and used by one
transaction at a time (a lock); it is opened on first use, reopened when broken, and a connection
the server dropped while idle is replaced when its BEGIN fails (nothing has run on it, so retrying
is safe). A forked child opens its own. `search_path` is set to `ao` for the session (so not through
a proxy that pools transactions). Creating the schema and its tables, and migrating them, happen
once per store object under a transaction-scoped advisory lock, so processes starting at once
never race. `psycopg` (a dependency of the durable engine) is imported only when a store first
connects. Messages name the database as `postgresql://host:port/db`, never with its password.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import threading
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, LiteralString, cast
from urllib.parse import unquote, urlsplit

from agent_orchestrator.errors import ConfigError, StoreError

if TYPE_CHECKING:
    import psycopg

SCHEMA = "ao"
_SCHEMES = re.compile(r"^postgres(?:ql)?(?:\+[a-z0-9_]+)?://", re.IGNORECASE)
# "ao-schem": held while a store creates or migrates its tables in this database.
_MIGRATION_LOCK = 0x616F2D736368656D
_PLACEHOLDERS = re.compile(r"'(?:[^']|'')*'|\?|%")
_DDL_TYPES = (
    (re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT\b", re.IGNORECASE), "BIGSERIAL PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),
)


def describe(url: str) -> str:
    """`postgresql://host:port/db` for messages: no user, no password, no parameters."""
    try:
        parts = urlsplit(url)
        host, port, database = parts.hostname or "localhost", parts.port or 5432, parts.path.lstrip("/")
    except ValueError:
        return "the database named by AO_DATABASE_URL"
    return f"postgresql://{host}:{port}/{database or parts.username or 'postgres'}"


def _libpq_url(url: str) -> str:
    """The URL as libpq takes it: `postgres://` and SQLAlchemy's `postgresql+driver://` become `postgresql://`."""
    match = _SCHEMES.match(url)
    if match is None:
        scheme = url.partition("://")[0][:20] if "://" in url else "no scheme"
        raise ConfigError(f"AO_DATABASE_URL must be a postgresql:// URL (it has {scheme})")
    return "postgresql://" + url[match.end() :]


@functools.lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """A store's statement as PostgreSQL runs it (see the module's docstring)."""

    def swap(match: re.Match[str]) -> str:
        token = match.group()
        return "%s" if token == "?" else token.replace("%", "%%")

    sql = _PLACEHOLDERS.sub(swap, sql)
    if sql.lstrip()[:6].upper() in ("CREATE", "ALTER "):
        for pattern, replacement in _DDL_TYPES:
            sql = pattern.sub(replacement, sql)
    return sql


def _value(value: object) -> object:
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def _failure(where: str, secret: str | None, exc: Exception) -> StoreError:
    """A StoreError naming the database and libpq's reason, with the password (if any) taken out."""
    import psycopg

    if isinstance(exc, psycopg.OperationalError):
        reason = (str(exc).strip().splitlines() or [""])[0][:300]
        if secret:
            for hidden in (secret, unquote(secret)):
                reason = reason.replace(hidden, "***")
    else:  # a malformed URL: libpq's message may quote it
        reason = f"{type(exc).__name__}: the URL is not a valid connection string"
    return StoreError(f"the database at {where} cannot be used ({reason}); check AO_DATABASE_URL and the server")


class PostgresConnection:
    """A connection inside one transaction; statements are translated (see the module's docstring)."""

    def __init__(self, connection: psycopg.Connection[Any], where: str, secret: str | None) -> None:
        self._connection = connection
        self._where = where
        self._secret = secret

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        import psycopg

        try:
            return self._connection.execute(
                cast(LiteralString, translate(sql)), tuple(_value(value) for value in parameters)
            )
        except psycopg.OperationalError as exc:
            raise _failure(self._where, self._secret, exc) from None

    def columns(self, table: str) -> set[str]:
        rows = self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            (SCHEMA, table),
        ).fetchall()
        return {row[0] for row in rows}


class _Link:
    """This process's connection to one database, used by one transaction at a time."""

    def __init__(self, url: str, where: str, secret: str | None) -> None:
        self.lock = threading.Lock()
        self._url = url
        self._where = where
        self._secret = secret
        self._connection: psycopg.Connection[Any] | None = None

    @contextmanager
    def transaction(self) -> Generator[PostgresConnection]:
        """Call with `lock` held."""
        connection = self._begin()
        try:
            yield PostgresConnection(connection, self._where, self._secret)
        except BaseException:
            with suppress(Exception):  # a broken connection is replaced on next use
                connection.execute("ROLLBACK")
            raise
        PostgresConnection(connection, self._where, self._secret).execute("COMMIT")

    def close(self) -> None:
        if not self.lock.acquire(timeout=1):  # a transaction still running (at exit): leave it be
            return
        try:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        finally:
            self.lock.release()

    def _begin(self) -> psycopg.Connection[Any]:
        import psycopg

        connection = self._open()
        try:
            connection.execute("BEGIN")
        except psycopg.OperationalError:  # dropped while idle (server restart, timeout): nothing ran yet
            connection = self._open()
            PostgresConnection(connection, self._where, self._secret).execute("BEGIN")
        return connection

    def _open(self) -> psycopg.Connection[Any]:
        """The connection, idle (outside any transaction); a new one when there is none or it is broken."""
        import psycopg
        from psycopg.pq import TransactionStatus

        if self._connection is not None:
            if not self._connection.broken and self._connection.info.transaction_status == TransactionStatus.IDLE:
                return self._connection
            with suppress(Exception):  # broken, closed, or left inside a transaction a ROLLBACK could not end
                self._connection.close()
            self._connection = None
        try:
            connection = psycopg.connect(
                self._url, autocommit=True, connect_timeout=10, application_name="agent-orchestrator"
            )
            connection.execute(f"SET search_path TO {SCHEMA}")
        except psycopg.Error as exc:
            raise _failure(self._where, self._secret, exc) from None
        self._connection = connection
        return connection


_links: dict[tuple[int, str], _Link] = {}
_links_lock = threading.Lock()


def _link(url: str, where: str, secret: str | None) -> _Link:
    """This process's link to `url` (a forked child gets its own)."""
    key = (os.getpid(), url)
    with _links_lock:
        if key not in _links:
            _links[key] = _Link(url, where, secret)
        return _links[key]


def close_connections() -> None:
    """Close this process's connections (at exit; the next use would reopen them)."""
    with _links_lock:
        mine = [link for (pid, _), link in _links.items() if pid == os.getpid()]
    for link in mine:
        with suppress(Exception):
            link.close()


def _after_fork() -> None:
    global _links_lock
    _links_lock = threading.Lock()  # another thread may have held it at the fork


atexit.register(close_connections)
if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_after_fork)


class PostgresDatabase:
    """One store's tables in schema `ao` of the database at `url`; created and migrated on first use."""

    def __init__(self, url: str, schema: str, migrate: Callable[[PostgresConnection], None] | None = None) -> None:
        self._url = _libpq_url(url)
        self._where = describe(self._url)
        try:
            self._secret = urlsplit(self._url).password
        except ValueError:
            self._secret = None
        self._schema = schema
        self._migrate = migrate
        self._ready = False

    def exists(self) -> bool:
        return True  # reading creates the schema if needed, which is harmless in a shared database

    def describe(self) -> str:
        return self._where

    @contextmanager
    def transaction(self) -> Generator[PostgresConnection]:
        """A connection inside one transaction, committed on success and rolled back on error."""
        link = _link(self._url, self._where, self._secret)
        with link.lock:
            if not self._ready:
                with link.transaction() as db:
                    self._prepare(db)
                self._ready = True
            with link.transaction() as db:
                yield db

    def _prepare(self, db: PostgresConnection) -> None:
        """Create the schema and tables, then migrate, one process at a time."""
        db.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
        if db.execute("SELECT 1 FROM pg_namespace WHERE nspname = ?", (SCHEMA,)).fetchone() is None:
            db.execute(f"CREATE SCHEMA {SCHEMA}")
        for statement in self._schema.split(";"):
            if statement.strip():
                db.execute(statement)
        if self._migrate is not None:
            self._migrate(db)
