"""3b. Executors with heartbeats: a dead executor's runs are recovered exactly once by a live one.

Each process gets a unique executor_id (never DBOS's shared "local"), registers itself in our own
table `ao_executors`, and heartbeats. Every live process runs a reaper: an executor whose heartbeat
is older than TTL is claimed with one conditional UPDATE (state alive -> dead, reaped_by = me);
only the process whose UPDATE changed the row calls DBOS's recovery for it. DBOS's re-enqueue is
itself conditional (PENDING and executor_id in the dead set), and the queue's ENQUEUED -> PENDING
claim admits one runner, so even a duplicate recovery would not run a workflow twice.
A process that finds its own row no longer 'alive' was declared dead: it stops at once.

On PostgreSQL a session advisory lock per executor gives a faster, exact liveness signal (the lock
drops when the process's connection dies); see `pg_is_dead`.

Run: venv/bin/python p3b_heartbeat.py [postgresql://...]   (default: a temp SQLite file)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import anyio
import sqlalchemy as sa

import lab
from dbos import DBOS, SetWorkflowID

HEARTBEAT_S = 0.5
TTL_S = 2.0
LEDGER: Path | None = None

SCHEMA = """
CREATE TABLE IF NOT EXISTS ao_executors (
    executor_id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, app_version TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL, heartbeat_at DOUBLE PRECISION NOT NULL, state TEXT NOT NULL,
    reaped_by TEXT, reaped_at DOUBLE PRECISION, recovered INTEGER
)"""


def now_sql(engine: sa.Engine) -> str:
    """The database's clock in epoch seconds: one clock for every machine."""
    if engine.dialect.name == "postgresql":
        return "extract(epoch from clock_timestamp())"
    return "((julianday('now') - 2440587.5) * 86400.0)"


class Executors:
    def __init__(self, engine: sa.Engine, executor_id: str) -> None:
        self.engine, self.me, self.now = engine, executor_id, now_sql(engine)
        with engine.begin() as c:
            c.execute(sa.text(SCHEMA))

    def register(self) -> None:
        with self.engine.begin() as c:
            c.execute(sa.text(
                f"INSERT INTO ao_executors (executor_id, host, pid, app_version, started_at, heartbeat_at, state) "
                f"VALUES (:id, :host, :pid, :ver, {self.now}, {self.now}, 'alive')"),
                {"id": self.me, "host": socket.gethostname(), "pid": os.getpid(), "ver": lab.APP_VERSION})

    def beat(self) -> bool:
        """False when this executor was declared dead (its runs are being run elsewhere)."""
        with self.engine.begin() as c:
            changed = c.execute(sa.text(
                f"UPDATE ao_executors SET heartbeat_at = {self.now} WHERE executor_id = :id AND state = 'alive'"),
                {"id": self.me}).rowcount
        return changed == 1

    def stale(self) -> list[str]:
        with self.engine.begin() as c:
            rows = c.execute(sa.text(
                f"SELECT executor_id FROM ao_executors WHERE state = 'alive' AND executor_id <> :me "
                f"AND heartbeat_at < {self.now} - :ttl AND app_version = :ver"),
                {"me": self.me, "ttl": TTL_S, "ver": lab.APP_VERSION}).fetchall()
        return [r[0] for r in rows]

    def claim(self, dead: str) -> bool:
        """One conditional UPDATE: exactly one live process gets rowcount 1 for a given dead executor."""
        with self.engine.begin() as c:
            return c.execute(sa.text(
                f"UPDATE ao_executors SET state = 'dead', reaped_by = :me, reaped_at = {self.now} "
                f"WHERE executor_id = :id AND state = 'alive' AND heartbeat_at < {self.now} - :ttl"),
                {"me": self.me, "id": dead, "ttl": TTL_S}).rowcount == 1

    def record_recovered(self, dead: str, n: int) -> None:
        with self.engine.begin() as c:
            c.execute(sa.text("UPDATE ao_executors SET recovered = :n WHERE executor_id = :id"), {"n": n, "id": dead})

    def leave(self) -> None:
        with self.engine.begin() as c:
            c.execute(sa.text("UPDATE ao_executors SET state = 'left' WHERE executor_id = :id"), {"id": self.me})


def pg_is_dead(engine: sa.Engine, executor_id: str) -> bool:
    """PostgreSQL: each live executor holds pg_advisory_lock(hashtext(id)) on one session for its
    lifetime; if we can take it, its session is gone. Unlock at once (or keep it while recovering)."""
    with engine.connect() as c:
        got = c.execute(sa.text("SELECT pg_try_advisory_lock(hashtext(:id))"), {"id": executor_id}).scalar()
        if got:
            c.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:id))"), {"id": executor_id})
        return bool(got)


