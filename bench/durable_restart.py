"""Time from an executor's restart to the resumed run, against a fresh run started the same way.

A real OpenAI-compatible server on 127.0.0.1 (`tests/fault_server.py`) is the leader's endpoint. The
plan has `--steps` independent steps and a last one depending on them all, which answers in 30 s
while a flag is set. Every run executes in a real background executor process, in one temp state
dir (after one untimed warm-up run: the engine's tables and queue exist, as in a state dir in use):

- fresh run (the baseline): `ao run leader-worker-basic --goal ... --detach`, nothing slow; timed
  from that command's start until it returned, the executor it spawned started, the run record
  showed `running`, the endpoint got the run's first request, and the record showed it finished;
- restart: the same run with the last step slow: once the other steps finished and the last one
  was asked, the executor is killed (`kill -9`), the record reads `interrupted`, the slow flag is
  cleared, and the run is taken up again by either
    `executor`: `ao executor` started by hand (DBOS recovers the dead executor's run at launch), or
    `resume`:   `ao runs resume ID` (requeues it and spawns a background executor);
  timed the same way from that process's start.
Only the step in flight at the kill should be asked again: the endpoint counts the calls per step.
Medians over `--repeat` runs of each kind, alternating; the ratio is restart-to-finished over the
fresh run's submit-to-finished. Every executor started is killed by pid once its run is measured.
Usage: python bench/durable_restart.py [--repeat 3] [--steps 2] [--via executor,resume]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from _common import ROOT

sys.path.insert(0, str(ROOT / "tests" / "workflows"))  # the fault server's workflow helpers

from fault_server import Action, FaultServer, structured_reply
from fault_workflow import output_fields
from processes import ao_command
from real_models import endpoint_settings
from scripted_agents import step_plan

from agent_orchestrator.store.process import pid_ended, start_ticks
from agent_orchestrator.store.runs import RunStore

FINISHED = ("succeeded", "partial", "failed", "refused", "cancelled")
SLOW_S = 30.0  # the held step's answer; the server wakes it early when it stops
# Executors are killed here once their run is measured. A short idle time would be cheaper, but an
# executor whose event loop is blocked longer than its idle time (a run's first imports take ~1 s)
# stops as idle with that run in flight, and the run ends `cancelled`.
IDLE_S = "30"
_CONFIG_PREFIXES = ("LEADER_MODEL_", "WORKER_MODEL_", "LITELLM_", "AO_", "MCP_SERVER_", "OLLAMA_")


class Leader:
    """Answers the plan, then each step (the last one slowly while `slow` is set), counting calls per step."""

    def __init__(self, steps: int) -> None:
        independent = [(f"s{i}", "summarization", []) for i in range(1, steps + 1)]
        self.last = f"s{steps + 1}"
        self.plan = step_plan(*independent, (self.last, "summarization", [s for s, _, _ in independent]))
        self.ids = [f"s{i}" for i in range(steps + 1, 0, -1)]  # longest first: "do s1" is in "do s10"
        self.calls: Counter[str] = Counter()
        self.asked: list[float] = []  # perf_counter of every request
        self.slow = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> Action:
        if "steps" in output_fields(request):
            step, args = "plan", self.plan
        else:
            text = json.dumps(request.get("messages", []))
            step = next(s for s in self.ids if f"do {s}" in text)
            args = {"summary": f"{step} done", "content": f"output of {step}"}
        with self._lock:
            self.calls[step] += 1
            self.asked.append(time.perf_counter())
        latency = SLOW_S if step == self.last and self.slow.is_set() else 0.0
        return replace(structured_reply(request, args), latency=latency)


@dataclass
class Sample:
    """Seconds from the timed process's start until: the command returned (`ao run --detach`, `ao runs
    resume`; None for `ao executor`), the executor that took the run up started (10 ms resolution), the
    record showed `running`, the endpoint got the run's first request, and the record showed it finished."""

    returned: float | None
    spawned: float
    running: float
    first_call: float  # the first model request after the start
    finished: float
    asked: dict[str, int]  # model calls per plan step made after the start


@dataclass
class Timeline:
    """When (perf_counter) the watched run was first seen `running` and first seen finished."""

    run_id: str | None = None
    running: float | None = None
    finished: float | None = None
    status: str = ""

    def sample(
        self, started: float, returned: float | None, spawned: float, leader: Leader, asked: Counter[str]
    ) -> Sample:
        assert self.finished is not None
        running = self.finished if self.running is None else self.running  # finished between two polls
        first_call = min(t for t in leader.asked if t >= started)
        return Sample(
            returned,
            spawned - started,
            running - started,
            first_call - started,
            self.finished - started,
            dict(asked),
        )


class Watcher:
    """Polls the run store every 10 ms (in a thread) for the newest run not in `known`, or for `run_id`."""

    def __init__(self, runs: RunStore, known: set[str], run_id: str | None = None) -> None:
        self.runs = runs
        self.known = known
        self.timeline = Timeline(run_id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def wait_finished(self, timeout: float, what: str) -> None:
        wait_for(lambda: self.timeline.finished, timeout, what)

    def _poll(self) -> None:
        line = self.timeline
        while not self._stop.is_set():
            if line.run_id is None:
                fresh = [run.run_id for run in self.runs.list(limit=5) if run.run_id not in self.known]
                line.run_id = fresh[0] if fresh else None
            if line.run_id is not None:
                status, now = self.runs.get(line.run_id).status, time.perf_counter()
                if status == "running" and line.running is None:
                    line.running = now
                if status in FINISHED:
                    line.status, line.finished = status, now
                    return
            time.sleep(0.01)


@dataclass
class Bench:
    root: Path
    steps: int
    pids: list[int] = field(default_factory=list[int])  # the executors started and not yet stopped

    def __post_init__(self) -> None:
        self.workspace = self.root / "workspace"  # the commands' working directory
        self.state = self.root / "state"  # outside the workspace, as `ao` requires
        self.workspace.mkdir()
        self.runs = RunStore(self.state, lambda text: text)

    def env(self, server: FaultServer) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIG_PREFIXES)}
        endpoint = {key.upper(): value for key, value in endpoint_settings(server).items()}
        return {
            **clean,
            **endpoint,
            "AO_STATE_DIR": str(self.state),
            "AO_ENV_FILE": "",
            "AO_EXECUTOR_IDLE_S": IDLE_S,
            "XDG_CONFIG_HOME": str(self.root / "xdg"),
            "PYDANTIC_AI_NO_BANNER": "1",
        }

    def known(self) -> set[str]:
        return {run.run_id for run in self.runs.list(limit=1000)} if self.runs.path.exists() else set()

    def ao(self, env: dict[str, str], *argv: str) -> dict[str, Any]:
        """`ao ARGV --json` (its JSON); the executor it names by pid is remembered, to be stopped."""
        done = subprocess.run(
            [*ao_command(), *argv, "--json"],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode not in (0, 1):
            output = (done.stdout + done.stderr)[-2000:]
            raise RuntimeError(f"ao {' '.join(argv)} exited {done.returncode}: {output}")
        ticket: dict[str, Any] = json.loads(done.stdout)
        found = re.search(r"pid (\d+)", str(ticket.get("executor", "")))
        if found:
            self.pids.append(int(found[1]))
        return ticket

    def submit(self, env: dict[str, str]) -> dict[str, Any]:
        before = len(self.pids)
        ticket = self.ao(env, "run", "leader-worker-basic", "--goal", "benchmark restart", "--detach")
        if ticket.get("status") != "queued" or len(self.pids) == before:
            raise RuntimeError(f"the run was not queued with a background executor of its own: {ticket}")
        return ticket

    def fresh(self) -> Sample:
        """A run with nothing slow, timed from `ao run --detach`'s start."""
        leader = Leader(self.steps)
        with FaultServer(default=leader) as server:
            env = self.env(server)
            known = self.known()
            started = time.perf_counter()
            with Watcher(self.runs, known) as watcher:
                self.submit(env)
                returned = time.perf_counter() - started
                spawned = executor_started(self.pids[-1])
                watcher.wait_finished(120, "the fresh run to finish")
            self.stop_executors()
        check(watcher.timeline, leader, {"plan": 1, **{f"s{i}": 1 for i in range(1, self.steps + 2)}})
        return watcher.timeline.sample(started, returned, spawned, leader, leader.calls)

    def restart(self, via: str) -> Sample:
        """A run whose executor is killed mid-run, taken up `via` "executor" or "resume", timed from the
        restarting process's start; its calls are those asked after the restart."""
        leader = Leader(self.steps)
        leader.slow.set()
        with FaultServer(default=leader) as server:
            env = self.env(server)
            ticket = self.submit(env)
            run_id, pid = ticket["run_id"], self.pids[-1]
            done = {f"RunStep s{i}" for i in range(1, self.steps + 1)}
            wait_for(lambda: done <= finished_nodes(self.runs, run_id), 60, "the independent steps to finish")
            wait_for(lambda: leader.calls[leader.last] == 1, 30, "the last step to be asked")
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: self.runs.get(run_id).status == "interrupted", 10, "the run to read interrupted")
            self.stop_executors()
            leader.slow.clear()
            before = Counter(leader.calls)
            returned: float | None = None
            started = time.perf_counter()
            with Watcher(self.runs, set(), run_id) as watcher:
                if via == "executor":
                    with open(self.state / "executor.log", "ab") as log:
                        process = subprocess.Popen(
                            [*ao_command(), "executor", "--idle", IDLE_S],
                            cwd=self.workspace,
                            env=env,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=log,
                        )
                    self.pids.append(process.pid)
                else:
                    resumed = self.ao(env, "runs", "resume", run_id)
                    returned = time.perf_counter() - started
                    if resumed.get("run_id") != run_id or not self.pids:
                        raise RuntimeError(f"resume gave another run, or started no executor: {resumed}")
                spawned = executor_started(self.pids[-1])
                try:
                    watcher.wait_finished(60, "the resumed run to finish")
                except TimeoutError:
                    record = self.runs.get(run_id)
                    log_tail = (self.state / "executor.log").read_text(errors="replace")[-3000:]
                    raise TimeoutError(
                        f"run {run_id} still {record.status} ({record.reason}) 60 s after the restart via {via}; "
                        f"calls {dict(leader.calls)}; executor log:\n{log_tail}"
                    ) from None
            self.stop_executors()
        expected = {"plan": 1, **{f"s{i}": 1 for i in range(1, self.steps + 1)}, leader.last: 2}
        check(watcher.timeline, leader, expected)
        return watcher.timeline.sample(started, returned, spawned, leader, leader.calls - before)

    def stop_executors(self) -> None:
        """Kill every executor started and not yet stopped (by pid), and wait until each is gone."""
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        for pid in self.pids:
            wait_for(lambda p=pid: pid_ended(p), 10, f"executor {pid} to end")
        self.pids.clear()


def executor_started(pid: int) -> float:
    """When process `pid` started, on the perf_counter clock (its start in /proc, in ticks since boot)."""
    ticks = start_ticks(pid)
    if ticks is None:
        raise RuntimeError(f"cannot read the start time of executor {pid}")
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return time.perf_counter() - (uptime - ticks / os.sysconf("SC_CLK_TCK"))


def check(line: Timeline, leader: Leader, expected: dict[str, int]) -> None:
    if line.status != "succeeded":
        raise RuntimeError(f"run {line.run_id} ended {line.status}")
    if dict(leader.calls) != expected:
        print(f"  note: run {line.run_id} asked {dict(leader.calls)}, expected {expected}")


def finished_nodes(runs: RunStore, run_id: str) -> set[str]:
    return {node.name for node in runs.get(run_id).nodes if node.status == "succeeded"}


def wait_for(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:5.0f} ms"


def line(label: str, samples: list[Sample], baseline: float | None = None) -> str:
    returned = [s.returned for s in samples if s.returned is not None]
    text = f"  {label:<25} returned {ms(returned) if returned else '    -   '}"
    text += f"  executor started {ms([s.spawned for s in samples])}"
    after = ms([s.running - s.spawned for s in samples])
    text += f"  running {ms([s.running for s in samples])} ({after} after it)"
    text += f"  first request {ms([s.first_call for s in samples])}  finished {ms([s.finished for s in samples])}"
    if baseline is not None:
        ratio = statistics.median(s.finished for s in samples) / baseline
        asked = sorted({", ".join(f"{k} x{v}" for k, v in sorted(s.asked.items())) for s in samples})
        text += f"  = {ratio:4.2f}x the fresh run; asked again: {' | '.join(asked)}"
    return text


def main(args: argparse.Namespace) -> None:
    vias = [via.strip() for via in args.via.split(",") if via.strip()]
    if not vias or not set(vias) <= {"executor", "resume"}:
        sys.exit("--via takes executor, resume or both")
    root = Path(tempfile.mkdtemp(prefix="ao-bench-restart-"))
    bench = Bench(root, args.steps)
    fresh: list[Sample] = []
    resumed: dict[str, list[Sample]] = {via: [] for via in vias}
    try:
        bench.fresh()  # warm-up: the engine's tables, its queue's registration, the run store
        for _ in range(args.repeat):  # the kinds alternate, so a machine busy for a while slows them alike
            fresh.append(bench.fresh())
            for via in vias:
                resumed[via].append(bench.restart(via))
    finally:
        bench.stop_executors()
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"leader-worker: {args.steps} independent steps, then 1 depending on them (in flight at the kill); "
        f"leader only, real socket; median of {args.repeat}; times from the start of the command timed"
    )
    print(line("fresh: ao run --detach", fresh))
    base = statistics.median(s.finished for s in fresh)
    for via, samples in resumed.items():
        print(line("restart: ao executor" if via == "executor" else "restart: ao runs resume", samples, base))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2, help="independent steps before the slow last one")
    parser.add_argument("--via", default="executor,resume", help="executor, resume, or both (comma-separated)")
    main(parser.parse_args())
