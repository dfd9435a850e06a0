"""From graded cases to a profile: dimension scores, status, task types, routing policy, advice.

The rules, in order:
- an endpoint that failed most calls is *unavailable*: not judged, never saved as a judgement;
- *blocked* when the interview's deadline passed with cases unanswered (too slow: saved like any
  judgement, so it is not re-interviewed on every run), no output mode delivered structured output
  (tool calls, native JSON schema, prompted JSON: see `interview.probe`), structured output fails
  badly, the endpoint is unreliable, or no low-risk task type qualifies;
- *active* when every dimension passed on a reliable endpoint; it may take every task type it
  qualified for (codegen only when its TypeScript was really type-checked);
- *limited* otherwise: low-risk task types only, every accepted output reviewed by the leader.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agent_orchestrator.domain.profile import (
    DIMENSIONS,
    LOW_RISK_TASK_TYPES,
    SUITE_VERSION,
    TASK_REQUIREMENTS,
    CaseResult,
    Dimension,
    DimensionScore,
    InterviewResult,
    Reliability,
    RoutingPolicy,
    TaskType,
    WorkerCapabilityProfile,
)
from agent_orchestrator.domain.status import WorkerStatus
from agent_orchestrator.interview.calls import TRANSPORT_ERRORS
from agent_orchestrator.interview.runner import SuiteRun
from agent_orchestrator.providers import ModelSpec

PASS_THRESHOLD = 0.7
BLOCK_STRUCTURED_BELOW = 0.5
UNAVAILABLE_SHARE = 0.5
UNRELIABLE_SHARE = 0.25
NO_MODE_ACTION = (
    "workflows need its answers as structured output: serve the model with tool calling or a JSON-schema "
    "response format (structured output, grammars) enabled, or use another model, and re-interview"
)


@dataclass(frozen=True)
class InterviewMeta:
    """What the profile records about how the interview was run."""

    seed: int
    ttl: timedelta
    typescript_note: str
    typescript_verified: bool
    deadline_s: float | None = None  # the interview's deadline (AO_INTERVIEW_TIMEOUT)


def score_dimensions(cases: list[CaseResult], typescript_note: str) -> dict[Dimension, DimensionScore]:
    """Mean case score per dimension; a dimension passes at the threshold."""
    scores: dict[Dimension, DimensionScore] = {}
    for dimension in DIMENSIONS:
        mine = [case for case in cases if case.dimension == dimension]
        value = round(sum(case.score for case in mine) / len(mine), 3) if mine else 0.0
        note = typescript_note if dimension == "typescript_codegen" else None
        scores[dimension] = DimensionScore(
            dimension=dimension,
            score=value,
            threshold=PASS_THRESHOLD,
            passed=bool(mine) and value >= PASS_THRESHOLD,
            cases=mine,
            note=note,
        )
    return scores


def reliability_of(cases: list[CaseResult], retries: int = 0, deadline_s: float | None = None) -> Reliability:
    """How the endpoint behaved: failures at the endpoint (not bad answers, not the deadline), retries,
    and the latency of the answered calls."""
    latencies = [c.latency_ms for c in cases if c.error is None]
    return Reliability(
        cases=len(cases),
        answered=len(latencies),
        transport_failures=sum(1 for c in cases if c.error in TRANSPORT_ERRORS),
        timeouts=sum(1 for c in cases if c.error == "timeout"),
        retries=sum(max(c.attempts - 1, 0) for c in cases) + retries,
        unanswered_at_deadline=sum(1 for c in cases if c.error == "deadline"),
        deadline_s=deadline_s,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
    )


def percentile(values: list[int], p: float) -> int | None:
    """The nearest-rank `p`th percentile (an observed value, so a small sample is not interpolated)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def too_slow_reason(reliability: Reliability) -> str | None:
    """Why a worker is too slow for the interview's deadline; None when the deadline left nothing unanswered."""
    if not reliability.unanswered_at_deadline:
        return None
    deadline = f"the interview's deadline of {reliability.deadline_s or 0:g} s (AO_INTERVIEW_TIMEOUT)"
    unanswered = f"{reliability.unanswered_at_deadline} of {reliability.cases} cases unanswered"
    if reliability.latency_p95_ms is None:
        return f"too slow: no answer at all; {deadline} passed with {unanswered}"
    return f"too slow: p95 latency {reliability.latency_p95_ms / 1000:.1f} s; {deadline} passed with {unanswered}"