def note(text: str) -> None:
    assert LEDGER is not None
    with LEDGER.open("a") as f:
        f.write(f"{text} {os.getpid()}\n")


@DBOS.step()
async def step(n: int, seconds: float) -> int:
    note(f"step{n}")
    await anyio.sleep(seconds)
    return n


@DBOS.workflow()
async def three(run: str) -> list[int]:
    return [await step(1, 0.05), await step(2, 0.05), await step(3, 8.0 if os.environ.get("SLOW3") else 0.05)]


def heartbeat_loop(execs: Executors, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        if not execs.beat():
            note(f"fenced:{execs.me}")
            os._exit(3)  # declared dead: our runs belong to someone else now
        for dead in execs.stale():
            if execs.claim(dead):
                handles = DBOS._recover_pending_workflows([dead])
                execs.record_recovered(dead, len(handles))
                note(f"claimed:{dead}:recovered={len(handles)}")


async def worker(db_url: str, role: str, run: str, seconds: float) -> None:
    me = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    lab.launch(lab.config(database_url=db_url, executor_id=me))
    queue = await DBOS.register_queue_async("runs", polling_interval_sec=0.05)
    execs = Executors(sa.create_engine(db_url), me)
    execs.register()
    stop = threading.Event()
    threading.Thread(target=heartbeat_loop, args=(execs, stop), daemon=True).start()
    note(f"up:{role}:{me}")
    if role == "starter":
        with SetWorkflowID(run):
            await DBOS.enqueue_workflow_async(queue.name, three, run)
    await anyio.sleep(seconds)
    stop.set()
    execs.leave()
    DBOS.destroy()


def main(db_url: str) -> None:
    global LEDGER
    tmp = Path(tempfile.mkdtemp(prefix="ao-p3b-"))
    LEDGER = tmp / "ledger.txt"
    run = f"run_{uuid.uuid4().hex[:8]}"

    def spawn(role: str, seconds: float, **env: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, __file__, "worker", db_url, str(LEDGER), role, run, str(seconds)],
                                env={**os.environ, **env})

    starter = spawn("starter", 30, SLOW3="1")
    deadline = time.time() + 20
    while "step3" not in (LEDGER.read_text() if LEDGER.exists() else ""):
        assert time.time() < deadline
        time.sleep(0.01)
    # Started once the run is PENDING on the starter (else a reaper could dequeue it first).
    reapers = [spawn("reaper", 12) for _ in range(3)]  # three live processes race to recover
    while LEDGER.read_text().count("up:reaper") < 3:
        assert time.time() < deadline
        time.sleep(0.01)
    os.kill(starter.pid, signal.SIGKILL)
    killed_at = time.time()
    starter.wait()
    for p in reapers:
        p.wait(timeout=60)
    lines = LEDGER.read_text().splitlines()
    steps = {}
    for line in lines:
        if line.startswith("step"):
            steps[line.split()[0]] = steps.get(line.split()[0], 0) + 1
    starter_id = next(l.split()[0].split(":", 2)[2] for l in lines if l.startswith("up:starter:"))
    claims = [l for l in lines if l.startswith(f"claimed:{starter_id}:")]
    engine = sa.create_engine(db_url)
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT executor_id, state, reaped_by, recovered FROM ao_executors ORDER BY started_at")).fetchall()
    print(f"database: {engine.dialect.name}")
    print(f"step executions: {steps}  (step 3 was in flight when the starter was killed)")
    print(f"claims of the killed starter {starter_id} (one expected): {claims}")
    lab.quiet_dbos()
    from dbos import DBOSClient

    client = DBOSClient(system_database_url=db_url, serializer=lab.RedactingJSONSerializer())
    status = client.retrieve_workflow(run).get_status()
    finished = (status.completed_at or 0) / 1000
    print(f"run {run}: {status.status} on executor {status.executor_id}; finished {finished - killed_at:.1f}s "
          f"after the kill (TTL {TTL_S}s, heartbeat {HEARTBEAT_S}s, step 3 takes 8 s when not killed)")
    client.destroy()
    for r in rows:
        print("  ao_executors:", tuple(r))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        _, _, url, ledger, role, run_id, secs = sys.argv
        LEDGER = Path(ledger)
        anyio.run(worker, url, role, run_id, float(secs))
    else:
        url = sys.argv[1] if len(sys.argv) > 1 else lab.sqlite_url(Path(tempfile.mkdtemp(prefix="ao-p3b-db-")))
        main(url)
