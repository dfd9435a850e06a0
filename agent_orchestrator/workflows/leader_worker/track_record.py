"""After a run's steps: each step a worker served and the leader judged, into that worker's track record.

Judged means the leader's final verdict on the worker's output: accepted, rejected, or failed (every
round allowed ran and each output failed the deterministic checks or was sent back for revision).
A step that ended for another reason (its endpoint failed, the leader's review call failed, the run
stopped) says nothing about the worker's work and is not recorded, nor is a step the leader did.

The entry goes to the worker that served the step (a fallback, if one did), into the profile the
run routed by: a worker without a saved profile gets nothing, and one re-interviewed since the run
started keeps its fresh record. The updates are one recorded step, so a resumed run does not record
them again; and each entry is keyed by run and step, so a step recorded twice counts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial

import anyio

from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.domain.steps import recorded_step
from agent_orchestrator.domain.track_record import JudgedOutput, JudgedVerdict
from agent_orchestrator.errors import AOError
from agent_orchestrator.interview.trust import TrustRule, record_judged, reinterview_command, unless_reinterviewed
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.leader_worker.fallbacks import FallbackWorker
from agent_orchestrator.workflows.leader_worker.result import StepOutcome
from agent_orchestrator.workflows.leader_worker.steps import MAX_ROUNDS, StepJob
from agent_orchestrator.workflows.recorder import RunContext

# worker id -> (the `evaluated_at` of the profile the run routed by, the judged outputs it served)
Judged = dict[str, tuple[datetime, list[JudgedOutput]]]


def final_verdict(outcome: StepOutcome) -> JudgedVerdict | None:
    """The leader's last word on a step's output; None when the step ended before one was given."""
    if outcome.verdict in ("accepted", "rejected"):
        return outcome.verdict
    exhausted = outcome.rounds == MAX_ROUNDS and outcome.revisions + outcome.validation_failures == MAX_ROUNDS
    return "failed" if outcome.verdict == "failed" and exhausted else None


def judged_outputs(
    run_id: str,
    jobs: Sequence[StepJob],
    outcomes: Sequence[StepOutcome],
    fallbacks: Sequence[FallbackWorker],
    now: datetime,
) -> Judged:
    """The judged worker steps of a run, by the worker that served each (only workers routed by a profile)."""
    routed: dict[str, WorkerCapabilityProfile] = {f.worker_id: f.profile for f in fallbacks if f.profile}
    routed.update({job.worker.worker_id: job.worker for job in jobs if job.worker is not None})
    workers = {job.step.id: job.worker for job in jobs}
    judged: Judged = {}
    for outcome in outcomes:
        verdict = final_verdict(outcome)
        profile = routed.get(outcome.served_by or "")
        if workers.get(outcome.step_id) is None or verdict is None or profile is None:
            continue
        entry = JudgedOutput(
            at=now,
            run_id=run_id,
            step_id=outcome.step_id,
            task_type=outcome.task_type,
            verdict=verdict,
            rounds=outcome.rounds,
            revisions=outcome.revisions,
            validation_failures=outcome.validation_failures,
            cost_usd=outcome.cost_usd,
        )
        judged.setdefault(profile.worker_id, (profile.evaluated_at, []))[1].append(entry)
    return judged


async def record_track_records(
    run: RunContext, jobs: Sequence[StepJob], outcomes: Sequence[StepOutcome], fallbacks: Sequence[FallbackWorker]
) -> None:
    """Record the run's judged worker steps (one recorded step: none when there are none, as a replay of
    the same outcomes finds too); each downgrade is a warning of the run."""
    judged = judged_outputs(run.run_id, jobs, outcomes, fallbacks, datetime.now(UTC))
    if not judged:
        return

    async def body() -> list[str]:
        update = partial(update_track_records, run.runtime, judged, TrustRule.of(run.runtime.settings))
        warnings = await anyio.to_thread.run_sync(update)  # the store locks and fsyncs: off the event loop
        for warning in warnings:
            run.warn(warning)
        return warnings

    await recorded_step("track records", body)


def update_track_records(runtime: Runtime, judged: Judged, rule: TrustRule) -> list[str]:
    """Each worker's judged outputs into its saved profile (read-modify-write under the store's lock);
    a warning per worker downgraded, and per record that could not be updated."""
    now = datetime.now(UTC)
    warnings: list[str] = []
    for worker_id, (evaluated_at, entries) in judged.items():
        try:
            warning = _update_one(runtime, worker_id, evaluated_at, entries, rule, now)
        except (AOError, OSError) as exc:  # the run's result stands; the record just misses this run
            warning = f"worker {worker_id!r}: its track record was not updated: {exc}"
        if warning is not None:
            warnings.append(warning)
    return warnings


def _update_one(
    runtime: Runtime,
    worker_id: str,
    evaluated_at: datetime,
    entries: list[JudgedOutput],
    rule: TrustRule,
    now: datetime,
) -> str | None:
    """One worker's update; the warning saying it was downgraded, if it was."""
    downgrades: list[WorkerCapabilityProfile] = []

    def change(profile: WorkerCapabilityProfile) -> WorkerCapabilityProfile:
        changed = record_judged(profile, entries, rule, now)
        if changed.status != profile.status:
            downgrades.append(changed)
        return changed

    runtime.profiles.update(worker_id, unless_reinterviewed(evaluated_at, change))
    if not downgrades or (downgrade := downgrades[-1].track_record.downgrade) is None:
        return None
    return (
        f"worker {worker_id!r} was downgraded to limited by its track record ({downgrade.reason}): it now gets "
        f"only low-risk task types, under leader review; re-interview it to lift the limit: "
        f"`{reinterview_command(downgrades[-1])}`"
    )
