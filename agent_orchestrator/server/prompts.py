"""Prompts: the instructions interviewed workers, the leader and the reviewers receive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastmcp import FastMCP
from fastmcp.prompts import Prompt
from pydantic import Field

from agent_orchestrator.agents.prompts.instructions import INTERVIEWED_WORKER, PROMPTS
from agent_orchestrator.domain.profile import DIMENSIONS, Dimension
from agent_orchestrator.interview.suite import build_suite


def add_prompts(server: FastMCP) -> None:
    for name, text in PROMPTS.items():
        server.add_prompt(
            Prompt.from_function(_constant(text), name=name, description=f"The {name.replace('_', ' ')}.")
        )

    @server.prompt(name="worker_interview_instructions")
    def worker_interview_instructions() -> str:
        """The system instructions every interviewed worker receives."""
        return INTERVIEWED_WORKER

    @server.prompt(name="interview_case")
    def interview_case(
        dimension: Annotated[
            Dimension, Field(description=f"The dimension to sample: one of {', '.join(DIMENSIONS)}")
        ],
        seed: Annotated[int, Field(description="Case-variant seed; the same seed gives the same cases")] = 0,
    ) -> str:
        """The interview cases of one dimension for a seed, as the worker sees them (with its instructions)."""
        cases = build_suite(seed, (dimension,))
        body = "\n\n---\n\n".join(f"[{case.case_id}]\n{case.prompt}" for case in cases)
        return f"{INTERVIEWED_WORKER}\n\n{body}"


def _constant(text: str) -> Callable[[], str]:
    """A zero-argument prompt function returning `text` (one per named instruction)."""

    def prompt() -> str:
        return text

    return prompt
