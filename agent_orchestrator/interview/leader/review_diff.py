"""A generated diff shown to the leader as the review workflow shows one part of a real diff.

Each file is rendered as the review workflow renders it (`repo.diff_render.render_file`: a `file:`
header, every line's new-file number), and the deterministic analysis's counts are stated as facts
(`DiffAnalysis.prompt_facts`). This layer may not import workflows, so the facts line is kept here;
a test holds it to the workflow's output for the same diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.agents.prompts.review import part_prompt
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.repo.diff import ParsedDiff, parse_diff
from agent_orchestrator.repo.diff_render import render_file

SOURCE = "git diff HEAD~1..HEAD"
_TEST_NAME = re.compile(r"^(?:test_.*\.py|.*_test\.py|conftest\.py|.*\.(?:test|spec)\.[cm]?[jt]sx?)$")
_TEST_DIRS = frozenset({"tests", "test", "__tests__"})


@dataclass(frozen=True)
class DiffPart:
    """The whole generated diff as the one part of its review (`agents.prompts.review.DiffPart`)."""

    index: int
    files: tuple[str, ...]
    text: str


def review_prompt(diff_text: str) -> tuple[Prompt, ParsedDiff]:
    """The reviewer's prompt for `diff_text` as one part of one, and the parsed diff its grader cites against."""
    diff = parse_diff(diff_text)
    part = DiffPart(1, tuple(change.path for change in diff.files), "\n".join(map(render_file, diff.files)))
    return part_prompt(part, 1, prompt_facts(diff), SOURCE), diff


def prompt_facts(diff: ParsedDiff) -> str:
    """The analysis's counts as the review workflow states them (numbers only)."""
    tests = "yes" if any(is_test(change.path) for change in diff.files) else "no"
    redact = Redactor()
    secrets = sum(1 for c in diff.files for h in c.hunks for line in h.added if redact(line.text) != line.text)
    return (
        f"The whole change touches {len(diff.files)} file(s), +{diff.added_count} -{diff.removed_count} "
        f"lines; test files changed: {tests}; secret-shaped values in added lines (already reported, "
        f"shown redacted): {secrets}."
    )


def is_test(path: str) -> bool:
    pure = PurePosixPath(path)
    return bool(_TEST_NAME.match(pure.name)) or bool(_TEST_DIRS.intersection(pure.parts[:-1]))
