"""The leader interview's vocabulary and its result: what the leader model may be trusted to do.

The leader plans, reviews diffs, judges worker outputs and proposes fixes; each is a dimension of
its interview. A leader that cannot plan or cannot judge worker output cannot lead at all
(`blocked`); one that only fails review or fixing may lead with those roles withheld (`limited`).
These are boundary models: persisted, shown by tools, read by whoever decides to let it lead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, Field

from agent_orchestrator.domain.profile import CheckResult

LEADER_SUITE_VERSION = "2026.11.leader.1"

LeaderDimension = Literal["planning", "review", "verdicts", "fixing"]
LEADER_DIMENSIONS: tuple[LeaderDimension, ...] = get_args(LeaderDimension)
LeaderStatus = Literal["active", "limited", "blocked"]
# Without these the leader cannot lead: it cannot make a plan, or cannot tell good worker output from bad.
ESSENTIAL_DIMENSIONS: frozenset[LeaderDimension] = frozenset({"planning", "verdicts"})


class LeaderCaseResult(BaseModel):
    """The evidence for one leader case: what was checked and how it went (error: no answer)."""

    case_id: str
    dimension: LeaderDimension
    score: float = Field(ge=0, le=1)
    passed: bool
    checks: list[CheckResult]
    latency_ms: int | None = None
    error: str | None = None


class LeaderDimensionScore(BaseModel):
    """One dimension's score with its cases; `recall` and `precision` are set for review only."""

    dimension: LeaderDimension
    score: float = Field(ge=0, le=1)
    threshold: float
    passed: bool
    cases: list[LeaderCaseResult]
    recall: float | None = None
    precision: float | None = None


class LeaderProfile(BaseModel):
    """What the leader interview found the leader model can be trusted with."""

    leader_id: str = Field(description="provider:model")
    provider: str
    model: str
    base_url: str | None
    endpoint_fingerprint: str
    status: LeaderStatus
    roles: dict[LeaderDimension, LeaderStatus] = Field(
        description="active when its dimension passed, else blocked"
    )
    scores: dict[LeaderDimension, LeaderDimensionScore]
    reasons: list[str]
    seed: int
    suite_version: str
    evaluated_at: datetime


def leader_status(
    scores: Mapping[LeaderDimension, LeaderDimensionScore],
) -> tuple[LeaderStatus, dict[LeaderDimension, LeaderStatus], list[str]]:
    """The overall status, each role's status and one reason per failed (or missing) dimension.

    Active when every dimension passed; blocked when planning or verdicts failed; limited otherwise.
    """
    roles: dict[LeaderDimension, LeaderStatus] = {
        dimension: "active" if dimension in scores and scores[dimension].passed else "blocked"
        for dimension in LEADER_DIMENSIONS
    }
    failed: list[LeaderDimension] = [d for d in LEADER_DIMENSIONS if roles[d] == "blocked"]
    reasons = [_reason(dimension, scores.get(dimension)) for dimension in failed]
    if not failed:
        return "active", roles, reasons
    if ESSENTIAL_DIMENSIONS.intersection(failed):
        return "blocked", roles, reasons
    return "limited", roles, reasons


def _reason(dimension: LeaderDimension, score: LeaderDimensionScore | None) -> str:
    """`review: score 0.29 vs threshold 0.70, 2/7 cases passed; recall 0.00, precision 1.00; <evidence>`."""
    if score is None:
        return f"{dimension}: not interviewed"
    passed = sum(1 for case in score.cases if case.passed)
    text = f"{dimension}: score {score.score:.2f} vs threshold {score.threshold:.2f}"
    text += f", {passed}/{len(score.cases)} cases passed"
    if score.recall is not None and score.precision is not None:
        text += f"; recall {score.recall:.2f}, precision {score.precision:.2f}"
    evidence = _evidence(score.cases)
    return f"{text}; {evidence}" if evidence else text


def _evidence(cases: list[LeaderCaseResult]) -> str:
    """The first failed check (or the error) of the worst failed case."""
    failed = sorted((case for case in cases if not case.passed), key=lambda case: case.score)
    for case in failed:
        if case.error is not None:
            return f"{case.case_id}: no answer ({case.error})"
        check = next((c for c in case.checks if c.passed is False), None)
        if check is not None:
            return f"{case.case_id}: {check.name} failed ({check.detail})"
    return ""


class LeaderInterviewResult(BaseModel):
    """A leader's interview: its status overall and per role, why, and its saved profile."""

    run_id: str | None = None
    leader_id: str
    status: LeaderStatus | Literal["unavailable"]
    roles: dict[LeaderDimension, LeaderStatus] = Field(default={}, description="active or blocked, per role")
    reasons: list[str] = Field(default=[], description="why a role is blocked")
    review_recall: float | None = Field(default=None, description="planted defects found (review)")
    review_precision: float | None = Field(default=None, description="findings that were real defects")
    profile: LeaderProfile | None = None
    saved: bool = False
    saved_to: str | None = None
    unavailable_reason: str | None = None
    duration_ms: int = 0
