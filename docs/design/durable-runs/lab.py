"""Shared helpers for the DBOS prototypes: config, a redacting JSON serializer, a pickle guard, timing.

Every prototype imports this module. Nothing here is specific to one experiment.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

import dbos._serialization as dbos_serialization
from dbos import DBOS, DBOSConfig, Serializer

LAB = Path(__file__).resolve().parent
APP_NAME = "agent-orchestrator"  # 3..256 chars of [a-z0-9-_]
APP_VERSION = "ao-durable-1"  # pinned: recovery and dequeue filter on it

# ---------------------------------------------------------------------------------------------
# Logging: give the "dbos" logger our own handler *before* DBOS() so init_logger() adds no
# console StreamHandler, and set log_level WARNING so the INFO "connect to DBOS Conductor at
# https://console.dbos.dev/..." notice (and every other INFO line) is never emitted.
# ---------------------------------------------------------------------------------------------


def quiet_dbos(level: str = "WARNING") -> None:
    logger = logging.getLogger("dbos")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("dbos %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


# ---------------------------------------------------------------------------------------------
# Serializer: JSON with tagged pydantic models / tuples / datetimes / exceptions; every string
# leaf goes through `redact`. Classes are rebuilt only from an allowlist of module prefixes.
# ---------------------------------------------------------------------------------------------

ALLOWED_MODULES: tuple[str, ...] = ("agent_orchestrator", "__main__", "lab")


class RecordedError(Exception):
    """A step's recorded failure whose class is not allowlisted: its type name and message."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name


def _allowed(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in ALLOWED_MODULES)


def _load_class(path: str) -> type:
    module, _, qualname = path.partition(":")
    if not _allowed(module):
        raise TypeError(f"class {path!r} is not in the serializer's allowlist")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class RedactingJSONSerializer(Serializer):
    """The DBOS 3.4 serializer interface: `serialize(Any) -> str`, `deserialize(str) -> Any`, `name()`."""

    def __init__(self, redact: Callable[[str], str] = lambda text: text) -> None:
        self.redact = redact

    def name(self) -> str:
        return "ao_json_v1"  # stored in each row's `serialization` column

    def serialize(self, data: Any) -> str:
        return json.dumps(self._encode(data), separators=(",", ":"), ensure_ascii=False)

    def deserialize(self, serialized_data: str) -> Any:
        return self._decode(json.loads(serialized_data))

    def _encode(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, BaseModel):
            cls = type(value)
            return {"$model": f"{cls.__module__}:{cls.__qualname__}", "data": self._encode(value.model_dump(mode="json"))}
        if isinstance(value, BaseException):
            cls = type(value)
            return {"$error": f"{cls.__module__}:{cls.__qualname__}", "message": self.redact(str(value))}
        if isinstance(value, dt.datetime):
            return {"$datetime": value.isoformat()}
        if isinstance(value, tuple):
            return {"$tuple": [self._encode(v) for v in value]}
        if isinstance(value, list):
            return [self._encode(v) for v in value]
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError("only str keys are serialized")
            return {("$$" + k if k.startswith("$") else k): self._encode(v) for k, v in value.items()}
        if isinstance(value, bytes):
            return {"$bytes": base64.b64encode(value).decode()}
        raise TypeError(f"{type(value).__qualname__} is not serializable by {self.name()}: use a pydantic model")

    def _decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "$model" in value:
            cls = _load_class(value["$model"])
            if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
                raise TypeError(f"{value['$model']!r} is not a pydantic model")
            return cls.model_validate(value["data"])
        if "$error" in value:
            try:
                cls = _load_class(value["$error"])
            except (TypeError, ImportError, AttributeError):
                return RecordedError(value["$error"], value["message"])
            if not (isinstance(cls, type) and issubclass(cls, Exception)):
                return RecordedError(value["$error"], value["message"])
            err = cls.__new__(cls)
            Exception.__init__(err, value["message"])
            return err
        if "$datetime" in value:
            return dt.datetime.fromisoformat(value["$datetime"])
        if "$tuple" in value:
            return tuple(self._decode(v) for v in value["$tuple"])
        if "$bytes" in value:
            return base64.b64decode(value["$bytes"])
        return {(k[2:] if k.startswith("$$") else k): self._decode(v) for k, v in value.items()}


class PickleRefused(Exception):
    pass


def refuse_pickle() -> None:
    """DBOS deserializes any row whose `serialization` column says "py_pickle" with pickle, whatever
    serializer is configured (dbos/_serialization.py deserialize_value/deserialize_args/
    deserialize_exception). Replace that module-level instance's loader so such a row raises."""

    def refuse(serialized_data: str) -> Any:
        raise PickleRefused("a py_pickle row was found in the system database; refused to unpickle it")

    dbos_serialization.DBOSDefaultSerializer.deserialize = refuse  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------


def sqlite_url(state_dir: Path) -> str:
    return f"sqlite:///{state_dir / 'dbos.sqlite3'}"


def sqlite_engine(state_dir: Path, *, wal: bool = True) -> sa.Engine:
    """A system-database engine like DBOS's own (IMMEDIATE transactions, busy_timeout, foreign
    keys), plus WAL and synchronous=NORMAL; the file is created 0600 first."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / "dbos.sqlite3"
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    if wal:
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA journal_mode=WAL")  # persistent in the file
    engine = sa.create_engine(f"sqlite:///{path}", pool_size=20, max_overflow=0, pool_timeout=30)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = "IMMEDIATE"
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        if wal:
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    return engine


def config(
    *,
    state_dir: Path | None = None,
    database_url: str | None = None,
    executor_id: str = "local",
    engine: sa.Engine | None = None,
    serializer: Serializer | None = None,
) -> DBOSConfig:
    cfg: DBOSConfig = {
        "name": APP_NAME,
        "application_version": APP_VERSION,
        "executor_id": executor_id,
        "log_level": "WARNING",
        "serializer": serializer or RedactingJSONSerializer(),
        "notification_listener_polling_interval_sec": 0.05,  # get_result/recv/get_event polls (SQLite)
        "scheduler_polling_interval_sec": 3600.0,  # we use no schedules
    }
    if engine is not None:
        cfg["system_database_engine"] = engine
    elif database_url is not None:
        cfg["system_database_url"] = database_url
        if database_url.startswith("postgresql"):
            cfg["sys_db_pool_size"] = 10
    else:
        assert state_dir is not None
        state_dir.mkdir(parents=True, exist_ok=True)
        cfg["system_database_url"] = sqlite_url(state_dir)
    return cfg


def launch(cfg: DBOSConfig) -> float:
    """DBOS(config) + launch; seconds taken."""
    quiet_dbos()
    started = time.perf_counter()
    DBOS(config=cfg)
    DBOS.launch()
    return time.perf_counter() - started


def sqlite_tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
