"""Whether a leader's plan can be run as given: one check, used by the planning workflow (which sends a
broken plan back once) and by the leader interview (which grades the plans it asks for)."""

from __future__ import annotations

import graphlib
from collections import Counter

from agent_orchestrator.agents.models import DraftPlan


def plan_problems(draft: DraftPlan) -> list[str]:
    """Why the steps cannot be run as given: duplicate ids, unknown or self dependencies, cycles."""
    counts = Counter(step.id for step in draft.steps)
    problems = [f"step id {step_id!r} is used {n} times" for step_id, n in counts.items() if n > 1]
    for step in draft.steps:
        for dependency in step.depends_on:
            if dependency == step.id:
                problems.append(f"step {step.id!r} depends on itself")
            elif dependency not in counts:
                problems.append(f"step {step.id!r} depends on unknown step {dependency!r}")
    if not problems:
        sorter = graphlib.TopologicalSorter({step.id: step.depends_on for step in draft.steps})
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            cycle: list[str] = exc.args[1]
            problems.append(f"dependencies form a cycle: {' -> '.join(cycle)}")
    return problems
