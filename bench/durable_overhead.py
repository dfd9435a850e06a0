"""Overhead of the durable path (DBOS, embedded SQLite) per recorded step, against the inline path.

Goal (the durable-runs issue): at most 5 ms per recorded step on SQLite. Measured two ways, each
against a baseline taken in the same run (medians of `--repeat`):

1. micro: a body of `--steps` `recorded_step` calls, each awaiting a trivial function that returns a
   CallRecord, run inline (no journal: `recorded_step` is `await fn()`) and inside a DBOS workflow
   registered here that records them with the engine's own `DbosJournal`, in an in-process executor
   (`durable.executor.running`). Reported: (durable - inline) / steps, and the same with a 0-step
   workflow's fixed cost taken out. Also with the step ids drawn up front (`reserve_step`) and the
   steps run concurrently, as leader-worker runs its plan steps.
2. realistic: `plan` and a leader-worker run of `--plan-steps` independent steps, scripted models
   answering at once (FunctionModel, `tests/workflows/scripted_agents.py`). The same job function the
   engine runs (`durable.jobs.JOBS[tool].run`) is called inline, and run by `DurableRuns.start` on an
   executor in this process. Reported: the workflow body's time (timed inside the engine, so the
   queue's polling is out of it) minus the inline time, per recorded step (counted from DBOS's step
   list), and the submit-to-finished time (`start` until the run record says it finished).
Usage: python bench/durable_overhead.py [--steps 200] [--repeat 7] [--plan-steps 6]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import anyio
from _common import ROOT, isolated_state

sys.path.insert(0, str(ROOT / "tests" / "workflows"))  # the scripted leader and workers

from pydantic import BaseModel
from pydantic_ai import models
from scripted_agents import LOW_RISK, Script, make_profile, step_plan

from agent_orchestrator.config import load_settings
from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.domain.steps import journal, recorded_step, reserve_step
from agent_orchestrator.runtime import Runtime

models.ALLOW_MODEL_REQUESTS = False  # as in the tests: only the scripted FunctionModels answer
FINISHED = ("succeeded", "partial", "failed", "refused", "cancelled")
GOAL = "benchmark goal"


def call_record() -> CallRecord:
    return CallRecord(
        role="leader",
        model_id="openai-compatible:scripted",
        started=time.time(),
        latency_ms=12,
        attempts=1,
        requests=1,
        input_tokens=800,
        output_tokens=200,
        cost_usd=0.0012,
        call_id="c" * 32,
    )


async def trivial() -> CallRecord:
    return call_record()


async def sequential_body(steps: int) -> int:
    for _ in range(steps):
        await recorded_step("call leader", trivial)
    return steps


async def concurrent_body(steps: int) -> int:
    slots = [reserve_step(f"step s{i}") for i in range(steps)]
    async with anyio.create_task_group() as group:
        for slot in slots:
            group.start_soon(slot.run, trivial)
    return steps


# --- micro: recorded_step in a DBOS workflow of our own ------------------------------------------------

_BODIES: dict[str, Callable[[int], Awaitable[int]]] = {
    "sequential": sequential_body,
    "concurrent": concurrent_body,
}
_CONTEXT: list[Any] = []  # the RunContext the journal reports replays to (none happen: every step runs)


def register_micro_workflow() -> Callable[[str, int], Awaitable[int]]:
    """`bench.steps(kind, n)`: `n` recorded steps journaled by the engine's DbosJournal (before launch)."""
    from dbos import DBOS

    from agent_orchestrator.durable.engine import DbosJournal

    @DBOS.workflow(name="bench.steps")
    async def steps_workflow(kind: str, steps: int) -> int:
        with journal(DbosJournal(_CONTEXT[0])):
            return await _BODIES[kind](steps)

    return steps_workflow


