"""Trust that follows the record: judged outputs into a worker's profile, and the downgrade rule.

An *active* worker whose acceptance rate over its last `AO_TRACK_RECORD_WINDOW` judged outputs is
below `AO_MIN_ACCEPTANCE_RATE`, once at least `AO_TRACK_RECORD_MIN_JUDGED` of them are in that
window, becomes *limited* the way a limited interview leaves it (low-risk task types only, the
leader reviews every accepted output), with the reason in `reasons` and a re-interview in
`recommended_actions`. Nothing is ever upgraded here: only a new interview (a newly saved profile,
with an empty record) lifts the limit.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.profile import (
    LOW_RISK_TASK_TYPES,
    TaskType,
    WorkerCapabilityProfile,
)
from agent_orchestrator.domain.status import WorkerStatus
from agent_orchestrator.domain.track_record import Downgrade, JudgedOutput
from agent_orchestrator.interview.scoring import routing_policy, unsupported_task_types


@dataclass(frozen=True)
class TrustRule:
    """When a record downgrades its worker: the window, the judged outputs it needs, the rate to keep."""

    window: int
    min_judged: int
    min_acceptance_rate: float

    @classmethod
    def of(cls, settings: Settings) -> TrustRule:
        return cls(
            settings.ao_track_record_window, settings.ao_track_record_min_judged, settings.ao_min_acceptance_rate
        )


def shortfall(profile: WorkerCapabilityProfile, rule: TrustRule) -> str | None:
    """Why the worker's record falls below the rule (None: it does not, or it is too short to tell)."""
    figures = profile.track_record.figures(rule.window)
    rate = figures.acceptance_rate
    if figures.judged_outputs < rule.min_judged or rate is None or rate >= rule.min_acceptance_rate:
        return None
    return (
        f"acceptance rate {rate:.2f} over the last {figures.judged_outputs} judged outputs, "
        f"below AO_MIN_ACCEPTANCE_RATE={rule.min_acceptance_rate:g}"
    )


def record_judged(
    profile: WorkerCapabilityProfile, entries: Sequence[JudgedOutput], rule: TrustRule, now: datetime
) -> WorkerCapabilityProfile:
    """The profile with `entries` in its record (those it holds already skipped), downgraded to limited
    when it was active and its record now falls short; the same object when nothing was new."""
    record = profile.track_record.adding(entries)
    if record is profile.track_record:
        return profile
    updated = profile.model_copy(update={"track_record": record})
    if updated.status != "active":
        return updated
    why = shortfall(updated, rule)
    return updated if why is None else downgraded(updated, why, now)


def downgraded(profile: WorkerCapabilityProfile, why: str, now: datetime) -> WorkerCapabilityProfile:
    """The profile limited for `why`: the low-risk task types it had, a limited interview's routing policy."""
    record = profile.track_record.model_copy(update={"downgrade": Downgrade(at=now, reason=why)})
    return profile.model_copy(
        update={
            **restricted(profile, "limited"),
            "reasons": [*profile.reasons, f"track record: {why}"],
            "recommended_actions": [*profile.recommended_actions, reinterview_action(profile)],
            "track_record": record,
        }
    )


def restricted(profile: WorkerCapabilityProfile, status: WorkerStatus) -> dict[str, Any]:
    """The fields that put a worker at `status` (limited or blocked) after its interview, as an interview
    ending there would: the task types it keeps (limited: its low-risk ones; blocked: none) and the policy."""
    supported: list[TaskType] = (
        [t for t in profile.supported_task_types if t in LOW_RISK_TASK_TYPES] if status == "limited" else []
    )
    return {
        "status": status,
        "supported_task_types": supported,
        "unsupported_task_types": unsupported_task_types(supported),
        "routing_policy": routing_policy(status, supported),
    }


def unless_reinterviewed(
    evaluated_at: datetime, change: Callable[[WorkerCapabilityProfile], WorkerCapabilityProfile]
) -> Callable[[WorkerCapabilityProfile], WorkerCapabilityProfile]:
    """`change` for a profile store update, applied only while the saved profile is still the one made at
    `evaluated_at`: a profile saved since (a re-interview) is not judged by what its predecessor did."""

    def apply(saved: WorkerCapabilityProfile) -> WorkerCapabilityProfile:
        return change(saved) if saved.evaluated_at == evaluated_at else saved

    return apply


def reinterview_command(profile: WorkerCapabilityProfile) -> str:
    """The `ao` command that interviews this worker again and saves the new profile."""
    words = ["ao", "worker", "interview", "--provider", profile.provider, "--model", profile.model]
    if profile.base_url is not None:
        words += ["--base-url", profile.base_url]
    return shlex.join([*words, "--save"])


def reinterview_action(profile: WorkerCapabilityProfile) -> str:
    return f"re-interview it to lift the limit (its track record starts afresh): `{reinterview_command(profile)}`"
