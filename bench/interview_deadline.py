"""Interview wall time of a worker answering in `--latency` seconds per call, against the interview's deadline.

The worker is the fault server (tests/fault_server.py) on 127.0.0.1: the OpenAI-compatible model the
registry builds talks to it over a real socket, and it answers every case with its reference answer
after the latency. The interview runs with AO_INTERVIEW_TIMEOUT = --timeout (default: the setting's
default, 180 s) and the other settings at their defaults. Issue 11's figure: a 90 s-per-call worker;
goal: wall time <= the deadline (it ends `blocked`, too slow, instead of taking 19 x 90 s / 4).
Usage: python bench/interview_deadline.py [--latency 90] [--timeout 180] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import anyio
from _common import isolated_state
from fault_server import MAX_SLEEP, Action, FaultServer, Hang, Reply, Responder

from agent_orchestrator.config import Settings, load_settings
from agent_orchestrator.interview.suite import build_suite
from agent_orchestrator.providers import build_model
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.interview import interview_worker

SEED = 7


def after(seconds: float, action: Action) -> Action:
    """`action` after `seconds`: the fault server caps one sleep at `MAX_SLEEP`, so longer waits are chained."""
    while seconds > MAX_SLEEP:
        action = Hang(MAX_SLEEP, then=action)
        seconds -= MAX_SLEEP
    return Hang(seconds, then=action)


def reference_answers(latency: float) -> Responder:
    """Each interview case answered with its reference answer after `latency` seconds."""
    cases = {case.prompt: case for case in build_suite(SEED)}

    def respond(request: dict[str, Any]) -> Action:
        case = cases.get(request["messages"][-1]["content"])
        return after(latency, Reply(case.reference if case is not None else "?"))

    return respond


async def timed_interview(settings: Settings, base_url: str) -> tuple[float, Any]:
    built: list[Any] = []

    def factory(*args: Any) -> Any:
        built.append(build_model(*args))
        return built[-1]

    runtime = Runtime.create(settings, factory)
    started = time.perf_counter()
    try:
        result = await interview_worker(
            runtime, provider="openai-compatible", model="bench-worker", base_url=base_url, seed=SEED
        )
    finally:
        for model in built:
            client = getattr(model, "client", None)
            if client is not None:
                await client.close()
    return time.perf_counter() - started, result


async def main(latency: float, timeout: float | None, concurrency: int | None) -> None:
    isolated_state()
    overrides: dict[str, Any] = {}
    if timeout is not None:
        overrides["ao_interview_timeout"] = timeout
    if concurrency is not None:
        overrides["ao_interview_concurrency"] = concurrency
    settings = load_settings(**overrides)
    deadline, lanes = settings.ao_interview_timeout, settings.ao_interview_concurrency
    with FaultServer(default=reference_answers(latency)) as server:
        wall, result = await timed_interview(settings, server.base_url)
        calls = server.count
    cases = len(build_suite(SEED))
    unbounded = math.ceil(cases / lanes) * latency
    reliability = result.profile.reliability if result.profile is not None else None
    print(f"worker latency per call      {latency:.1f} s  ({cases} cases, concurrency {lanes})")
    print(f"without a deadline           {unbounded:.0f} s  (ceil({cases}/{lanes}) x {latency:g} s)")
    print(f"interview deadline           {deadline:g} s  (AO_INTERVIEW_TIMEOUT)")
    verdict = "met" if wall <= deadline else "MISSED"
    print(f"wall time                    {wall:.1f} s  (goal <= {deadline:g} s: {verdict})")
    print(f"requests at the server       {calls}")
    print(f"status                       {result.status}")
    if reliability is not None:
        p50 = "-" if reliability.latency_p50_ms is None else f"{reliability.latency_p50_ms / 1000:.1f} s"
        p95 = "-" if reliability.latency_p95_ms is None else f"{reliability.latency_p95_ms / 1000:.1f} s"
        print(f"answered / unanswered        {reliability.answered} / {reliability.unanswered_at_deadline}")
        print(f"latency p50 / p95            {p50} / {p95}")
    print(f"reason                       {(result.reasons or [result.unavailable_reason or ''])[0]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=90.0, help="seconds per worker call (default 90)")
    parser.add_argument("--timeout", type=float, default=None, help="AO_INTERVIEW_TIMEOUT (default: 180)")
    parser.add_argument("--concurrency", type=int, default=None, help="AO_INTERVIEW_CONCURRENCY (default: 4)")
    args = parser.parse_args()
    anyio.run(main, args.latency, args.timeout, args.concurrency)
