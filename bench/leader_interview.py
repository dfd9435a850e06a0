"""The leader interview: wall time with 200 ms scripted calls (vs the same calls one by one), and the
review dimension's recall and precision of the good and the placeholder scripted leaders.

Both leaders answer through the production call path (pydantic-ai FunctionModels behind
`call_agent`); the baseline is measured in the same run: the same suite at concurrency 1.
Usage: python bench/leader_interview.py [--latency 0.2] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import time

import anyio
from _common import isolated_state
from interview.scripted_leaders import SCRIPTED_LEADERS, SEED, LeaderAnswer, runtime_with, suite

from agent_orchestrator.config import load_settings
from agent_orchestrator.workflows.leader_interview import LeaderInterviewResult, interview_leader


async def timed(answer: LeaderAnswer, latency: float, concurrency: int) -> tuple[float, LeaderInterviewResult]:
    runtime = runtime_with(load_settings(ao_interview_concurrency=concurrency), answer, latency)
    started = time.perf_counter()
    result = await interview_leader(runtime, seed=SEED)
    return time.perf_counter() - started, result


async def main(latency: float, concurrency: int) -> None:
    isolated_state()
    good, placeholder = SCRIPTED_LEADERS["good"], SCRIPTED_LEADERS["placeholder"]
    await timed(good, 0.0, concurrency)  # warm-up: imports, the fixing projects' pytest logs
    sequential, _ = await timed(good, latency, 1)
    concurrent, result = await timed(good, latency, concurrency)
    _, spoiled = await timed(placeholder, 0.0, concurrency)
    calls = len(suite(SEED))
    print(f"cases (one leader call each)     {calls}")
    print(f"latency per call                 {latency * 1000:.0f} ms  (sum of calls {calls * latency:.2f} s)")
    print(f"one after another (c=1)          {sequential:.2f} s")
    print(
        f"concurrent (c={concurrency})                 {concurrent:.2f} s  ({sequential / concurrent:.2f}x faster)"
    )
    print(
        f"good leader                      {result.status}; review recall {result.review_recall:.2f}, "
        f"precision {result.review_precision:.2f}"
    )
    print(
        f"placeholder leader               {spoiled.status}; review recall {spoiled.review_recall:.2f}, "
        f"precision {spoiled.review_precision:.2f}; blocked roles "
        f"{', '.join(role for role, status in spoiled.roles.items() if status == 'blocked')}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4)
    options = parser.parse_args()
    anyio.run(main, options.latency, options.concurrency)
