"""Route plan steps to workers by their profiles: blocked never, limited only low-risk, else the leader.

Routing reads only saved, judged profiles; nothing a worker says can change where work goes.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from agent_orchestrator.agents.models import PlanStep
from agent_orchestrator.domain.profile import TASK_REQUIREMENTS, TaskType, WorkerCapabilityProfile

LEADER = "leader"
_REQUIRES = {r.task_type: r.requires for r in TASK_REQUIREMENTS}


@dataclass(frozen=True)
class Candidate:
    """A saved profile and why it is stale (empty when fresh)."""

    profile: WorkerCapabilityProfile
    stale_reasons: tuple[str, ...] = ()


class Assignment(BaseModel):
    """Who does a step, and why."""

    step_id: str
    task_type: TaskType
    assignee: str
    reason: str
    leader_review_required: bool


def _fit(profile: WorkerCapabilityProfile, task_type: TaskType) -> float:
    """Mean score over the dimensions the task type needs: the better fit wins a tie on status."""
    needed = _REQUIRES[task_type]
    return sum(profile.scores[d].score for d in needed if d in profile.scores) / max(len(needed), 1)


def usable_candidates(candidates: list[Candidate]) -> tuple[list[WorkerCapabilityProfile], list[str]]:
    """Fresh, non-blocked profiles, and a warning naming every worker left out and why."""
    usable: list[WorkerCapabilityProfile] = []
    warnings: list[str] = []
    for candidate in candidates:
        profile = candidate.profile
        if profile.status == "blocked":
            why = "; ".join(profile.reasons[:2]) or "failed its interview"
            warnings.append(f"worker {profile.worker_id!r} is blocked and gets no work ({why})")
        elif candidate.stale_reasons:
            warnings.append(
                f"worker {profile.worker_id!r} has a stale profile ({'; '.join(candidate.stale_reasons)}); "
                "re-interview it to route work to it"
            )
        else:
            usable.append(profile)
    return usable, warnings


def assign(step: PlanStep, workers: list[WorkerCapabilityProfile]) -> Assignment:
    """The best qualified worker for the step's task type, or the leader when none qualifies."""
    qualified = [w for w in workers if step.task_type in w.supported_task_types]
    if not qualified:
        return Assignment(
            step_id=step.id,
            task_type=step.task_type,
            assignee=LEADER,
            reason=f"no qualified worker for {step.task_type}; the leader does it",
            leader_review_required=False,
        )
    best = max(qualified, key=lambda w: (w.status == "active", _fit(w, step.task_type), w.worker_id))
    limited = best.status == "limited"
    reason = f"{best.status} worker qualified for {step.task_type} (fit {_fit(best, step.task_type):.2f})" + (
        "; limited: the leader reviews every accepted output" if limited else ""
    )
    return Assignment(
        step_id=step.id,
        task_type=step.task_type,
        assignee=best.worker_id,
        reason=reason,
        leader_review_required=limited or best.routing_policy.leader_review_required,
    )


def propose(steps: list[PlanStep], candidates: list[Candidate]) -> tuple[list[Assignment], list[str]]:
    """Assignments for every step plus the routing warnings."""
    workers, warnings = usable_candidates(candidates)
    return [assign(step, workers) for step in steps], warnings
