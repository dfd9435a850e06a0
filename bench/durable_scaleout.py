"""Durable runs per minute with 1 and with 2 executor processes sharing one PostgreSQL queue.

Goal (the scale-out issue): 2 executors >= 1.8x the runs per minute of one, with 100 ms models.

A throwaway PostgreSQL 15 cluster of its own (tests/postgres.py's helpers: a temp dir, trust
authentication, fsync off; run as the `postgres` user via runuser when root), removed at the end;
skipped, saying why, without the binaries. The leader's endpoint is the fault server
(tests/fault_server.py, a real socket on 127.0.0.1): it answers the plan, a chain of `--steps`
steps (s2 depends on s1, ...), and each step, every answer after `--latency` (0.1 s), so a run
makes 1 + steps sequential model calls. For each of 1 and 2 executors:

- a fresh database; that many real `ao executor` processes, each with its own hidden state dir
  (`.state-a`, `.state-b`) in one workspace, AO_EXECUTOR_CONCURRENCY=`--concurrency`; waited for
  until each is registered (`durable.liveness.live_executors`);
- an untimed warm-up (each executor's first run pays its workflow imports): batches of
  executors x concurrency runs until every executor has finished one;
- `--runs` leader-worker runs submitted from this process (`DurableRuns(runtime, may_execute=False)
  .start("run_leader_worker", ...)`, one after the other), timed from the first submit until the
  last run's record says it finished (its `finished` stamp; completion polled from the run store).

Printed: runs/min for each (medians of `--repeat`, 1 and 2 alternating), the ratio 2 vs 1, the
calls per run, how long the submits took, which executor (pid) finished how many runs, how busy the
machine's CPUs were while timed and the CPU ms per run of the executors, PostgreSQL, this process
(submits, fault server, polling) and other processes (/proc); and the CPU ceiling: the runs/min the
CPUs could give at 2 executors' CPU cost per run, were they doing nothing else (on 2 cores it caps
the ratio near 2x, so a busy machine shows a lower ratio). Every process started is killed by pid;
temp dirs are removed.
Usage: python bench/durable_scaleout.py [--runs 120] [--concurrency 4] [--steps 3] [--latency 0.1] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
from _common import ROOT

sys.path.insert(0, str(ROOT / "tests" / "workflows"))  # the fault server's workflow helpers

from fault_server import Action, FaultServer, structured_reply
from fault_workflow import output_fields
from postgres import BIN_DIRS, START_TIMEOUT_S, _as_server_user, _binary, _free_port, _run, fresh_database
from processes import ao_command
from real_models import endpoint_settings
from scripted_agents import step_plan

from agent_orchestrator.config import load_settings
from agent_orchestrator.durable.control import DurableRuns
from agent_orchestrator.durable.liveness import live_executors
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.postgres import close_connections

FINISHED = ("succeeded", "partial", "failed", "refused", "cancelled")
_CONFIG_PREFIXES = ("LEADER_MODEL_", "WORKER_MODEL_", "LITELLM_", "AO_", "MCP_SERVER_", "OLLAMA_")
RUN_TIMEOUT_S = 150.0
CPU_OWNERS = ("executors", "postgres", "bench", "other processes")  # who used the CPU while timed


class Skip(Exception):
    """PostgreSQL cannot run here: the message says why."""


class Leader:
    """Answers the plan (a chain of steps), then each step, every answer after `latency` seconds.

    Kept cheap (two cores serve the executors, PostgreSQL and this): no parsing beyond the output tool."""

    def __init__(self, steps: int, latency: float) -> None:
        ids = [f"s{i}" for i in range(1, steps + 1)]
        self.plan = step_plan(*((s, "summarization", ids[i - 1 : i]) for i, s in enumerate(ids)))
        self.step = {"summary": "done", "content": "the step's output"}
        self.latency = latency

    def __call__(self, request: dict[str, Any]) -> Action:
        args = self.plan if "steps" in output_fields(request) else self.step
        return replace(structured_reply(request, args), latency=self.latency)


@contextmanager
def postgres_cluster() -> Iterator[tuple[str, Path]]:
    """A throwaway PostgreSQL cluster (as tests/postgres.py's `postgres_url`): the URL of its `postgres`
    database, and its data dir."""
    binaries = {name: _binary(name) for name in ("initdb", "pg_ctl")}
    missing = sorted(name for name, path in binaries.items() if path is None)
    if missing:
        raise Skip(f"PostgreSQL 15 is not installed: no {', '.join(missing)} in {BIN_DIRS[0]} or on PATH")
    prefix, problem = _as_server_user()
    if problem is not None:
        raise Skip(problem)
    root = Path(tempfile.mkdtemp(prefix="ao-bench-postgres-"))
    data = root / "data"
    pg_ctl = [*prefix, str(binaries["pg_ctl"]), "-D", str(data)]
    started = False
    try:
        if prefix:
            shutil.chown(root, "postgres", "postgres")
        initdb = [*prefix, str(binaries["initdb"]), "-D", str(data)]
        _run([*initdb, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], "initdb")
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=200 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run([*pg_ctl, "-l", str(root / "server.log"), "-o", options, "-w", "-t", "30", "start"], "pg_ctl start")
        started = True
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", data
    finally:
        if started:
            subprocess.run(
                [*pg_ctl, "-m", "fast", "-w", "-t", "30", "stop"],
                capture_output=True,
                timeout=START_TIMEOUT_S,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def process_cpu(pid: int, children: bool = True) -> float:
    """CPU seconds of process `pid` (with its reaped children's, if `children`); 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name: fields 3.. of proc(5)
    ticks = sum(int(value) for value in fields[11 : 15 if children else 13])  # utime stime [cutime cstime]
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu(data: Path) -> float:
    """CPU seconds of the PostgreSQL server: the postmaster, its reaped backends, and its live children."""
    try:
        postmaster = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return 0.0
    total = process_cpu(postmaster)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                total += process_cpu(int(entry.name), children=False)
    return total


def own_cpu() -> float:
    """CPU seconds of this process (the submitter, the fault server's threads, the polling)."""
    times = os.times()
    return times.user + times.system


@dataclass
class CpuClock:
    """CPU seconds used so far by: the executors, the PostgreSQL server, this process; and the machine's
    busy and total jiffies."""

    executors: float
    server: float
    own: float
    busy: int
    total: int

    @classmethod
    def read(cls, pids: set[int], data: Path) -> CpuClock:
        busy, total = cpu_ticks()
        return cls(sum(process_cpu(pid) for pid in pids), server_cpu(data), own_cpu(), busy, total)


@dataclass
class Sample:
    executors: int
    runs: int
    seconds: float  # first submit to the last run's `finished` stamp
    submit_seconds: float  # first submit to the last submit's return
    calls: int  # model calls made by the timed runs
    by_pid: dict[int, int]  # runs finished per executor pid
    cpu_busy: float  # share of all CPUs busy while timed (0..1)
    cpu_per_run: dict[str, float]  # CPU seconds per run, by owner (CPU_OWNERS)
    statuses: Counter[str] = field(default_factory=Counter[str])


@dataclass
class Bench:
    cluster: str  # the cluster's admin URL
    data: Path  # the cluster's data dir
    root: Path
    server: FaultServer
    args: argparse.Namespace
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list[subprocess.Popen[bytes]])

    def __post_init__(self) -> None:
        self.workspace = self.root / "workspace"
        self.workspace.mkdir()

    def environment(self, url: str) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIG_PREFIXES)}
        endpoint = {key.upper(): value for key, value in endpoint_settings(self.server).items()}
        return {
            **clean,
            **endpoint,
            "AO_DATABASE_URL": url,
            "AO_WORKSPACE_ROOT": str(self.workspace),
            "AO_STATE_DIR": str(self.workspace / ".state-submit"),
            "AO_ENV_FILE": "",
            "AO_EXECUTOR_CONCURRENCY": str(self.args.concurrency),
            "XDG_CONFIG_HOME": str(self.root / "xdg"),
            "PYDANTIC_AI_NO_BANNER": "1",
        }

    def start_executor(self, env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        with open(self.root / f"executor-{name}.log", "ab") as log:
            process = subprocess.Popen(
                [*ao_command(), "executor"],
                cwd=self.workspace,
                env={**env, "AO_STATE_DIR": str(self.workspace / f".state-{name}")},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.processes.append(process)
        return process

    def stop_executors(self) -> None:
        """Kill every executor started and not yet stopped (by pid), and reap each."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        for process in self.processes:
            process.wait(timeout=10)
        self.processes.clear()

    def check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                logs = "\n".join(
                    f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
                    for log in sorted(self.root.glob("executor-*.log"))
                )
                raise RuntimeError(f"executor {process.pid} exited {process.returncode}:\n{logs}")

    async def measure(self, executors: int) -> Sample:
        url = fresh_database(self.cluster)
        env = self.environment(url)
        os.environ.clear()
        os.environ.update(env)  # this process's runtime: the same database and workspace
        for log in self.root.glob("executor-*.log"):
            log.unlink()
        runtime = Runtime.create(load_settings())
        names = "abcdefgh"[:executors]
        pids = {self.start_executor(env, name).pid for name in names}
        try:
            with anyio.fail_after(60):
                while await anyio.to_thread.run_sync(live_executors, url) < executors:
                    self.check_alive()
                    await anyio.sleep(0.1)
            durable = DurableRuns(runtime, may_execute=False)
            async with durable.serving():  # closes its engine client at the end
                warmed: set[int] = set()
                slots = executors * self.args.concurrency
                for _ in range(5):  # each executor's first run pays its imports: untimed
                    batch = [await self.submit(durable, "warm-up") for _ in range(slots)]
                    await self.wait_finished(runtime, set(batch))
                    finished = runtime.runs.list(limit=len(batch) + 5)
                    warmed |= {run.pid for run in finished if run.run_id in batch and run.pid is not None}
                    if pids <= warmed:
                        break
                calls_before = self.server.count
                cpu_before = CpuClock.read(pids, self.data)
                started_wall, started = time.time(), time.perf_counter()
                run_ids = [await self.submit(durable, f"goal {n}") for n in range(self.args.runs)]
                submit_seconds = time.perf_counter() - started
                await self.wait_finished(runtime, set(run_ids))
                cpu_after = CpuClock.read(pids, self.data)
                calls = self.server.count - calls_before
        finally:
            self.stop_executors()
        records = [run for run in runtime.runs.list(limit=self.args.runs + 100) if run.run_id in set(run_ids)]
        close_connections()  # this process's connection to the phase's database
        statuses = Counter(str(run.status) for run in records)
        if statuses["succeeded"] != self.args.runs:
            reasons = Counter(run.reason[:160] for run in records if run.status != "succeeded")
            print(f"  note: {executors} executor(s): {dict(statuses)}; {dict(reasons.most_common(3))}")
        last = max(run.finished_at.timestamp() for run in records if run.finished_at is not None)
        busy = (cpu_after.busy - cpu_before.busy) / max(1, cpu_after.total - cpu_before.total)
        per_run = {
            "executors": (cpu_after.executors - cpu_before.executors) / len(run_ids),
            "postgres": (cpu_after.server - cpu_before.server) / len(run_ids),
            "bench": (cpu_after.own - cpu_before.own) / len(run_ids),
        }
        machine = (cpu_after.busy - cpu_before.busy) / os.sysconf("SC_CLK_TCK") / len(run_ids)
        per_run["other processes"] = max(0.0, machine - sum(per_run.values()))
        return Sample(
            executors,
            len(run_ids),
            last - started_wall,
            submit_seconds,
            calls,
            dict(Counter(run.pid for run in records if run.pid is not None)),
            busy,
            per_run,
            statuses,
        )

    async def submit(self, durable: DurableRuns, goal: str) -> str:
        ticket = await durable.start("run_leader_worker", {"goal": goal})
        return ticket.run_id

    async def wait_finished(self, runtime: Runtime, run_ids: set[str]) -> None:
        """Until none of `run_ids` is queued or running (one query a poll)."""
        with anyio.fail_after(RUN_TIMEOUT_S):
            while True:
                unfinished = await anyio.to_thread.run_sync(runtime.runs.list_unfinished, "dbos")
                if not any(run.run_id in run_ids for run in unfinished):
                    return
                self.check_alive()
                await anyio.sleep(0.1)  # the time is read from the records: polling only says when


def median(samples: list[Sample], value: Callable[[Sample], float]) -> float:
    return statistics.median(value(sample) for sample in samples)


def report(label: str, samples: list[Sample]) -> str:
    seconds = median(samples, lambda s: s.seconds)
    submit = median(samples, lambda s: s.submit_seconds)
    calls = median(samples, lambda s: s.calls / s.runs)
    split = " | ".join(", ".join(f"{pid}: {n}" for pid, n in sorted(s.by_pid.items())) for s in samples)
    cpu = ", ".join(
        f"{who} {statistics.median(s.cpu_per_run[who] for s in samples) * 1000:.0f}" for who in CPU_OWNERS
    )
    return (
        f"  {label:<12} {samples[0].runs} runs in {seconds:5.1f} s = {median(samples, per_minute):4.0f} runs/min; "
        f"submits took {submit:.1f} s; {calls:.1f} model calls/run; runs by executor pid: {split}\n"
        f"  {'':<12} CPUs {median(samples, lambda s: s.cpu_busy):.0%} busy; CPU ms per run: {cpu}"
    )


def per_minute(sample: Sample) -> float:
    return sample.runs / sample.seconds * 60


def ours(sample: Sample) -> float:
    """CPU seconds per run of the executors, PostgreSQL and this process."""
    return sum(sample.cpu_per_run[who] for who in CPU_OWNERS[:-1])


async def run(args: argparse.Namespace) -> None:
    samples: dict[int, list[Sample]] = {1: [], 2: []}
    root = Path(tempfile.mkdtemp(prefix="ao-bench-scaleout-"))
    environ = dict(os.environ)
    bench: Bench | None = None
    try:
        leader = Leader(args.steps, args.latency)
        with postgres_cluster() as (cluster, data), FaultServer(default=leader) as server:
            bench = Bench(cluster, data, root, server, args)
            for _ in range(args.repeat):  # alternate, so a machine busy for a while slows both alike
                for executors in (1, 2):
                    samples[executors].append(await bench.measure(executors))
    finally:
        if bench is not None:
            bench.stop_executors()
        os.environ.clear()
        os.environ.update(environ)
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"durable scale-out on PostgreSQL: leader-worker runs of {args.steps} chained steps, leader only "
        f"({args.latency * 1000:.0f} ms per call, real socket); AO_EXECUTOR_CONCURRENCY={args.concurrency}; "
        f"{os.cpu_count()} CPUs; median of {args.repeat}; timed from the first submit to the last run finished"
    )
    print(report("1 executor", samples[1]))
    print(report("2 executors", samples[2]))
    one, two = median(samples[1], per_minute), median(samples[2], per_minute)
    print(f"  speed-up 2 vs 1: {two / one:.2f}x (goal: >= 1.8x)")
    cpus = os.cpu_count() or 1
    cost = median(samples[2], ours)
    ceiling = cpus * 60 / cost
    print(
        f"  CPU ceiling with 2 executors: {cpus} CPUs / {cost * 1000:.0f} CPU ms per run (executors, postgres, "
        f"bench) = {ceiling:.0f} runs/min = {ceiling / one:.2f}x one executor, were the CPUs doing nothing else"
    )
    others = max(s.cpu_per_run["other processes"] * s.runs / (s.seconds * cpus) for s in samples[1] + samples[2])
    if others > 0.1:
        print(
            f"  note: other processes took up to {others:.0%} of the CPUs while timed: compare on a quiet machine"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=120, help="timed runs per measurement")
    parser.add_argument("--concurrency", type=int, default=4, help="AO_EXECUTOR_CONCURRENCY of each executor")
    parser.add_argument("--steps", type=int, default=3, help="chained plan steps (a run makes 1 + steps calls)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each model answer")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    try:
        anyio.run(run, args)
    except Skip as skipped:
        print(f"durable scale-out: skipped: {skipped}")


if __name__ == "__main__":
    main()
