"""Leader-worker wall time against its critical path, and orchestration overhead per node.

Scripted leader and workers answer every call after a fixed latency. The critical path (plan,
one step, its review: three calls one after another) is measured in the same run with a 1-step
plan; a plan of N independent steps should take at most 1.25x as long. The overhead per node is
the wall time of the N-step run with zero-latency models divided by the nodes it recorded.
Usage: python bench/leader_worker.py [--latency 0.1] [--steps 6] [--repeat 7] [--concurrency N]
       [--state-parent /dev/shm]   (the run store off the disk: its per-commit fsync out of the figures)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import anyio
from _common import ROOT, isolated_state

sys.path.insert(0, str(ROOT / "tests" / "workflows"))  # the scripted leader and workers

from scripted_agents import LOW_RISK, Script, make_profile, step_plan

from agent_orchestrator.config import load_settings
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.leader_worker.graph import leader_worker


async def timed_run(steps: int, latency: float, concurrency: int) -> tuple[float, int]:
    """Wall seconds of one leader-worker run of `steps` independent steps, and the nodes it recorded."""
    plan = step_plan(*((f"s{i}", "summarization", []) for i in range(1, steps + 1)))
    runtime = Runtime.create(load_settings(), Script([plan], latency_s=latency).factory())
    runtime.profiles.save(make_profile("active", "active", LOW_RISK))
    started = time.perf_counter()
    result = await leader_worker(runtime, "benchmark goal", concurrency=concurrency)
    elapsed = time.perf_counter() - started
    assert result.status == "succeeded", result.summary
    return elapsed, len(runtime.runs.get(result.run_id).nodes)


async def median_run(steps: int, latency: float, concurrency: int, repeat: int) -> tuple[float, int]:
    samples = [await timed_run(steps, latency, concurrency) for _ in range(repeat)]
    return statistics.median(s for s, _ in samples), samples[0][1]


async def main(latency: float, steps: int, repeat: int, concurrency: int, state_parent: str | None) -> None:
    isolated_state()
    if state_parent is not None:  # e.g. /dev/shm: the run store's fsyncs then cost ~nothing
        os.environ["AO_STATE_DIR"] = tempfile.mkdtemp(prefix="ao-bench-", dir=state_parent)
    await timed_run(steps, 0.0, concurrency)  # warm-up: imports, schema building, the SQLite file
    critical, _ = await median_run(1, latency, concurrency, repeat)
    parallel, _ = await median_run(steps, latency, concurrency, repeat)
    capped, _ = await median_run(steps, latency, 4, repeat)
    zero, nodes = await median_run(steps, 0.0, concurrency, repeat)
    sequential = 3 * latency * 1000
    print(f"latency per model call          {latency * 1000:.0f} ms (3 sequential calls = {sequential:.0f} ms)")
    print(f"critical path (1-step plan)     {critical * 1000:.0f} ms")
    print(f"{steps} independent steps (cap {concurrency})  {parallel * 1000:.0f} ms")
    print(f"ratio                           {parallel / critical:.2f}x  (target <= 1.25x)")
    print(f"{steps} independent steps (cap 4)   {capped * 1000:.0f} ms  ({capped / critical:.2f}x)")
    print(f"zero-latency run                {zero * 1000:.1f} ms over {nodes} nodes")
    print(f"orchestration overhead          {zero * 1000 / nodes:.2f} ms per node")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=None, help="model calls per role (default: --steps)")
    parser.add_argument("--state-parent", default=None, help="make the temp state dir here (e.g. /dev/shm)")
    args = parser.parse_args()
    anyio.run(main, args.latency, args.steps, args.repeat, args.concurrency or args.steps, args.state_parent)
