"""11. Embedded mode: who executes a detached run. One executor per state dir, held by a flock.

`submit` (what `ao run --detach` would do) never launches DBOS: it migrates the SQLite file if
needed (DBOS.migrate), enqueues through DBOSClient with our run id as the workflow id, then makes
sure an executor exists: if nobody holds <state>/executor.lock it spawns `executor` in its own
session. The executor takes the lock (exclusive flock: released by the kernel even on kill -9),
launches DBOS with the fixed executor_id "embedded" (so launch-time recovery picks up whatever a
dead predecessor left PENDING), runs the queue, and exits when idle: it releases the lock, then
re-checks for work, so a run enqueued during its exit is never stranded (the submitter either saw
the lock free and spawned, or the executor's re-check sees the run and takes the lock back).

Run: venv/bin/python p11_embedded_executor.py
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

import lab
from dbos import DBOS, DBOSClient, EnqueueOptions

QUEUE = "ao-runs"
IDLE_S = 1.5
ACTIVE = ["ENQUEUED", "PENDING"]


@DBOS.step()
async def work(run: str, i: int) -> int:
    with open(os.environ["LEDGER"], "a") as f:
        f.write(f"step {run} {i} {os.getpid()}\n")
    await anyio.sleep(0.4)
    return i


@DBOS.workflow(name="ao.demo")
async def demo(run: str) -> int:
    return sum([await work(run, i) for i in range(3)])


# --- the lock ----------------------------------------------------------------------------------------
def try_lock(state: Path) -> int | None:
    fd = os.open(state / "executor.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        os.close(fd)
        return None


def executor_alive(state: Path) -> bool:
    fd = try_lock(state)
    if fd is None:
        return True
    os.close(fd)  # closing releases the probe's lock
    return False


# --- executor ------------------------------------------------------------------------------------------
async def executor(state: Path, inherited_fd: int) -> None:
    fd: int | None = inherited_fd  # the submitter took the lock and handed it over (same open file)
    while True:
        lab.launch(lab.config(state_dir=state, executor_id="embedded"))  # recovers "embedded"'s PENDING runs
        await DBOS.register_queue_async(QUEUE, polling_interval_sec=0.05, worker_concurrency=4)
        log(f"executor up pid {os.getpid()}")
        idle_since = time.time()
        while time.time() - idle_since < IDLE_S:
            active = await DBOS.list_workflows_async(status=ACTIVE, load_input=False, load_output=False)
            if active:
                idle_since = time.time()
            await anyio.sleep(0.2)
        DBOS.destroy()
        os.close(fd)  # release, then look once more
        client = DBOSClient(system_database_url=lab.sqlite_url(state), serializer=lab.RedactingJSONSerializer())
        late = client.list_workflows(status=ACTIVE, load_input=False, load_output=False)
        client.destroy()
        if not late:
            log(f"executor idle, exiting pid {os.getpid()}")
            return
        fd = try_lock(state)
        if fd is None:
            return  # a submitter spawned a new executor, which will run it
        log(f"executor found late work, staying pid {os.getpid()}")


def log(text: str) -> None:
    with open(os.environ["LEDGER"], "a") as f:
        f.write(text + "\n")


# --- submitter (the CLI) -------------------------------------------------------------------------------
def submit(state: Path, run_id: str) -> bool:
    """Enqueue the run, make sure an executor exists; True when this call spawned one."""
    DBOS.migrate(lab.sqlite_url(state))  # creates/migrates the file without launching (idempotent)
    client = DBOSClient(system_database_url=lab.sqlite_url(state), serializer=lab.RedactingJSONSerializer(),
                        application_name=lab.APP_NAME)
    options: EnqueueOptions = {"workflow_name": "ao.demo", "queue_name": QUEUE, "workflow_id": run_id,
                               "app_version": lab.APP_VERSION}
    client.register_queue(QUEUE, polling_interval_sec=0.05, worker_concurrency=4, on_conflict="never_update")
    client.enqueue(options, run_id)
    client.destroy()
    return ensure_executor(state)


def ensure_executor(state: Path) -> bool:
    """Take the lock ourselves and hand it to a new executor process, so two submitters never both spawn."""
    fd = try_lock(state)
    if fd is None:
        return False
    subprocess.Popen([sys.executable, __file__, "executor", str(state), str(fd)], start_new_session=True,
                     pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=None)
    os.close(fd)  # the child's inherited descriptor keeps the lock
    return True


def statuses(state: Path, prefix: str) -> dict[str, str]:
    client = DBOSClient(system_database_url=lab.sqlite_url(state), serializer=lab.RedactingJSONSerializer())
    out = {w.workflow_id: w.status for w in client.list_workflows(workflow_id_prefix=prefix, load_input=False, load_output=False)}
    client.destroy()
    return out


def wait_all(state: Path, prefix: str, n: int, timeout: float = 30) -> float:
    t0 = time.time()
    while time.time() - t0 < timeout:
        s = statuses(state, prefix)
        if len(s) == n and all(v == "SUCCESS" for v in s.values()):
            return time.time() - t0
        time.sleep(0.05)
    raise TimeoutError(statuses(state, prefix))


def executor_pid(ledger: Path) -> int:
    ups = [l for l in ledger.read_text().splitlines() if l.startswith("executor up")]
    return int(ups[-1].split()[-1])


def main() -> None:
    state = Path(tempfile.mkdtemp(prefix="ao-p11-"))
    ledger = state / "ledger.txt"
    os.environ["LEDGER"] = str(ledger)
    lab.quiet_dbos()

    t0 = time.time()
    spawned = [submit(state, f"run_a{i}") for i in range(3)]
    print(f"3 detached submits: spawned an executor {spawned} (submit took {(time.time() - t0) * 1000 / 3:.0f} ms each)")
    print(f"all 3 done {wait_all(state, 'run_a', 3):.2f} s after the last submit")
    time.sleep(IDLE_S + 1.0)
    print(f"after {IDLE_S + 1:.1f} s idle: executor alive {executor_alive(state)}")

    print(f"submit after it exited: spawned {submit(state, 'run_b0')}; done in {wait_all(state, 'run_b0', 1):.2f} s")

    submit(state, "run_c0")
    while "step run_c0 1" not in ledger.read_text():
        time.sleep(0.01)
    os.kill(executor_pid(ledger), signal.SIGKILL)
    time.sleep(0.1)
    print(f"executor killed -9 during run_c0: lock free {not executor_alive(state)}; status {statuses(state, 'run_c0')}")
    print(f"`ao runs resume` = ensure_executor: spawned {ensure_executor(state)}; done in {wait_all(state, 'run_c0', 1):.2f} s")
    steps = [l for l in ledger.read_text().splitlines() if l.startswith("step run_c0")]
    print("run_c0 step executions:", [" ".join(l.split()[2:3]) for l in steps], "(step 1 was in flight)")
    print("executor log:", [l for l in ledger.read_text().splitlines() if l.startswith("executor")])
    time.sleep(IDLE_S + 1.0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "executor":
        lab.quiet_dbos()
        anyio.run(executor, Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
