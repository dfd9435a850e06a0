"""The interview's vocabulary and its result: dimensions, task types and the capability profile.

These are boundary models: they are tool outputs, they are persisted, and routing reads them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, Field

from agent_orchestrator.domain.drift import DriftCheck
from agent_orchestrator.domain.output_modes import OutputMode, OutputModeTrial
from agent_orchestrator.domain.status import InterviewStatus, WorkerStatus
from agent_orchestrator.domain.track_record import TrackRecord

SUITE_VERSION = "2026.12.1"

Dimension = Literal[
    "instruction_following",
    "structured_json",
    "summarization",
    "code_understanding",
    "typescript_codegen",
    "confidence_calibration",
]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)

TaskType = Literal[
    "summarization",
    "structured_extraction",
    "code_explanation",
    "log_triage",
    "code_review",
    "codegen",
    "patch_generation",
]
RiskLevel = Literal["low", "medium", "high"]


class TaskRequirement(BaseModel):
    """Which dimensions a task type needs passed, and how risky giving it to a worker is."""

    task_type: TaskType
    risk: RiskLevel
    requires: tuple[Dimension, ...]


TASK_REQUIREMENTS: tuple[TaskRequirement, ...] = (
    TaskRequirement(task_type="summarization", risk="low", requires=("summarization", "instruction_following")),
    TaskRequirement(
        task_type="structured_extraction", risk="low", requires=("structured_json", "instruction_following")
    ),
    TaskRequirement(task_type="code_explanation", risk="low", requires=("code_understanding",)),
    TaskRequirement(task_type="log_triage", risk="low", requires=("code_understanding", "structured_json")),
    TaskRequirement(
        task_type="code_review",
        risk="medium",
        requires=("code_understanding", "structured_json", "confidence_calibration"),
    ),
    TaskRequirement(
        task_type="codegen",
        risk="high",
        requires=("typescript_codegen", "code_understanding", "instruction_following"),
    ),
    TaskRequirement(
        task_type="patch_generation",
        risk="high",
        requires=("typescript_codegen", "code_understanding", "structured_json", "instruction_following"),
    ),
)
# The task types a limited worker may take; routing, scoring and the leader-worker re-check all read this one set.
LOW_RISK_TASK_TYPES: frozenset[TaskType] = frozenset(r.task_type for r in TASK_REQUIREMENTS if r.risk == "low")

Complexity = Literal["none", "low", "medium", "high"]
ErrorKind = Literal[
    "timeout",
    "unreachable",
    "server_error",
    "rate_limited",
    "auth_failed",
    "not_found",
    "model_error",
    "skipped",
    "cancelled",
]
# Why an interview case has no answer: a call's error kind, or `deadline` (the interview's deadline,
# AO_INTERVIEW_TIMEOUT, ended it first: a sign of a slow worker, not of a failing endpoint).
CaseError = ErrorKind | Literal["deadline"]


class CheckResult(BaseModel):
    """One deterministic check on one answer; `passed` is None when the check could not run."""

    name: str
    passed: bool | None
    detail: str


class CaseResult(BaseModel):
    """The evidence for one interview case: what was checked, what the worker said, how it went."""

    case_id: str
    dimension: Dimension
    score: float = Field(ge=0, le=1)
    passed: bool
    checks: list[CheckResult]
    error: CaseError | None = None
    error_detail: str | None = None
    attempts: int = 0
    latency_ms: int = 0
    answer_chars: int = 0
    answer_excerpt: str = ""


class DimensionScore(BaseModel):
    """The score of one dimension with the cases behind it."""

    dimension: Dimension
    score: float = Field(ge=0, le=1)
    threshold: float
    passed: bool
    cases: list[CaseResult]
    note: str | None = None


class RoutingPolicy(BaseModel):
    """What routing may give this worker."""

    max_task_complexity: Complexity
    leader_review_required: bool
    codegen_allowed: bool
    patch_generation_allowed: bool


class Reliability(BaseModel):
    """How the endpoint behaved during the interview: failures, retries, speed."""

    cases: int
    answered: int
    transport_failures: int
    timeouts: int
    retries: int
    unanswered_at_deadline: int = Field(
        default=0, description="cases the interview's deadline (AO_INTERVIEW_TIMEOUT) left unanswered"
    )
    deadline_s: float | None = Field(default=None, description="the interview's deadline in seconds")
    latency_p50_ms: int | None = Field(default=None, description="median latency of the answered calls")
    latency_p95_ms: int | None = Field(
        default=None, description="95th-percentile latency of the answered calls (None: none answered)"
    )


class WorkerCapabilityProfile(BaseModel):
    """What an interview found a worker can be trusted with; routing obeys `status`."""

    worker_id: str
    provider: str
    model: str
    base_url: str | None
    endpoint_fingerprint: str
    status: WorkerStatus
    scores: dict[Dimension, DimensionScore]
    supported_task_types: list[TaskType]
    unsupported_task_types: list[TaskType]
    reasons: list[str]
    recommended_actions: list[str]
    routing_policy: RoutingPolicy
    reliability: Reliability
    typescript_check: str
    evaluated_at: datetime
    expires_at: datetime
    suite_version: str
    seed: int
    duration_ms: int
    track_record: TrackRecord = Field(
        default_factory=TrackRecord,
        description="the leader's verdicts on its work since this interview (empty in older profiles)",
    )
    drift_check: DriftCheck | None = Field(
        default=None, description="the last drift canary since this interview (None: none ran yet)"
    )
    output_mode: OutputMode | None = Field(
        default=None,
        description="how workflows ask it for structured output, the mode it qualified in (None: no mode "
        "delivered structured output, or a profile from before output-mode probing, asked as before: "
        "pydantic-ai's default, the output tool)",
    )
    output_mode_trials: list[OutputModeTrial] = Field(
        default=[], description="the output modes the interview tried, in order (empty in older profiles)"
    )


Outcome = Literal["judged", "unavailable"]


class InterviewResult(BaseModel):
    """The answer of `interview_worker`: a judged profile, or an unavailable endpoint that was not judged."""

    worker_id: str
    run_id: str | None = Field(default=None, description="the interview's run record (`get_run`, `ao runs show`)")
    outcome: Outcome
    status: InterviewStatus
    saved: bool
    saved_to: str | None = None
    profile: WorkerCapabilityProfile | None = None
    unavailable_reason: str | None = None
    reasons: list[str]
    recommended_actions: list[str]
