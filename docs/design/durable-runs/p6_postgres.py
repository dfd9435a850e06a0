"""6. PostgreSQL: several executor processes sharing one queue.

  a. advisory-lock liveness: how fast a SIGKILLed executor's session lock is released;
  b. throughput: runs/minute with 1 and 2 executor processes (each run = 3 steps of a 100 ms
     scripted model call; worker_concurrency per process caps what one process runs at once);
  c. two executors drain 20 runs, one is killed mid-way; the heartbeat reaper hands its runs over
     and every run finishes exactly once.

Run: ./pg.sh start; venv/bin/python p6_postgres.py "$(./pg.sh url)"; ./pg.sh stop
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import anyio
import sqlalchemy as sa

import lab
from dbos import DBOS, DBOSClient, EnqueueOptions
from p3b_heartbeat import Executors

LEDGER = Path(os.environ.get("LEDGER", "/dev/null"))
QUEUE = "bench"


def _log(text: str) -> None:
    with LEDGER.open("a") as f:
        f.write(text + "\n")


@DBOS.step()
async def model_call(run: str, n: int) -> int:
    if n == 0:
        _log(f"begin {run} {os.getpid()}")
    await anyio.sleep(0.1)  # a 100 ms scripted model
    return n


@DBOS.step()
async def finish(run: str) -> str:
    _log(f"finish {run} {os.getpid()}")
    return run


@DBOS.workflow(name="bench.run")
async def bench_run(run: str) -> str:
    for n in range(3):
        await model_call(run, n)
    return await finish(run)


# --- worker process -------------------------------------------------------------------------------
async def worker(url: str, seconds: float, concurrency: int) -> None:
    me = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    lab.launch(lab.config(database_url=url, executor_id=me))
    await DBOS.register_queue_async(QUEUE, worker_concurrency=concurrency, polling_interval_sec=0.05,
                                    on_conflict="always_update")
    execs = Executors(sa.create_engine(url), me)
    execs.register()
    stop = threading.Event()

    def beat() -> None:
        import p3b_heartbeat as hb

        while not stop.wait(hb.HEARTBEAT_S):
            execs.beat()
            for dead in execs.stale():
                if execs.claim(dead):
                    n = len(DBOS._recover_pending_workflows([dead]))
                    _log(f"claimed {dead} {n} {me}")

    threading.Thread(target=beat, daemon=True).start()
    _log(f"up {me}")
    with anyio.move_on_after(seconds):
        with anyio.open_signal_receiver(signal.SIGTERM) as signals:
            async for _ in signals:
                break
    stop.set()
    execs.leave()
    DBOS.destroy()


def spawn(url: str, ledger: Path, seconds: float, concurrency: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "worker", url, str(seconds), str(concurrency)],
                            env={**os.environ, "LEDGER": str(ledger)})


def wait_up(ledger: Path, n: int) -> None:
    deadline = time.time() + 30
    while (ledger.read_text().count("up ") if ledger.exists() else 0) < n:
        assert time.time() < deadline
        time.sleep(0.02)
    time.sleep(1.2)  # queue manager discovers the queue within a second


def enqueue(client: DBOSClient, prefix: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        options: EnqueueOptions = {"workflow_name": "bench.run", "queue_name": QUEUE, "workflow_id": f"{prefix}-{i:03d}",
                                   "app_version": lab.APP_VERSION}
        client.enqueue(options, f"{prefix}-{i:03d}")
        ids.append(f"{prefix}-{i:03d}")
    return ids


def wait_done(client: DBOSClient, prefix: str, n: int, timeout: float = 120) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = client.list_workflows(workflow_id_prefix=prefix, status="SUCCESS", load_input=False, load_output=False)
        if len(done) >= n:
            return time.time()
        time.sleep(0.05)
    raise TimeoutError(prefix)


# --- a. advisory locks ---------------------------------------------------------------------------------
def advisory_lock_liveness(url: str) -> None:
    from p3b_heartbeat import pg_is_dead

    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlalchemy as sa, time, sys\n"
        f"c = sa.create_engine({url!r}).connect()\n"
        "c.execute(sa.text(\"SELECT pg_advisory_lock(hashtext('exec-x'))\"))\n"
        "print('held', flush=True)\ntime.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    engine = sa.create_engine(url)
    print(f"  live holder: pg_is_dead -> {pg_is_dead(engine, 'exec-x')}")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    t0 = time.time()
    while not pg_is_dead(engine, "exec-x"):
        time.sleep(0.005)
    print(f"  holder killed -9: lock free after {(time.time() - t0) * 1000:.0f} ms")


# --- b. throughput --------------------------------------------------------------------------------------
def throughput(url: str, tmp: Path, processes: int, runs: int, concurrency: int) -> float:
    ledger = tmp / f"tp{processes}.txt"
    workers = [spawn(url, ledger, 60, concurrency) for _ in range(processes)]
    wait_up(ledger, processes)
    client = DBOSClient(system_database_url=url, serializer=lab.RedactingJSONSerializer(), application_name=lab.APP_NAME)
    prefix = f"tp{processes}-{uuid.uuid4().hex[:4]}"
    t0 = time.time()
    enqueue(client, prefix, runs)
    t1 = wait_done(client, prefix, runs)
    per_exec: dict[str, int] = {}
    for w in client.list_workflows(workflow_id_prefix=prefix, load_input=False, load_output=False):
        per_exec[w.executor_id or "?"] = per_exec.get(w.executor_id or "?", 0) + 1
    client.destroy()
    for w in workers:
        w.send_signal(signal.SIGTERM)
        w.wait()
    rpm = runs / (t1 - t0) * 60
    print(f"  {processes} executor(s), worker_concurrency={concurrency}: {runs} runs in {t1 - t0:.2f} s -> "
          f"{rpm:.0f} runs/min; per executor {sorted(per_exec.values())}")
    return rpm


# --- c. drain with a kill --------------------------------------------------------------------------------
def drain_with_kill(url: str, tmp: Path) -> None:
    ledger = tmp / "drain.txt"
    a = spawn(url, ledger, 60, 2)
    b = spawn(url, ledger, 60, 2)
    wait_up(ledger, 2)
    client = DBOSClient(system_database_url=url, serializer=lab.RedactingJSONSerializer(), application_name=lab.APP_NAME)
    prefix = f"drain-{uuid.uuid4().hex[:4]}"
    enqueue(client, prefix, 20)
    def a_has_run_in_flight() -> bool:
        lines = ledger.read_text().splitlines()
        begun = {l.split()[1] for l in lines if l.startswith("begin ") and l.split()[2] == str(a.pid)}
        done = {l.split()[1] for l in lines if l.startswith("finish ")}
        return len(done) >= 6 and bool(begun - done)

    while not a_has_run_in_flight():
        time.sleep(0.005)
    os.kill(a.pid, signal.SIGKILL)
    a.wait()
    killed = time.time()
    t1 = wait_done(client, prefix, 20)
    statuses = client.list_workflows(workflow_id_prefix=prefix, load_input=False, load_output=False)
    finishes: dict[str, int] = {}
    for line in ledger.read_text().splitlines():
        if line.startswith("finish "):
            finishes[line.split()[1]] = finishes.get(line.split()[1], 0) + 1
    claims = [l for l in ledger.read_text().splitlines() if l.startswith("claimed")]
    client.destroy()
    b.send_signal(signal.SIGTERM)
    b.wait()
    print(f"  20 runs, executor A killed -9 with a run in flight after 6 finished; all done {t1 - killed:.1f} s after the kill")
    print(f"  statuses: {sorted({s.status for s in statuses})}; runs whose last step ran twice: "
          f"{ {k: v for k, v in finishes.items() if v > 1} or 'none'}; runs never finished: {20 - len(finishes)}")
    print(f"  claims: {claims}")


def main(url: str) -> None:
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"ao-p6-{uuid.uuid4().hex[:6]}"
    tmp.mkdir()
    print("a. advisory-lock liveness")
    advisory_lock_liveness(url)
    print("b. throughput (3 x 100 ms steps per run)")
    runs = int(os.environ.get("RUNS", "120"))
    one = throughput(url, tmp, 1, runs, 4)
    two = throughput(url, tmp, 2, runs, 4)
    print(f"  speed-up: {two / one:.2f}x")
    print("c. two executors, one killed")
    drain_with_kill(url, tmp)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        anyio.run(worker, sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    else:
        main(sys.argv[1])
