"""Executors sharing one PostgreSQL database: who is alive, and who takes up a dead one's runs, once.

DBOS (without its hosted conductor) recovers only the runs of its own executor id, at launch. With
several processes on one queue, each has its own id (`host-pid-random`), and this module decides
when another is dead and makes exactly one live process recover its runs:

- each executor registers in `ao.ao_executors`, holds a session-level advisory lock keyed by its
  id for its whole life, and stamps `heartbeat_at` every `HEARTBEAT_S`;
- every live executor looks for others that are dead: its advisory lock is free (the process or
  its connection is gone: known within milliseconds of a `kill -9`), or it stopped stamping for
  `TTL_S` (hung, or cut off from the database);
- a dead executor is claimed with one conditional UPDATE (`state='alive'` → `'dead'`); only the
  process whose UPDATE changed the row recovers its pending runs, onto their queues;
- an executor that finds its own row marked dead (it was presumed dead, e.g. after a long pause)
  stops at once: DBOS's ownership check already refuses its step writes, and it must not go on
  with side effects of runs now owned by another.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio

logger = logging.getLogger(__name__)

HEARTBEAT_S = 2.0
TTL_S = 30.0  # long on purpose: a false "dead" repeats the side effects of the steps then in flight
REAP_S = 2.0
_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS ao;
CREATE TABLE IF NOT EXISTS ao.ao_executors (
    executor_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    app_version TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    state TEXT NOT NULL DEFAULT 'alive',
    reaped_by TEXT,
    reaped_at TIMESTAMPTZ,
    recovered INTEGER
);
"""


def new_executor_id() -> str:
    """Unique per process: `host-pid-random` (a reused pid on a rebooted host still differs)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class Liveness:
    """This executor's registration, heartbeat and reaper on the shared database."""

    url: str
    executor_id: str
    app_version: str
    recover: Callable[[list[str]], Any]  # DBOS's recovery of these executors' pending runs
    on_declared_dead: Callable[[], None]
    heartbeat_s: float = HEARTBEAT_S
    ttl_s: float = TTL_S
    reap_s: float = REAP_S
    _holder: Any = None  # the connection holding our advisory lock for our whole life

    def register(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as db:
            db.execute("SELECT pg_advisory_lock(4242001)")  # one schema creator at a time
            try:
                db.execute(_SCHEMA)
            finally:
                db.execute("SELECT pg_advisory_unlock(4242001)")
            db.execute(
                "INSERT INTO ao.ao_executors (executor_id, host, pid, app_version) VALUES (%s, %s, %s, %s)",
                (self.executor_id, socket.gethostname(), os.getpid(), self.app_version),
            )
        self._holder = psycopg.connect(self.url, autocommit=True)
        self._holder.execute("SELECT pg_advisory_lock(hashtext('ao-executor:' || %s))", (self.executor_id,))

    def close(self) -> None:
        """A clean stop: release the lock. The runs we leave pending are taken up by a live executor (one that
        starts later, if none runs now), exactly as after a crash."""
        if self._holder is not None:
            self._holder.close()
            self._holder = None

    def beat(self) -> bool:
        """Stamp our heartbeat; False when our row says we were declared dead."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as db:
            changed = db.execute(
                "UPDATE ao.ao_executors SET heartbeat_at = now() WHERE executor_id = %s AND state = 'alive'",
                (self.executor_id,),
            ).rowcount
        return changed == 1

    def reap(self) -> list[str]:
        """Claim every dead executor we can and recover its runs; the ids we recovered."""
        import psycopg

        recovered: list[str] = []
        with psycopg.connect(self.url, autocommit=True) as db:
            rows = db.execute(
                "SELECT executor_id, heartbeat_at < now() - make_interval(secs => %s) FROM ao.ao_executors "
                "WHERE state = 'alive' AND executor_id <> %s AND app_version = %s",
                (self.ttl_s, self.executor_id, self.app_version),
            ).fetchall()
            for other, silent in rows:
                probe = db.execute(
                    "SELECT pg_try_advisory_lock(hashtext('ao-executor:' || %s))", (other,)
                ).fetchone()
                lock_free = bool(probe and probe[0])
                try:
                    if not (lock_free or silent):
                        continue
                    claimed = db.execute(
                        "UPDATE ao.ao_executors SET state = 'dead', reaped_by = %s, reaped_at = now() "
                        "WHERE executor_id = %s AND state = 'alive'",
                        (self.executor_id, other),
                    ).rowcount
                    if claimed != 1:
                        continue  # another live executor claimed it first
                    handed = self.recover([other])
                    count = len(handed) if isinstance(handed, list) else None  # pyright: ignore[reportUnknownArgumentType]
                    db.execute("UPDATE ao.ao_executors SET recovered = %s WHERE executor_id = %s", (count, other))
                    logger.warning("executor %s is gone; %s recovered its pending runs", other, self.executor_id)
                    recovered.append(other)
                finally:
                    if lock_free:
                        db.execute("SELECT pg_advisory_unlock(hashtext('ao-executor:' || %s))", (other,))
        return recovered

    async def run(self) -> None:  # pragma: no cover - exercised by the multi-process tests
        """Heartbeat and reap until cancelled; declared dead: `on_declared_dead` (the process stops)."""
        waited = 0.0
        while True:
            alive = await anyio.to_thread.run_sync(self.beat)
            if not alive:
                logger.error("executor %s was declared dead by another executor; stopping", self.executor_id)
                self.on_declared_dead()
                return
            if waited >= self.reap_s:
                waited = 0.0
                await anyio.to_thread.run_sync(self.reap)
            await anyio.sleep(self.heartbeat_s)
            waited += self.heartbeat_s


def live_executors(url: str, ttl_s: float = TTL_S) -> int:
    """How many executors of this database stamped a heartbeat within `ttl_s` (0 before any registered)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        exists = db.execute("SELECT to_regclass('ao.ao_executors')").fetchone()
        if not exists or exists[0] is None:
            return 0
        row = db.execute(
            "SELECT count(*) FROM ao.ao_executors WHERE state = 'alive' "
            "AND heartbeat_at >= now() - make_interval(secs => %s)",
            (ttl_s,),
        ).fetchone()
    return int(row[0]) if row else 0
