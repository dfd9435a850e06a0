"""A plan with a second opinion: a second model drafts from the same prompt, its draft compared with the leader's.

The leader's plan is the one returned and routed; the second draft only marks it. Its first draft is
asked concurrently with the leader's first (`draft_alongside`, each a recorded step drawn leader
first), once: a second draft that fails the plan checks (`plan_problems`, the leader checks) is
`rejected` and nothing of it is used, since a broken or injected plan is no opinion to compare with.

The comparison is deterministic (`compare_plans`): a leader risk the second draft also names
(`second_opinion.same_risk`, paired one to one, in order) is `confirmed`, the others `single-source`;
the second draft's unpaired risks are kept, `single-source` from it. Steps are compared by task type
only (`step_counterparts`): which of the leader's steps the second draft has a step of the same type for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from agent_orchestrator.agents.calls import call_agent
from agent_orchestrator.agents.models import DraftPlan, PlanStep, Risk
from agent_orchestrator.agents.prompts.instructions import LEADER_PLANNER
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.domain.steps import reserve_step
from agent_orchestrator.errors import AOError
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.providers import ModelSpec
from agent_orchestrator.workflows.failures import StepFailure
from agent_orchestrator.workflows.plan_result import PlanRisk, PlanSecondOpinion, ProposedPlan
from agent_orchestrator.workflows.recorder import RunContext
from agent_orchestrator.workflows.second_opinion import (
    alongside,
    confirmed,
    same_risk,
    second_agent,
    single_source,
    unavailable_warning,
)

SecondDraft = DraftPlan | StepFailure


async def draft_alongside(
    run: RunContext, ask_leader: Callable[[], Awaitable[DraftPlan]], spec: ModelSpec, prompt: Prompt
) -> tuple[DraftPlan, SecondDraft]:
    """The leader's draft (its failure raised) and the second model's draft of the same prompt, or why it
    has none."""
    try:
        agent = second_agent(run.runtime, spec, DraftPlan, LEADER_PLANNER)
    except AOError as exc:  # e.g. the `local` extra is missing: the leader plans alone
        return await ask_leader(), StepFailure(step="second opinion", cause=run.runtime.redact(str(exc)))

    async def ask_second() -> DraftPlan:
        return await call_agent(agent, prompt, usage=run, redact=run.runtime.redact, bounds=run.bounds())

    leader_slot, second_slot = reserve_step("plan draft"), reserve_step("second opinion plan")

    async def leader() -> DraftPlan:
        draft: DraftPlan = await leader_slot.run(ask_leader)
        return draft

    async def second() -> DraftPlan:
        draft: DraftPlan = await second_slot.run(ask_second)
        return draft

    return await alongside(leader, second, run.runtime.redact)


def second_opinion_of(
    run: RunContext,
    plan: ProposedPlan,
    second: SecondDraft,
    problems: list[str],
    leader_model: str,
    model: str,
) -> tuple[list[PlanRisk], PlanSecondOpinion]:
    """The plan's risks marked against the second draft and the comparison's summary; `problems`: why the
    second draft failed the plan checks (then it is rejected, the risks unmarked)."""
    redact = run.runtime.redact
    if isinstance(second, StepFailure):
        run.warn(unavailable_warning(model, second, "the plan is the leader's alone, unmarked"))
        return plan.risks, PlanSecondOpinion(model=model, outcome="unavailable", failure=second)
    if problems:
        shown = [redact(problem) for problem in problems]
        run.warn(f"the second opinion's plan failed the checks and was not used: {'; '.join(shown[:3])}")
        failure = StepFailure(step="second opinion", cause="its plan failed the checks", validation_errors=shown)
        return plan.risks, PlanSecondOpinion(model=model, outcome="rejected", failure=failure, attention=shown)
    return compare_plans(plan, second, leader_model, model, redact)


def compare_plans(
    plan: ProposedPlan, second: DraftPlan, leader_model: str, second_model: str, redact: Redactor
) -> tuple[list[PlanRisk], PlanSecondOpinion]:
    """The leader's risks marked, the second draft's unpaired risks added, and the counts and step matches."""
    pairs = pair_risks(plan.risks, second.risks)
    risks: list[PlanRisk] = []
    for index, risk in enumerate(plan.risks):
        if index not in pairs:
            risks.append(single_source(risk, leader_model))
        else:
            other = second.risks[pairs[index]]
            risks.append(confirmed(risk, risk.severity, other.severity, [leader_model, second_model]))
    paired = set(pairs.values())
    for index, risk in enumerate(second.risks):
        if index not in paired:
            risks.append(
                PlanRisk(
                    description=redact(risk.description)[:500],
                    severity=risk.severity,
                    mitigation=redact(risk.mitigation)[:500],
                    agreement="single-source",
                    sources=[second_model],
                )
            )
    matched, unmatched = step_counterparts(plan.steps, second.steps)
    summary = PlanSecondOpinion(
        model=second_model,
        outcome="compared",
        confirmed=len(pairs),
        single_source=len(risks) - len(pairs),
        steps_with_counterpart=matched,
        steps_without_counterpart=unmatched,
        second_steps=len(second.steps),
    )
    return risks, summary


def pair_risks(leader: Sequence[Risk], second: Sequence[Risk]) -> dict[int, int]:
    """Each leader risk (in order) paired with the first second-draft risk not yet paired that names the same
    risk (`same_risk`): leader index -> second index."""
    pairs: dict[int, int] = {}
    for index, risk in enumerate(leader):
        match = next(
            (
                other_index
                for other_index, other in enumerate(second)
                if other_index not in pairs.values() and same_risk(risk.description, other.description)
            ),
            None,
        )
        if match is not None:
            pairs[index] = match
    return pairs


def step_counterparts(leader: Sequence[PlanStep], second: Sequence[PlanStep]) -> tuple[list[str], list[str]]:
    """(leader step ids with a step of the same task type in the second draft, those without), matched one
    to one in order."""
    left = Counter(step.task_type for step in second)
    matched: list[str] = []
    unmatched: list[str] = []
    for step in leader:
        if left[step.task_type] > 0:
            left[step.task_type] -= 1
            matched.append(step.id)
        else:
            unmatched.append(step.id)
    return matched, unmatched
