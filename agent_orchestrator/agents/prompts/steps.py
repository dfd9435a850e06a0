"""Leader-worker's prompts: a step for its doer (worker or leader), and a worker's output for the leader."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from agent_orchestrator.agents.models import PlanStep, StepResult
from agent_orchestrator.agents.prompts.prompt import Data, Prompt


class ShownCheck(Protocol):
    """A deterministic check of a step's output as the leader is shown it."""

    @property
    def name(self) -> str: ...
    @property
    def passed(self) -> bool | None: ...
    @property
    def detail(self) -> str: ...


def step_prompt(
    step: PlanStep,
    *,
    goal: str,
    scope: str,
    context: Sequence[Data],
    inputs: Mapping[str, StepResult],
    previous: StepResult | None = None,
    feedback: str | None = None,
) -> Prompt:
    """The step, the goal, the context and its dependencies' outputs as data, and on a revision what to fix."""
    prompt = Prompt.of(_header(step)).add(f"Goal of the whole plan: {goal}")
    prompt.add(f"Scope: {scope} (patch paths are relative to the workspace root)")
    if context:
        prompt.add("Context files:", *context)
    for dependency in step.depends_on:
        prompt.add(Data("output of step", render_output(inputs[dependency]), source=dependency))
    if previous is not None and feedback is not None:
        prompt.add("Your previous output:", Data("previous output", render_output(previous)))
        prompt.add("Fix it as this feedback says:", Data("feedback", feedback))
    return prompt


def step_review_prompt(
    step: PlanStep,
    *,
    worker: str,
    round_number: int,
    max_rounds: int,
    checks: Sequence[ShownCheck],
    output: StepResult,
) -> Prompt:
    """The step, who did it, our deterministic checks, and the worker's output as data."""
    listed = "\n".join(f"- {check.name}: {_shown(check.passed)}" for check in checks)
    details = "\n".join(f"{check.name}: {check.detail}" for check in checks)
    return (
        Prompt.of(_header(step))
        .add(f"Worker: {worker}")
        .add(f"Round {round_number} of {max_rounds}. Deterministic validation:\n{listed}")
        .add(Data("validation details", details))
        .add("Worker output:", Data("worker output", render_output(output), source=step.id))
    )


def render_output(output: StepResult) -> str:
    """A step's output as text: its summary, content and patch."""
    patch = f"\n\nPatch:\n{output.patch}" if output.patch else ""
    return f"Summary: {output.summary}\n\nContent:\n{output.content}{patch}"


def _header(step: PlanStep) -> str:
    return f"Step {step.id}: {step.title}\nTask type: {step.task_type}\nDone when: {step.done_when}"


def _shown(passed: bool | None) -> str:
    return "passed" if passed else "failed" if passed is False else "could not run"