def qualified_task_types(scores: dict[Dimension, DimensionScore], typescript_verified: bool) -> list[TaskType]:
    """Task types whose required dimensions all passed; codegen also needs a real type-check."""
    qualified: list[TaskType] = []
    for requirement in TASK_REQUIREMENTS:
        if not all(scores[d].passed for d in requirement.requires):
            continue
        if "typescript_codegen" in requirement.requires and not typescript_verified:
            continue
        qualified.append(requirement.task_type)
    return qualified


def decide_status(
    scores: dict[Dimension, DimensionScore], reliability: Reliability, qualified: list[TaskType]
) -> WorkerStatus:
    unreliable = reliability.transport_failures > UNRELIABLE_SHARE * reliability.cases
    no_low_risk = LOW_RISK_TASK_TYPES.isdisjoint(qualified)
    too_slow = reliability.unanswered_at_deadline > 0
    if scores["structured_json"].score < BLOCK_STRUCTURED_BELOW or unreliable or no_low_risk or too_slow:
        return "blocked"
    if all(score.passed for score in scores.values()):
        return "active"
    return "limited"


def unsupported_task_types(supported: list[TaskType]) -> list[TaskType]:
    """Every task type not in `supported`, in the suite's order."""
    return [r.task_type for r in TASK_REQUIREMENTS if r.task_type not in supported]


def routing_policy(status: WorkerStatus, supported: list[TaskType]) -> RoutingPolicy:
    if status == "blocked":
        return RoutingPolicy(
            max_task_complexity="none",
            leader_review_required=True,
            codegen_allowed=False,
            patch_generation_allowed=False,
        )
    if status == "limited":
        return RoutingPolicy(
            max_task_complexity="low",
            leader_review_required=True,
            codegen_allowed=False,
            patch_generation_allowed=False,
        )
    codegen = "codegen" in supported
    return RoutingPolicy(
        max_task_complexity="high" if codegen else "medium",
        leader_review_required=False,
        codegen_allowed=codegen,
        patch_generation_allowed="patch_generation" in supported,
    )


def failure_reasons(scores: dict[Dimension, DimensionScore], reliability: Reliability) -> list[str]:
    """Too slow first, if it was; then one reason per failed dimension, citing the first failed check of
    its worst case (a dimension the deadline left cases of unanswered is covered by the first)."""
    slow = too_slow_reason(reliability)
    reasons: list[str] = [slow] if slow else []
    for dimension, score in scores.items():
        if score.passed or (slow and any(case.error == "deadline" for case in score.cases)):
            continue
        passed_cases = sum(1 for case in score.cases if case.passed)
        worst = min(score.cases, key=lambda case: case.score, default=None)
        evidence = ""
        if worst is not None:
            failed = next((c for c in worst.checks if c.passed is False), None)
            if failed is not None:
                evidence = f"; {worst.case_id}: {failed.name} failed ({failed.detail})"
            elif score.note:
                evidence = f"; {score.note}"
        reasons.append(
            f"{dimension}: score {score.score:.2f} below {score.threshold:.2f}, "
            f"{passed_cases}/{len(score.cases)} cases passed{evidence}"
        )
    if reliability.transport_failures:
        reasons.append(
            f"reliability: {reliability.transport_failures}/{reliability.cases} calls failed at the "
            f"endpoint ({reliability.timeouts} timeouts)"
        )
    return reasons


