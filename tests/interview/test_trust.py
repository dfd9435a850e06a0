"""Trust that follows the record: an active worker whose acceptance rate falls short is limited, never upgraded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from workflows.scripted_agents import ALL_TYPES, LOW_RISK, make_profile

from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.domain.track_record import JudgedOutput, JudgedVerdict
from agent_orchestrator.interview.scoring import routing_policy
from agent_orchestrator.interview.trust import TrustRule, record_judged, reinterview_command

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RULE = TrustRule(window=10, min_judged=5, min_acceptance_rate=0.5)


def outputs(*verdicts: JudgedVerdict, run_id: str = "run-1") -> list[JudgedOutput]:
    return [
        JudgedOutput(at=NOW, run_id=run_id, step_id=f"s{n}", task_type="summarization", verdict=v, rounds=1)
        for n, v in enumerate(verdicts)
    ]


def active() -> WorkerCapabilityProfile:
    return make_profile("coder", "active", ALL_TYPES)


def test_an_active_worker_below_the_rate_over_enough_outputs_is_limited_with_the_reason() -> None:
    profile = record_judged(active(), outputs("accepted", "rejected", "rejected", "failed", "rejected"), RULE, NOW)
    reason = "acceptance rate 0.20 over the last 5 judged outputs, below AO_MIN_ACCEPTANCE_RATE=0.5"
    assert profile.status == "limited" and profile.reasons[-1] == f"track record: {reason}"
    assert profile.track_record.downgrade is not None and profile.track_record.downgrade.reason == reason
    assert profile.supported_task_types == LOW_RISK
    assert "codegen" in profile.unsupported_task_types
    assert profile.routing_policy == routing_policy("limited", LOW_RISK)
    assert reinterview_command(profile) in profile.recommended_actions[-1]


def test_too_few_judged_outputs_downgrade_nobody() -> None:
    profile = record_judged(active(), outputs("rejected", "rejected", "rejected", "rejected"), RULE, NOW)
    assert profile.status == "active" and len(profile.track_record.entries) == 4
    assert profile.track_record.downgrade is None


def test_a_rate_at_the_threshold_keeps_the_worker_active() -> None:
    profile = record_judged(active(), outputs("accepted", "rejected", "accepted", "rejected"), RULE, NOW)
    profile = record_judged(profile, outputs("accepted", "rejected", run_id="run-2"), RULE, NOW)
    assert profile.track_record.figures(RULE.window).acceptance_rate == 0.5 and profile.status == "active"


def test_only_the_window_counts() -> None:
    rule = TrustRule(window=3, min_judged=3, min_acceptance_rate=0.5)
    old_failures = record_judged(active(), outputs(*["rejected"] * 4), RULE, NOW)  # 4 < RULE.min_judged
    profile = record_judged(old_failures, outputs(*["accepted"] * 3, run_id="run-2"), rule, NOW)
    assert profile.status == "active", "the rejections fell out of the window (3 of all 7 would be 0.43)"


def test_a_good_record_never_upgrades_a_limited_worker() -> None:
    limited = make_profile("careful", "limited", LOW_RISK)
    profile = record_judged(limited, outputs(*["accepted"] * 10), RULE, NOW)
    assert profile.status == "limited" and profile.supported_task_types == LOW_RISK


def test_a_limited_worker_is_not_downgraded_again() -> None:
    limited = make_profile("careful", "limited", LOW_RISK)
    profile = record_judged(limited, outputs(*["rejected"] * 10), RULE, NOW)
    assert profile.status == "limited" and profile.reasons == limited.reasons
    assert profile.track_record.downgrade is None


def test_a_rate_of_zero_never_downgrades() -> None:
    rule = TrustRule(window=10, min_judged=1, min_acceptance_rate=0.0)
    assert record_judged(active(), outputs(*["rejected"] * 10), rule, NOW).status == "active"


def test_entries_already_recorded_leave_the_profile_as_it_was() -> None:
    once = record_judged(active(), outputs("accepted", "rejected"), RULE, NOW)
    assert record_judged(once, outputs("accepted", "rejected"), RULE, NOW) is once


def test_the_reinterview_command_names_the_endpoint() -> None:
    changes: dict[str, Any] = {"base_url": "http://gpu box:8000/v1"}
    profile = active().model_copy(update=changes)
    assert reinterview_command(profile) == (
        "ao worker interview --provider openai-compatible --model coder --base-url 'http://gpu box:8000/v1' --save"
    )
