"""What the leader, workers and reviewers must answer: pydantic output types, validated on arrival.

A model's output that does not validate is retried by pydantic-ai and then fails the run: no
approval is ever inferred from garbage.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent_orchestrator.domain.profile import RiskLevel, TaskType

StepId = str


class PlanStep(BaseModel):
    """One step of a plan."""

    id: StepId = Field(description="short identifier, e.g. s1", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    title: str = Field(min_length=1, max_length=200)
    done_when: str = Field(min_length=1, max_length=500, description="what done looks like, checkably")
    task_type: TaskType
    depends_on: list[StepId] = Field(default=[])


class Risk(BaseModel):
    description: str = Field(min_length=1, max_length=500)
    severity: RiskLevel
    mitigation: str = Field(default="", max_length=500)


class ValidationStrategy(BaseModel):
    """Which deterministic checks and allowlisted commands will prove the result."""

    checks: list[str] = Field(default=[], description="deterministic checks, e.g. 'schema', 'tsc'")
    commands: list[str] = Field(default=[], description="allowlisted commands, e.g. 'pytest -q'")


class DraftPlan(BaseModel):
    """The leader's plan, before routing adds the worker assignment."""

    summary: str = Field(min_length=1, max_length=1000)
    steps: list[PlanStep] = Field(min_length=1, max_length=12)
    risks: list[Risk] = Field(default=[], max_length=12)
    validation: ValidationStrategy = Field(default_factory=ValidationStrategy)


class StepResult(BaseModel):
    """A worker's (or the leader's) output for one step."""

    summary: str = Field(min_length=1, max_length=2000)
    content: str = Field(default="", max_length=50_000, description="the deliverable: text, code or JSON")
    patch: str | None = Field(default=None, max_length=200_000, description="a unified diff, when files change")


class StepReview(BaseModel):
    """The leader's verdict on one step's output."""

    verdict: Literal["accept", "revise", "reject"]
    feedback: str = Field(default="", max_length=2000)


class Finding(BaseModel):
    """A review finding that cites a file and a line of the diff."""

    file: str
    line: int = Field(ge=1)
    severity: RiskLevel
    message: str = Field(min_length=1, max_length=1000)


class ReviewDraft(BaseModel):
    """The reviewer's answer for one part of a diff."""

    impact_summary: str = Field(min_length=1, max_length=2000)
    risks: list[Finding] = Field(default=[], max_length=50)
    missing_tests: list[str] = Field(default=[], max_length=20)
    follow_ups: list[str] = Field(default=[], max_length=20)


class FixDraft(BaseModel):
    """The fixer's answer: cause, steps, a patch and the commands that prove it."""

    root_cause: str = Field(min_length=1, max_length=2000)
    fix_steps: list[str] = Field(min_length=1, max_length=20)
    patch: str = Field(min_length=1, max_length=200_000, description="a unified diff against the scope")
    validation_commands: list[str] = Field(default=[], max_length=10)
