"""Interview wall time with a 200 ms-per-call scripted worker, against the same calls run one by one.

The baseline is measured in the same run: the same suite, the same worker, concurrency 1.
Usage: python bench/interview_concurrency.py [--latency 0.2] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import time

import anyio
from _common import isolated_state
from scripted import SEED, scripted_factory

from agent_orchestrator.config import load_settings
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.interview import interview_worker


async def timed_interview(latency: float, concurrency: int) -> tuple[float, int]:
    settings = load_settings(ao_interview_concurrency=concurrency)
    runtime = Runtime.create(settings, scripted_factory(SEED, latency_s=latency))
    started = time.perf_counter()
    result = await interview_worker(
        runtime, provider="openai-compatible", model="ideal", base_url="http://scripted.bench/v1", seed=SEED
    )
    assert result.profile is not None and result.status == "active", result.status
    return time.perf_counter() - started, result.profile.reliability.cases


async def main(latency: float, concurrency: int) -> None:
    isolated_state()
    await timed_interview(0.0, concurrency)  # warm-up: imports, the TypeScript compiler cache
    sequential, calls = await timed_interview(latency, 1)
    concurrent, _ = await timed_interview(latency, concurrency)
    print(f"calls per interview          {calls}")
    print(f"latency per call             {latency * 1000:.0f} ms  (sum of calls {calls * latency:.2f} s)")
    print(f"one after another (c=1)      {sequential:.2f} s")
    print(f"concurrent (c={concurrency})             {concurrent:.2f} s")
    print(f"speed-up                     {sequential / concurrent:.2f}x  (ideal {min(concurrency, calls)}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    anyio.run(main, args.latency, args.concurrency)
