"""Drift canaries before a leader-worker run gives work to a worker whose profile has aged.

Once the plan says who does what, every worker it routes a step to whose profile (or last passed
canary) is older than `AO_DRIFT_CANARY_HOURS` answers a few freshly seeded interview cases first
(`interview.canary`). The outcome is saved in its profile: a pass resets the clock; a failure
blocks the worker until it is interviewed again, and its steps go to the leader. An endpoint that
did not answer is not judged, but the worker gets no work in this run either.

The canaries are one recorded step: a resumed run does not ask them again, and routes as it did.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

import anyio

from agent_orchestrator.domain.drift import DriftCheck, canary_due
from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.domain.steps import recorded_step
from agent_orchestrator.interview.calls import InterviewDeadline
from agent_orchestrator.interview.canary import run_canary, with_canary
from agent_orchestrator.interview.case import GradingEnv
from agent_orchestrator.interview.routing import LEADER, Candidate
from agent_orchestrator.interview.trust import reinterview_command, unless_reinterviewed
from agent_orchestrator.interview.typescript import find_typescript_toolchain
from agent_orchestrator.providers import resolve_spec
from agent_orchestrator.workflows.plan_result import ProposedPlan
from agent_orchestrator.workflows.recorder import RunContext


def fresh_seed() -> int:
    """A new seed for each canary, so its answers cannot have been remembered from an earlier one."""
    return secrets.randbelow(2**31)


def due_for_canary(
    run: RunContext, plan: ProposedPlan, candidates: list[Candidate]
) -> list[WorkerCapabilityProfile]:
    """The fresh, unblocked profiles of the workers the plan routes steps to whose canary is due."""
    hours = run.runtime.settings.ao_drift_canary_hours
    routed = {assignment.assignee for assignment in plan.assignments if assignment.assignee != LEADER}
    now = datetime.now(UTC)
    return [
        c.profile
        for c in candidates
        if c.profile.worker_id in routed
        and c.profile.status != "blocked"
        and not c.stale_reasons
        and canary_due(c.profile.evaluated_at, c.profile.drift_check, now=now, hours=hours)
    ]


async def canaried_candidates(run: RunContext, plan: ProposedPlan, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates after the due canaries ran (a recorded step): a worker that failed its canary, or
    whose endpoint did not answer it, comes back blocked, so no step of this run goes to it."""

    async def body() -> list[tuple[WorkerCapabilityProfile, DriftCheck]]:
        checks: list[tuple[WorkerCapabilityProfile, DriftCheck]] = []

        async def one(profile: WorkerCapabilityProfile) -> None:
            checks.append((profile, await _canary(run, profile)))

        async with anyio.create_task_group() as group:
            for profile in due_for_canary(run, plan, candidates):
                group.start_soon(one, profile)
        return checks

    outcomes = {
        profile.worker_id: (profile, check) for profile, check in await recorded_step("drift canaries", body)
    }
    updated: list[Candidate] = []
    for candidate in candidates:
        ran = outcomes.get(candidate.profile.worker_id)
        updated.append(candidate if ran is None else Candidate(_judged(run, *ran), candidate.stale_reasons))
    return updated


async def _canary(run: RunContext, profile: WorkerCapabilityProfile) -> DriftCheck:
    """Ask one worker its canary, within the interview's deadline (or the run's, if sooner), and save it."""
    runtime = run.runtime
    settings = runtime.settings
    spec = resolve_spec(profile.provider, profile.model, settings, "worker", profile.base_url)
    seconds = settings.ao_interview_timeout
    ends = time.monotonic() + seconds
    if run.deadline is not None and run.deadline < ends:
        ends, seconds = run.deadline, max(run.deadline - time.monotonic(), 0.0)
    deadline = InterviewDeadline.ending(ends, seconds)
    check = await run_canary(
        runtime.model_factory(spec, settings, "worker"),
        profile,
        seed=fresh_seed(),
        now=datetime.now(UTC),
        env=GradingEnv(typescript=find_typescript_toolchain()),
        bounds=replace(run.bounds(), run_deadline=deadline.at, run_deadline_name=deadline.name),
        redact=runtime.redact,
        usage=run,
        deadline=deadline,
    )
    if check.outcome != "not_run":
        change = unless_reinterviewed(profile.evaluated_at, partial(with_canary, check=check))
        # The store locks and fsyncs: off the event loop.
        await anyio.to_thread.run_sync(partial(runtime.profiles.update, profile.worker_id, change))
    return check


def _judged(run: RunContext, profile: WorkerCapabilityProfile, check: DriftCheck) -> WorkerCapabilityProfile:
    """The profile this run routes by after its canary, with a warning unless it passed."""
    name = profile.worker_id
    if check.outcome == "passed":
        return with_canary(profile, check)
    if check.outcome == "failed":
        run.warn(
            f"worker {name!r} failed its drift canary ({check.detail}: {'; '.join(check.failed[:2])}); it is "
            f"blocked until it is interviewed again (`{reinterview_command(profile)}`), the leader does its steps"
        )
        return with_canary(profile, check)
    run.warn(f"worker {name!r} could not be asked its drift canary ({check.detail}); it gets no work in this run")
    return with_canary(profile, check.model_copy(update={"outcome": "failed"}))
