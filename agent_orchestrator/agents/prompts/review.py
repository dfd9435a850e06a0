"""The reviewer's prompt for one part of a diff."""

from __future__ import annotations

from typing import Protocol

from agent_orchestrator.agents.prompts.prompt import Data, Prompt

CITING_GUIDE = (
    "Each diff line starts with its new-file line number and a marker: `+` added, a space for "
    "unchanged context, `-` removed (removed lines have no number and cannot be cited). In each "
    "risk, `file` is the path after `file:` and `line` a number from the left column."
)


class DiffPart(Protocol):
    """A slice of a rendered diff (each line numbered) small enough for one reviewer call."""

    @property
    def index(self) -> int: ...
    @property
    def files(self) -> tuple[str, ...]: ...
    @property
    def text(self) -> str: ...


def part_prompt(part: DiffPart, total: int, facts: str, source: str) -> Prompt:
    """The analysis's facts, how to cite, and the part's diff as data."""
    intro = f"Review part {part.index} of {total} of a code change ({len(part.files)} file(s) in this part)."
    return Prompt.of(intro, facts, CITING_GUIDE).add(Data("diff", part.text, source=source))
