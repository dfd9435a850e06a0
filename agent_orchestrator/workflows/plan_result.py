"""What the planning workflow returns: a checked plan with its worker assignment proposal.

Pydantic and domain types only, so the server can declare the `plan` tool's output schema without
importing the agent stack.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent_orchestrator.agents.models import PlanStep, Risk, ValidationStrategy
from agent_orchestrator.domain.status import PlanStatus
from agent_orchestrator.interview.routing import Assignment


class ProposedPlan(BaseModel):
    """A checked plan with the worker assignment proposal."""

    summary: str
    steps: list[PlanStep]
    assignments: list[Assignment]
    risks: list[Risk]
    validation: ValidationStrategy


class PlanResult(ProposedPlan):
    """What `ao plan` returns: the plan plus its run record's id, warnings and model usage.

    `needs_attention` when the plan's text failed the leader checks (`leader_checks`): `attention`
    says which field and why; text echoing injected instructions is withheld.
    """

    run_id: str
    status: PlanStatus
    goal: str
    context_files: list[str]
    attention: list[str] = Field(default=[], description="why the plan was not accepted as is (needs_attention)")
    warnings: list[str]
    usage: dict[str, int | float | None]