async def micro(runtime: Runtime, workflow: Callable[[str, int], Awaitable[int]], steps: int, repeat: int) -> None:
    """Inline bodies vs the same bodies in `bench.steps`, on the executor already running in this process."""
    from agent_orchestrator.workflows.recorder import RunContext

    _CONTEXT[:] = [RunContext(runtime, "bench-micro", "bench", expected_nodes=0)]

    async def timed(run: Callable[[], Awaitable[object]]) -> float:
        started = time.perf_counter()
        await run()
        return time.perf_counter() - started

    print(f"micro: {steps} recorded steps returning a CallRecord, median of {repeat}")
    await workflow("sequential", 3)  # warm-up: the engine's tables, pools, code paths
    await workflow("concurrent", 3)
    for kind in ("sequential", "concurrent"):
        body = _BODIES[kind]
        inline: list[float] = []
        empty: list[float] = []
        durable: list[float] = []
        for _ in range(repeat):  # alternately, so a machine busy for a while slows each alike
            inline.append(await timed(lambda b=body: b(steps)))
            empty.append(await timed(lambda k=kind: workflow(k, 0)))
            durable.append(await timed(lambda k=kind: workflow(k, steps)))
        inline_s, empty_s, durable_s = map(statistics.median, (inline, empty, durable))
        per_step = (durable_s - inline_s) * 1000 / steps
        marginal = (durable_s - empty_s - inline_s) * 1000 / steps
        label = "one after another" if kind == "sequential" else "reserved, concurrent"
        print(
            f"  {label:<21} inline {inline_s * 1000:8.1f} ms   durable {durable_s * 1000:8.1f} ms"
            f"   0-step workflow {empty_s * 1000:6.1f} ms"
        )
        print(
            f"  {'':<21} overhead {per_step:6.2f} ms/step (workflow start amortised), "
            f"{marginal:6.2f} ms/step (without it)   target <= 5 ms"
        )


# --- realistic: plan and leader-worker, inline vs DurableRuns ------------------------------------------

_BODY_SECONDS: dict[str, float] = {}
_STORE_WRITES = ("create", "start", "set_progress", "add_node", "add_artifact", "finish")


