"""Drift canaries: a few freshly seeded interview cases asked before an aged profile is trusted again.

The cases come from the dimensions the worker passed at its interview (the structured one first,
since every workflow call depends on it), one case per dimension, at most `CANARY_CASES`, with a
new seed each time so the answers cannot be remembered. They are asked exactly as the interview
asks them (the worker's output mode, the workflows' retries, the same graders).

A canary fails when most of the cases it could ask failed: one bad answer is within what a
worker that passed at the threshold may give; most of them is drift. An endpoint that did not
answer (transport failures, a deadline) is `not_run`: the worker gets no work this time, and its
profile is not judged on it. A failed canary blocks the worker until it is interviewed again.
"""

from __future__ import annotations

from datetime import datetime

from pydantic_ai.models import Model

from agent_orchestrator.agents.bounds import CallBounds
from agent_orchestrator.agents.usage import UsageSink
from agent_orchestrator.domain.drift import DriftCheck
from agent_orchestrator.domain.profile import DIMENSIONS, CheckResult, Dimension, WorkerCapabilityProfile
from agent_orchestrator.interview.calls import UNANSWERED_ERRORS, InterviewDeadline
from agent_orchestrator.interview.case import GradingEnv, InterviewCase
from agent_orchestrator.interview.runner import run_suite
from agent_orchestrator.interview.suite import build_suite
from agent_orchestrator.interview.trust import reinterview_command, restricted
from agent_orchestrator.policies.redaction import Redactor

CANARY_CASES = 3
# The structured dimension first (every workflow call returns structured output), then the suite's order.
_PRIORITY: tuple[Dimension, ...] = ("structured_json", *(d for d in DIMENSIONS if d != "structured_json"))


def canary_cases(profile: WorkerCapabilityProfile, seed: int) -> list[InterviewCase]:
    """One freshly seeded case from each of the first `CANARY_CASES` dimensions the worker passed."""
    passed: tuple[Dimension, ...] = tuple(d for d in _PRIORITY if d in profile.scores and profile.scores[d].passed)
    passed = passed[:CANARY_CASES]
    cases = build_suite(seed, passed)
    chosen: list[InterviewCase] = []
    for dimension in passed:
        of_dimension = [case for case in cases if case.dimension == dimension]
        if of_dimension:
            chosen.append(of_dimension[seed % len(of_dimension)])
    return chosen


async def run_canary(
    model: Model,
    profile: WorkerCapabilityProfile,
    *,
    seed: int,
    now: datetime,
    env: GradingEnv,
    bounds: CallBounds,
    redact: Redactor,
    usage: UsageSink,
    deadline: InterviewDeadline,
) -> DriftCheck:
    """Ask the worker its canary cases and judge them (see the module docstring)."""
    cases = canary_cases(profile, seed)
    ids = [case.case_id for case in cases]
    if not cases:
        detail = "no case to ask: the worker passed no dimension at its interview"
        return DriftCheck(at=now, outcome="not_run", seed=seed, detail=detail)
    suite_run = await run_suite(
        model,
        cases,
        env=env,
        bounds=bounds,
        concurrency=len(cases),
        redact=redact,
        usage=usage,
        deadline=deadline,
        worker_id=profile.worker_id,
        output_mode=profile.output_mode,
    )
    unanswered = [r for r in suite_run.cases if r.error in UNANSWERED_ERRORS]
    answered = [r for r in suite_run.cases if r not in unanswered]
    failed = [r for r in answered if not r.passed]
    failures = [f"{r.case_id}: {_first_failure(r.checks)}" for r in failed]
    if not answered:
        why = unanswered[0].error_detail or unanswered[0].error or "no answer"
        return DriftCheck(at=now, outcome="not_run", seed=seed, cases=ids, detail=redact(f"no answer: {why}"))
    outcome = "failed" if 2 * len(failed) > len(answered) else "passed"
    detail = f"{len(answered) - len(failed)} of {len(answered)} answered cases passed"
    return DriftCheck(at=now, outcome=outcome, seed=seed, cases=ids, failed=failures, detail=detail)


def _first_failure(checks: list[CheckResult]) -> str:
    failed = next((check for check in checks if check.passed is False), None)
    return "below the case's pass score" if failed is None else f"{failed.name}: {failed.detail}"[:200]


def with_canary(profile: WorkerCapabilityProfile, check: DriftCheck) -> WorkerCapabilityProfile:
    """The profile with the canary's outcome; a failed canary blocks it until a re-interview."""
    updated = profile.model_copy(update={"drift_check": check})
    if check.outcome != "failed" or profile.status == "blocked":
        return updated
    when = check.at.isoformat(timespec="seconds")
    why = f"drift canary failed at {when}: {check.detail} ({'; '.join(check.failed[:2])})"
    return updated.model_copy(
        update={
            **restricted(profile, "blocked"),
            "reasons": [why, *profile.reasons],
            "recommended_actions": [
                f"re-interview it; it gets no work until then: `{reinterview_command(profile)}`",
                *profile.recommended_actions,
            ],
        }
    )
