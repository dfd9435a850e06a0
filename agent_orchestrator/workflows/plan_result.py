"""What the planning workflow returns: a checked plan with its worker assignment proposal.

Pydantic and domain types only, so the server can declare the `plan` tool's output schema without
importing the agent stack.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent_orchestrator.agents.models import PlanStep, Risk, ValidationStrategy
from agent_orchestrator.domain.profile import RiskLevel
from agent_orchestrator.domain.status import PlanStatus
from agent_orchestrator.interview.routing import Assignment
from agent_orchestrator.workflows.second_opinion import Agreement, SecondOpinionSummary


class PlanRisk(Risk):
    """A risk of the plan; with a second opinion, marked by whether the second draft names it too.

    `confirmed`: the second draft names it (`second_opinion.same_risk`: a shared `path:line` citation, else
    shared content words); `single-source`: only the model in `sources` does. Without one: None, [].
    """

    agreement: Agreement | None = Field(
        default=None, description="with a second opinion: confirmed (both drafts name it) or single-source"
    )
    sources: list[str] = Field(default=[], description="with a second opinion: the model(s) that named it")
    other_severity: RiskLevel | None = Field(
        default=None, description="confirmed: the second draft's severity, when it differs"
    )


class PlanSecondOpinion(SecondOpinionSummary):
    """The second model's plan compared with the leader's: risks (counted) and steps by task type.

    A step "has a counterpart" when the second draft has a step of the same task type (matched one to
    one, in order): a coarse signal that both saw that kind of work, not that the steps agree.
    """

    steps_with_counterpart: list[str] = Field(
        default=[], description="leader step ids the second draft has a step of the same task type for"
    )
    steps_without_counterpart: list[str] = Field(
        default=[], description="leader step ids with no step of their task type left in the second draft"
    )
    second_steps: int = Field(default=0, description="how many steps the second draft has")


class ProposedPlan(BaseModel):
    """A checked plan with the worker assignment proposal."""

    summary: str
    steps: list[PlanStep]
    assignments: list[Assignment]
    risks: list[PlanRisk]
    validation: ValidationStrategy


class PlanResult(ProposedPlan):
    """What `ao plan` returns: the plan plus its run record's id, warnings and model usage.

    `needs_attention` when the plan's text failed the leader checks (`leader_checks`): `attention`
    says which field and why; text echoing injected instructions is withheld. With a second opinion,
    `risks` are marked and the second draft's own risks added (`PlanRisk`); `second_opinion` sums it up.
    """

    run_id: str
    status: PlanStatus
    goal: str
    context_files: list[str]
    attention: list[str] = Field(default=[], description="why the plan was not accepted as is (needs_attention)")
    second_opinion: PlanSecondOpinion | None = Field(
        default=None, description="the second model's plan compared with this one (risks, steps by task type)"
    )
    warnings: list[str]
    usage: dict[str, int | float | None]