@dataclass
class StoreTimer:
    """Time spent in the run store's writes, by method: on the event loop (which they block), or in a
    worker thread (`(thread)`: those overlap and wait for each other, so their sum is not wall time)."""

    spent: dict[str, list[float]] = field(default_factory=dict[str, list[float]])

    def install(self) -> None:
        from agent_orchestrator.store.runs import RunStore

        for name in _STORE_WRITES:
            method = getattr(RunStore, name)

            def timed(*args: Any, __method: Any = method, __name: str = name, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return __method(*args, **kwargs)
                finally:
                    on_loop = threading.current_thread() is threading.main_thread()
                    key = __name if on_loop else f"{__name} (thread)"
                    self.spent.setdefault(key, []).append(time.perf_counter() - started)

            setattr(RunStore, name, timed)

    def take(self) -> dict[str, tuple[int, float]]:
        """(calls, seconds) per method since the last `take`."""
        taken = {name: (len(times), sum(times)) for name, times in self.spent.items()}
        self.spent.clear()
        return taken


def time_job_bodies() -> None:
    """Wrap each job's runner so the time of its workflow body inside the engine is kept per run id."""
    from agent_orchestrator.durable import jobs
    from agent_orchestrator.workflows.recorder import _ADOPTION  # pyright: ignore[reportPrivateUsage]

    for tool, job in list(jobs.JOBS.items()):

        async def timed(runtime: Runtime, arguments: Any, progress: Any, run: Any = job.run) -> BaseModel:
            adoption = _ADOPTION.get()
            started = time.perf_counter()
            result = await run(runtime, arguments, progress)
            if adoption is not None:
                _BODY_SECONDS[adoption.run_id] = time.perf_counter() - started
            return result

        jobs.JOBS[tool] = replace(job, run=timed)


async def wait_finished(runtime: Runtime, run_id: str) -> str:
    with anyio.fail_after(120):
        while (status := runtime.runs.get(run_id).status) not in FINISHED:
            await anyio.sleep(0.005)
    return status


@dataclass
class Sample:
    seconds: float  # inline: the call; durable: `start` until the record says finished
    calls: int  # model calls the scripted models answered
    store: dict[str, tuple[int, float]]
    body: float = 0.0  # durable: the workflow body inside the engine
    steps: list[str] = field(default_factory=list[str])  # durable: the names of its recorded steps


def store_line(samples: list[Sample]) -> str:
    """Median run-store write time per run on the event loop, and per method for the three costliest."""
    on_loop = statistics.median(
        sum(seconds for name, (_, seconds) in sample.store.items() if not name.endswith("(thread)"))
        for sample in samples
    )
    methods = {name for sample in samples for name in sample.store}
    spent = {
        name: statistics.median(sample.store.get(name, (0, 0.0))[1] for sample in samples) for name in methods
    }
    top = sorted(methods, key=lambda name: -spent[name])[:3]
    parts = [f"{name} {samples[0].store.get(name, (0, 0.0))[0]}x {spent[name] * 1000:.1f}" for name in top]
    return f"{on_loop * 1000:.1f} ms on the loop ({', '.join(parts)})"


def step_names(names: list[str]) -> str:
    counted = Counter(names)
    return ", ".join(f"{name} x{count}" if count > 1 else name for name, count in counted.items())


async def realistic(runtime: Runtime, script: Script, durable: Any, plan_steps: int, repeat: int) -> None:
    """The same job inline and through `DurableRuns.start` (this process executes), alternately."""
    from dbos import DBOS

    from agent_orchestrator.durable.jobs import JOBS

    timer = StoreTimer()
    timer.install()
    time_job_bodies()
    print(f"realistic: scripted models answering at once, inline and durable alternately, median of {repeat}")
    cases = [("plan", "plan"), ("run_leader_worker", f"leader-worker, {plan_steps} steps")]
    for tool, label in cases:
        job = JOBS[tool]

        async def inline_run(job: Any = job) -> Sample:
            calls, _ = len(script.calls), timer.take()
            started = time.perf_counter()
            await job.run(runtime, job.validate({"goal": GOAL}), None)
            return Sample(time.perf_counter() - started, len(script.calls) - calls, timer.take())

        async def durable_run(tool: str = tool) -> Sample:
            calls, _ = len(script.calls), timer.take()
            started = time.perf_counter()
            ticket = await durable.start(tool, {"goal": GOAL})
            status = await wait_finished(runtime, ticket.run_id)
            seconds = time.perf_counter() - started
            store = timer.take()
            assert status == "succeeded", runtime.runs.get(ticket.run_id).reason
            steps = await DBOS.list_workflow_steps_async(ticket.run_id)
            names = [step["function_name"] for step in steps]
            return Sample(seconds, len(script.calls) - calls, store, _BODY_SECONDS[ticket.run_id], names)

        await inline_run()  # warm-up
        await durable_run()
        inline: list[Sample] = []
        runs: list[Sample] = []
        for _ in range(repeat):
            inline.append(await inline_run())
            runs.append(await durable_run())
        inline_s = statistics.median(sample.seconds for sample in inline)
        body_s = statistics.median(sample.body for sample in runs)
        total_s = statistics.median(sample.seconds for sample in runs)
        steps = len(runs[0].steps)
        print(
            f"  {label:<22} inline {inline_s * 1000:7.1f} ms   durable body {body_s * 1000:7.1f} ms"
            f"   submit-to-finished {total_s * 1000:7.1f} ms"
        )
        print(
            f"  {'':<22} overhead {(body_s - inline_s) * 1000 / steps:6.2f} ms/step (body), "
            f"{(total_s - inline_s) * 1000 / steps:6.2f} ms/step (submit-to-finished)   target <= 5 ms"
        )
        print(
            f"  {'':<22} {steps} recorded steps: {step_names(runs[0].steps)}; "
            f"model calls {runs[0].calls} (inline {inline[0].calls})"
        )
        print(f"  {'':<22} run-store writes per run, inline:  {store_line(inline)}")
        print(f"  {'':<22} run-store writes per run, durable: {store_line(runs)}")


async def main(args: argparse.Namespace) -> None:
    from agent_orchestrator.durable.control import DurableRuns

    state = isolated_state()
    workspace = tempfile.mkdtemp(prefix="ao-bench-ws-")
    os.environ["AO_WORKSPACE_ROOT"] = workspace
    try:
        plan = step_plan(*((f"s{i}", "summarization", []) for i in range(1, args.plan_steps + 1)))
        script = Script([plan])
        runtime = Runtime.create(load_settings(), script.factory())
        runtime.profiles.save(make_profile("active", "active", LOW_RISK))
        workflow = register_micro_workflow()  # before the engine launches
        durable = DurableRuns(runtime, may_execute=True)
        async with durable.serving():
            where = await durable.ensure_executor()  # launches the engine here
            assert where == "this server", where
            print(
                "engine: embedded SQLite (WAL, synchronous=NORMAL) in a temp state dir, executor in this process"
            )
            await micro(runtime, workflow, args.steps, args.repeat)
            await realistic(runtime, script, durable, args.plan_steps, args.repeat)
    finally:
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200, help="recorded steps in the micro body")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--plan-steps", type=int, default=6, help="independent steps in the leader-worker plan")
    os.environ.setdefault("PYDANTIC_AI_NO_BANNER", "1")
    anyio.run(main, parser.parse_args())