def recommended_actions(
    status: WorkerStatus, scores: dict[Dimension, DimensionScore], supported: list[TaskType], meta: InterviewMeta
) -> list[str]:
    actions: list[str] = []
    if status == "blocked" and meta.deadline_s is not None and _cut_by_deadline(scores):
        actions.append(
            f"this worker is too slow for the interview's deadline of {meta.deadline_s:g} s: use a faster model "
            "or endpoint, or raise AO_INTERVIEW_TIMEOUT (and AO_MODEL_CALL_TIMEOUT) and re-interview"
        )
    if status == "blocked":
        actions.append(
            "do not route production work to this worker; re-interview after changing the model, "
            "its settings or the endpoint"
        )
    elif status == "limited":
        actions.append(
            f"limit to low-risk tasks ({', '.join(supported)}) and require leader review of every accepted output"
        )
    if status != "blocked" and "codegen" not in supported:
        actions.append("do not assign codegen or patch generation")
    if not scores["confidence_calibration"].passed and status != "blocked":
        actions.append("require leader review: its stated confidence does not track correctness")
    if not scores["structured_json"].passed and status != "blocked":
        actions.append("validate every structured output against its schema before use")
    if not meta.typescript_verified:
        actions.append(
            "install Node.js and the pinned TypeScript compiler (`make install-node-tools`) and "
            "re-interview to qualify codegen"
        )
    return actions


def _cut_by_deadline(scores: dict[Dimension, DimensionScore]) -> bool:
    return any(case.error == "deadline" for score in scores.values() for case in score.cases)


def build_result(spec: ModelSpec, run: SuiteRun, meta: InterviewMeta) -> InterviewResult:
    """Turn a suite run into the interview's result (a judged profile or an unavailable outcome)."""
    reliability = reliability_of(run.cases, deadline_s=meta.deadline_s)
    if reliability.transport_failures >= UNAVAILABLE_SHARE * reliability.cases:
        return _unavailable(spec, run, reliability)
    scores = score_dimensions(run.cases, meta.typescript_note)
    qualified = qualified_task_types(scores, meta.typescript_verified)
    status: WorkerStatus = "blocked" if run.no_mode_works else decide_status(scores, reliability, qualified)
    supported: list[TaskType] = qualified if status == "active" else []
    if status == "limited":
        supported = [t for t in qualified if t in LOW_RISK_TASK_TYPES]
    now = datetime.now(UTC)
    profile = WorkerCapabilityProfile(
        worker_id=spec.model_id,
        provider=spec.provider,
        model=spec.model,
        base_url=spec.base_url,
        endpoint_fingerprint=spec.fingerprint(),
        status=status,
        scores=scores,
        supported_task_types=supported,
        unsupported_task_types=unsupported_task_types(supported),
        reasons=[*([run.no_mode_works] if run.no_mode_works else []), *failure_reasons(scores, reliability)],
        recommended_actions=[
            *([NO_MODE_ACTION] if run.no_mode_works else []),
            *recommended_actions(status, scores, supported, meta),
        ],
        routing_policy=routing_policy(status, supported),
        reliability=reliability,
        typescript_check=meta.typescript_note,
        evaluated_at=now,
        expires_at=now + meta.ttl,
        suite_version=SUITE_VERSION,
        seed=meta.seed,
        duration_ms=run.duration_ms,
        output_mode=run.output_mode,
        output_mode_trials=list(run.trials),
    )
    return InterviewResult(
        worker_id=spec.model_id,
        outcome="judged",
        status=status,
        saved=False,
        profile=profile,
        reasons=profile.reasons,
        recommended_actions=profile.recommended_actions,
    )


def _unavailable(spec: ModelSpec, run: SuiteRun, reliability: Reliability) -> InterviewResult:
    attempted = [case for case in run.cases if case.error not in (None, "skipped", "deadline")]
    skipped = sum(1 for case in run.cases if case.error == "skipped")
    errors = sorted({case.error for case in attempted if case.error})
    example = next((case.error_detail for case in attempted), None)
    not_attempted = f", {skipped} more not attempted" if skipped else ""
    reason = (
        f"the endpoint failed {len(attempted)} of {reliability.cases} calls{not_attempted} "
        f"({', '.join(errors) or 'errors'}){f': {example}' if example else ''}"
    )
    return InterviewResult(
        worker_id=spec.model_id,
        outcome="unavailable",
        status="unavailable",
        saved=False,
        unavailable_reason=reason,
        reasons=[reason],
        recommended_actions=[
            "check the endpoint (base URL, API key, that the model is served) and re-run the "
            "interview; nothing was judged or saved"
        ],
    )
