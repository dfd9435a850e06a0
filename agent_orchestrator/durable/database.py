"""The durable engine's database: SQLite in the state dir by default, PostgreSQL with AO_DATABASE_URL.

Everything that talks to DBOS's system database gets its settings here: the app name and the
pinned application version (recovery and dequeuing filter on it: an unpinned version, a hash of
the code, would strand pending runs after an upgrade), the redacting JSON serializer, a quiet
logger (DBOS prints ~76 lines and a hosted-console notice at INFO otherwise), and, for SQLite, an
engine with WAL and `synchronous=NORMAL` on a file created 0600 (DBOS's own setup costs 4-14 ms per
recorded step; this one about 2 ms).

`dbos` takes ~0.4 s to import: only this package imports it, and only when a durable run needs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent_orchestrator.config import Settings
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.store.atomic import ensure_state_dir

if TYPE_CHECKING:
    import sqlalchemy as sa
    from dbos import DBOSClient, DBOSConfig

APP_NAME = "agent-orchestrator"
# Bump only when a run recorded by an older version could no longer replay on this code.
APP_VERSION = "ao-durable-1"
ENGINE_FILE = "dbos.sqlite3"
QUEUE = "ao-runs"  # embedded: the one queue
ANY_WORKSPACE_QUEUE = "ao-any"  # shared: runs that need no workspace (an interview)
WORKFLOW_NAME = "ao.run"  # the one durable workflow (durable/engine.py): it runs any workflow job
QUEUE_POLL_S = 0.05  # enqueue-to-start latency: ~40 ms (DBOS's default 1 s polling gave ~800 ms)
RESULT_POLL_S = 0.05


@dataclass(frozen=True)
class EngineDatabase:
    """Where the engine keeps its state, and how to reach it."""

    url: str
    shared: bool  # PostgreSQL: several processes (machines) share one queue
    state_dir: Path

    @classmethod
    def of(cls, settings: Settings) -> EngineDatabase:
        if settings.ao_database_url is not None:
            return cls(settings.ao_database_url.get_secret_value(), True, settings.ao_state_dir)
        return cls(f"sqlite:///{settings.ao_state_dir / ENGINE_FILE}", False, settings.ao_state_dir)

    def describe(self) -> str:
        """Where, for messages: the SQLite path, or PostgreSQL's host and database (never the password)."""
        if not self.shared:
            return str(self.state_dir / ENGINE_FILE)
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        return f"postgresql://{url.host}:{url.port or 5432}/{url.database}"


def queue_for(database: EngineDatabase, settings: Settings, repository: Path | None) -> str:
    """The queue a run goes on. Embedded: the one queue. Shared: one per workspace root, so a run executes
    only on executors configured with that root (its workspace, or the AO_ALLOWED_ROOTS entry holding the
    repository): the same path on every machine that serves it."""
    if not database.shared:
        return QUEUE
    if repository is None:
        return ANY_WORKSPACE_QUEUE
    root = next((root for root in settings.allowed_roots if repository.is_relative_to(root)), repository)
    return workspace_queue(root)


def workspace_queue(root: Path) -> str:
    return "ao-ws-" + hashlib.sha256(str(root).encode()).hexdigest()[:12]


def queues_served(database: EngineDatabase, settings: Settings) -> list[str]:
    """The queues an executor with these settings takes runs from."""
    if not database.shared:
        return [QUEUE]
    return [ANY_WORKSPACE_QUEUE, *(workspace_queue(root) for root in settings.allowed_roots)]


def quiet_dbos(level: str = "WARNING") -> None:
    """Route DBOS's logger to ours before DBOS configures its own (it adds a stderr handler only when
    there is none), at WARNING: no console notice, nothing on stdout."""
    logger = logging.getLogger("dbos")
    if not any(isinstance(handler, _ToOurs) for handler in logger.handlers):
        logger.addHandler(_ToOurs())
    logger.setLevel(level)
    logger.propagate = False


class _ToOurs(logging.Handler):
    """Hands DBOS's records to our package's logger (stderr, redacted, at LOG_LEVEL)."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger("agent_orchestrator.durable.dbos").handle(record)


def sqlite_engine(path: Path) -> sa.Engine:
    """DBOS's SQLite settings (IMMEDIATE transactions, busy_timeout, foreign keys) plus WAL and NORMAL
    sync, on a file created 0600."""
    import sqlalchemy as sa
    from sqlalchemy import event

    ensure_state_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")  # kept in the file
    engine = sa.create_engine(f"sqlite:///{path}", pool_size=20, max_overflow=0, pool_timeout=30)

    @event.listens_for(engine, "connect")  # pyright: ignore[reportUntypedFunctionDecorator, reportUnknownMemberType]
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = "IMMEDIATE"
        dbapi_connection.execute("PRAGMA busy_timeout=30000")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return engine


def serializer(redact: Redactor) -> Any:
    from agent_orchestrator.durable.serializer import RedactingJSONSerializer, refuse_pickle

    refuse_pickle()
    return RedactingJSONSerializer(redact)


def dbos_config(database: EngineDatabase, executor_id: str, redact: Redactor) -> DBOSConfig:
    """The config an executor launches DBOS with."""
    quiet_dbos()
    config: DBOSConfig = {
        "name": APP_NAME,
        "application_version": APP_VERSION,
        "executor_id": executor_id,
        "log_level": "WARNING",
        "serializer": serializer(redact),
        "notification_listener_polling_interval_sec": RESULT_POLL_S,
    }
    if database.shared:
        config["system_database_url"] = database.url
        config["sys_db_pool_size"] = 10
    else:
        config["system_database_engine"] = sqlite_engine(database.state_dir / ENGINE_FILE)
    return config


_MIGRATED: set[str] = set()  # databases this process created or upgraded already


def migrate(database: EngineDatabase) -> None:
    """Create or upgrade the engine's tables without launching it (a client never migrates); once per
    database and process."""
    from dbos import DBOS

    if database.url in _MIGRATED and (database.shared or (database.state_dir / ENGINE_FILE).exists()):
        return
    quiet_dbos()
    if not database.shared:
        sqlite_engine(database.state_dir / ENGINE_FILE).dispose()
    DBOS.migrate(database.url)
    _MIGRATED.add(database.url)


def client(database: EngineDatabase, redact: Redactor) -> DBOSClient:
    """A client of the engine: enqueue, cancel, resume, read, without launching (nor running anything)."""
    from dbos import DBOSClient

    quiet_dbos()
    migrate(database)
    if database.shared:
        return DBOSClient(
            system_database_url=database.url, serializer=serializer(redact), application_name=APP_NAME
        )
    engine = sqlite_engine(database.state_dir / ENGINE_FILE)
    return DBOSClient(system_database_engine=engine, serializer=serializer(redact), application_name=APP_NAME)
