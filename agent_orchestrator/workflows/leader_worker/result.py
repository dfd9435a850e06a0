"""What the leader-worker workflow returns: the plan, every step's outcome, the patches, usage.

Pydantic and domain types only, so the server can declare the `run_leader_worker` tool's output
schema without importing the agent stack.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent_orchestrator.domain.profile import TaskType
from agent_orchestrator.domain.status import LeaderWorkerStatus
from agent_orchestrator.repo.patch_checks import PatchCheck
from agent_orchestrator.workflows.plan_result import ProposedPlan


class CheckOutcome(BaseModel):
    """One deterministic check of a step's output; `passed` is None when the check could not run."""

    name: str
    passed: bool | None
    detail: str = ""

    @classmethod
    def of(cls, check: PatchCheck) -> CheckOutcome:
        """A patch check as a step check: a skipped `git apply --check` is recorded, not held against it."""
        passed = {"passed": True, "failed": False}.get(check.status)
        return cls(name=check.name, passed=passed, detail=check.detail)


StepVerdict = Literal["accepted", "rejected", "failed", "skipped"]


class StepOutcome(BaseModel):
    """What happened to one step: who did it, the verdict, the rounds, the checks and the output."""

    step_id: str
    title: str
    task_type: TaskType
    assignee: str
    verdict: StepVerdict
    rounds: int
    leader_reviewed: bool
    validation: list[CheckOutcome]
    output_summary: str = ""
    content_excerpt: str = ""
    output_artifact: str | None = None
    has_patch: bool = False
    feedback: str = ""
    error: str | None = None
    duration_ms: int = 0
    served_by: str | None = Field(
        default=None, description="the model that gave the last output: the assignee, or a fallback"
    )
    fallback_from: str | None = Field(default=None, description="the model a fallback replaced")
    fallback_reason: str | None = Field(default=None, description="why that model was replaced")
    revisions: int = Field(default=0, description="revisions the leader asked for")
    validation_failures: int = Field(default=0, description="outputs that failed the deterministic checks")
    cost_usd: float | None = Field(
        default=None, description="cost of the calls that gave the step's outputs (None: not priced)"
    )


class PatchOutcome(BaseModel):
    """An accepted step's patch: the files it changes, whether it was written, and why (or why not)."""

    step_id: str
    files: list[str]
    patch: str
    patch_truncated: bool
    output_artifact: str | None
    applied: bool
    detail: str


class LeaderWorkerResult(BaseModel):
    """The plan, every step's outcome, the patches, warnings, model usage and timings."""

    run_id: str
    status: LeaderWorkerStatus
    goal: str
    scope: str
    summary: str
    plan: ProposedPlan
    steps: list[StepOutcome]
    patches: list[PatchOutcome]
    warnings: list[str]
    usage: dict[str, int | float | None]
    timings_ms: dict[str, int]
    stopped: str | None = Field(
        default=None, description="why the run stopped early (a budget or its deadline); finished steps are kept"
    )
    attention: list[str] = Field(
        default_factory=list[str],
        description="why the leader's plan failed its checks (status `needs_attention`; no step was run)",
    )
