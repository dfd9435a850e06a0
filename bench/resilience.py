"""Leader-worker runs against a flaky endpoint: success rate and wall time against a clean endpoint.

A real OpenAI-compatible server on 127.0.0.1 (`tests/fault_server.py`) answers every request after
`--latency` seconds, through the registry's real models (SDK retries off, `agents.resilience` the
one retry layer). A run plans 6 independent steps; each goes to a saved worker and is reviewed by
the leader (13 model calls). On the flaky endpoint `--fail-fraction` of all requests fail at once
with 429 or 503, with `Retry-After: 0` (`--no-retry-after`: no header, so the backoff decides).
Goal: every run succeeds, in at most 1.5x the clean run's wall time.
Usage: python bench/resilience.py [--runs 20] [--latency 0.1] [--fail-fraction 0.3] [--backoff 0.5]
       [--max-retries N] [--no-retry-after] [--steps 6]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass

import anyio
from _common import ROOT, isolated_state

sys.path.insert(0, str(ROOT / "tests" / "workflows"))  # the fault server's workflow answers

from fault_server import Action, FaultServer, HTTPError, Responder
from fault_workflow import answers
from real_models import RealModels, endpoint_settings
from scripted_agents import LOW_RISK, make_profile, step_plan

from agent_orchestrator.config import load_settings
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.leader_worker.graph import leader_worker


@dataclass
class Outcome:
    seconds: float
    succeeded: bool
    requests: int
    summary: str


def failing(responder: Responder, fraction: float, seed: int) -> Responder:
    """`responder`, but `fraction` of requests fail at once with 429 or 503 and no Retry-After header."""
    chance = random.Random(seed)

    def respond(request: dict[str, object]) -> Action:
        if chance.random() < fraction:
            return HTTPError(chance.choice((429, 503)))
        return responder(request)

    return respond


async def one_run(steps: int, latency: float, fraction: float, retry_after: bool, seed: int) -> Outcome:
    plan = step_plan(*((f"s{i}", "summarization", []) for i in range(1, steps + 1)))
    answer = answers(plan, latency=latency)
    if retry_after or fraction == 0:  # the server's own fault mode: 429/503 with Retry-After: 0
        server = FaultServer(default=answer, fail_fraction=fraction, fail_statuses=(429, 503), seed=seed)
    else:
        server = FaultServer(default=failing(answer, fraction, seed))
    models = RealModels()
    with server:
        runtime = Runtime.create(load_settings(**endpoint_settings(server, model="fault-leader")), models)
        runtime.profiles.save(make_profile("fault-worker", "active", LOW_RISK, base_url=server.base_url))
        started = time.perf_counter()
        try:
            result = await leader_worker(runtime, "benchmark goal", concurrency=steps)
            succeeded, summary = result.status == "succeeded", result.summary
        except Exception as exc:  # a failed plan: the run failed
            succeeded, summary = False, f"{type(exc).__name__}: {exc}"
        elapsed = time.perf_counter() - started
        await models.close()
        return Outcome(elapsed, succeeded, server.count, summary)


async def paired(args: argparse.Namespace) -> tuple[list[Outcome], list[Outcome]]:
    """Clean and flaky runs alternately, so a machine busy for a while slows both alike."""
    clean: list[Outcome] = []
    flaky: list[Outcome] = []
    for seed in range(args.runs):
        clean.append(await one_run(args.steps, args.latency, 0.0, True, seed))
        flaky.append(await one_run(args.steps, args.latency, args.fail_fraction, not args.no_retry_after, seed))
    return clean, flaky


def report(label: str, outcomes: list[Outcome]) -> float:
    wall = [o.seconds for o in outcomes]
    ok = sum(o.succeeded for o in outcomes)
    median = statistics.median(wall)
    print(
        f"{label:<10} {ok}/{len(outcomes)} succeeded  wall median {median * 1000:.0f} ms, "
        f"p90 {sorted(wall)[int(0.9 * (len(wall) - 1))] * 1000:.0f} ms, max {max(wall) * 1000:.0f} ms  "
        f"requests {statistics.mean(o.requests for o in outcomes):.1f}/run"
    )
    for outcome in outcomes:
        if not outcome.succeeded:
            print("  failed run: " + outcome.summary.replace("\n", " | ")[:400])
    return median


async def main(args: argparse.Namespace) -> None:
    isolated_state()
    os.environ["AO_MODEL_BACKOFF_S"] = str(args.backoff)
    if args.max_retries is not None:
        os.environ["AO_MODEL_MAX_RETRIES"] = str(args.max_retries)
    settings = load_settings()
    await one_run(args.steps, 0.0, 0.0, True, 0)  # warm-up: imports, schemas, the SQLite files
    print(
        f"{args.runs} runs of {args.steps} independent steps, {args.latency * 1000:.0f} ms per answer; "
        f"flaky: {args.fail_fraction:.0%} of requests 429/503 "
        f"({'Retry-After: 0' if not args.no_retry_after else 'no Retry-After'}); "
        f"AO_MODEL_MAX_RETRIES={settings.ao_model_max_retries}, AO_MODEL_BACKOFF_S={settings.ao_model_backoff_s:g}"
    )
    clean_runs, flaky_runs = await paired(args)
    clean, flaky = report("clean", clean_runs), report("flaky", flaky_runs)
    rate = sum(o.succeeded for o in flaky_runs) / len(flaky_runs)
    print(f"success rate {rate:.0%} (goal 100%), wall-time ratio {flaky / clean:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--fail-fraction", type=float, default=0.3)
    parser.add_argument("--backoff", type=float, default=0.5, help="AO_MODEL_BACKOFF_S (default: the setting's)")
    parser.add_argument(
        "--max-retries", type=int, default=None, help="AO_MODEL_MAX_RETRIES (default: the setting's)"
    )
    parser.add_argument("--no-retry-after", action="store_true", help="failures send no Retry-After header")
    anyio.run(main, parser.parse_args())
