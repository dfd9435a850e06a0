"""The leader's planning request."""

from __future__ import annotations

from collections.abc import Sequence

from agent_orchestrator.agents.prompts.prompt import Data, Prompt


def planner_prompt(goal: str, context: Sequence[Data], problems: Sequence[str]) -> Prompt:
    """The goal, the context files as data, and on a retry what the deterministic checks refused."""
    prompt = Prompt.of(f"Goal: {goal}")
    if context:
        prompt.add("Context files:", *context)
    if problems:
        listed = "\n".join(f"- {problem}" for problem in problems)
        prompt.add(f"Your previous plan was refused by deterministic checks:\n{listed}\nReturn a corrected plan.")
    return prompt
