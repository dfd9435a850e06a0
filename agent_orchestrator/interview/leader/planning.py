"""Planning cases: the leader plans a seeded goal exactly as the planning workflow asks it to.

Checks, all deterministic:
- `plan.graph` (a gate): unique step ids, known dependencies, no self-dependency, no cycle: the
  planning workflow's own check (`agents.plan_graph.plan_problems`);
- `plan.coverage`: every requirement's token is named in some step's title or done-when;
- `plan.ordering`: for each stated ordering, the step doing the later requirement depends,
  transitively, on a different step doing the earlier one. The step doing a requirement is the
  first step naming its token in the title, else the first naming it in done-when;
- `plan.split`: more than one step (every goal has several requirements): a goal restated as one
  step is not a plan.
"""

from __future__ import annotations

import random
from functools import partial

from pydantic import BaseModel

from agent_orchestrator.agents.models import DraftPlan, PlanStep, ValidationStrategy
from agent_orchestrator.agents.plan_graph import plan_problems
from agent_orchestrator.agents.prompts.instructions import LEADER_PLANNER
from agent_orchestrator.agents.prompts.planning import planner_prompt
from agent_orchestrator.domain.profile import CheckResult
from agent_orchestrator.interview.leader.case import LeaderCase, LeaderGrader, LeaderTemplate, check, wrong_type
from agent_orchestrator.interview.leader.planning_goals import THEMES, PlanningGoal, Requirement, planning_goal

GRAPH = "plan.graph"


def planning_case(theme: str, rng: random.Random) -> LeaderCase:
    goal = planning_goal(theme, rng)
    return LeaderCase(
        case_id=f"planning/{theme}",
        dimension="planning",
        prompt=planner_prompt(goal.text, (), ()),
        instructions=LEADER_PLANNER,
        output_type=DraftPlan,
        grade=plan_grader(goal),
        reference=reference_plan(goal),
        gates=frozenset({GRAPH}),
    )


TEMPLATES: tuple[LeaderTemplate, ...] = tuple(partial(planning_case, theme) for theme in THEMES)


def plan_grader(goal: PlanningGoal) -> LeaderGrader:
    async def grade(output: BaseModel) -> list[CheckResult]:
        if not isinstance(output, DraftPlan):
            return wrong_type(output, DraftPlan)
        return [
            graph_check(output),
            coverage_check(output, goal),
            ordering_check(output, goal),
            split_check(output, goal),
        ]

    return grade


def graph_check(plan: DraftPlan) -> CheckResult:
    problems = plan_problems(plan)
    if problems:
        return check(GRAPH, False, "; ".join(problems[:5]))
    return check(GRAPH, True, f"{len(plan.steps)} steps, ids unique, dependencies known, no cycle")


def covering_step(plan: DraftPlan, requirement: Requirement) -> PlanStep | None:
    """The step doing `requirement`: the first naming its token in the title, else in done-when."""
    token = requirement.token.lower()
    titled = next((step for step in plan.steps if token in step.title.lower()), None)
    return titled or next((step for step in plan.steps if token in step.done_when.lower()), None)


def coverage_check(plan: DraftPlan, goal: PlanningGoal) -> CheckResult:
    missing = [r.token for r in goal.requirements if covering_step(plan, r) is None]
    if missing:
        shown = ", ".join(f"`{token}`" for token in missing)
        return check("plan.coverage", False, f"no step names {shown} in its title or done_when")
    return check("plan.coverage", True, f"all {len(goal.requirements)} requirements have a step")


def ordering_check(plan: DraftPlan, goal: PlanningGoal) -> CheckResult:
    by_token = {requirement.token: requirement for requirement in goal.requirements}
    problems: list[str] = []
    for ordering in goal.orderings:
        first = covering_step(plan, by_token[ordering.before])
        then = covering_step(plan, by_token[ordering.after])
        if first is None or then is None:
            absent = ordering.before if first is None else ordering.after
            problems.append(
                f"`{absent}` has no step, so `{ordering.before}` before `{ordering.after}` cannot hold"
            )
        elif first.id == then.id:
            problems.append(f"step {then.id} does both `{ordering.before}` and `{ordering.after}`")
        elif first.id not in ancestors(plan, then.id):
            problems.append(
                f"step {then.id} (`{ordering.after}`) does not depend on step {first.id} (`{ordering.before}`)"
            )
    if problems:
        return check("plan.ordering", False, "; ".join(problems))
    return check("plan.ordering", True, f"{len(goal.orderings)} ordering(s) respected by the dependencies")


def ancestors(plan: DraftPlan, step_id: str) -> set[str]:
    """Every step `step_id` depends on, directly or through others (cycles tolerated)."""
    depends = {step.id: step.depends_on for step in plan.steps}
    seen: set[str] = set()
    pending = list(depends.get(step_id, []))
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.add(current)
            pending.extend(depends.get(current, []))
    return seen


def split_check(plan: DraftPlan, goal: PlanningGoal) -> CheckResult:
    if len(plan.steps) > 1:
        return check("plan.split", True, f"{len(plan.steps)} steps for {len(goal.requirements)} requirements")
    return check("plan.split", False, f"one step for {len(goal.requirements)} requirements: the goal restated")


def reference_plan(goal: PlanningGoal) -> DraftPlan:
    """One step per requirement, in order, each depending on the steps its orderings put before it."""
    ids = {requirement.token: f"s{index}" for index, requirement in enumerate(goal.requirements, start=1)}
    steps = [
        PlanStep(
            id=ids[requirement.token],
            title=requirement.title,
            done_when=requirement.done_when,
            task_type=requirement.task_type,
            depends_on=[ids[o.before] for o in goal.orderings if o.after == requirement.token],
        )
        for requirement in goal.requirements
    ]
    return DraftPlan(
        summary=f"{len(steps)} steps, one per requirement, ordered as the goal requires.",
        steps=steps,
        validation=ValidationStrategy(checks=["schema"], commands=["pytest -q"]),
    )
