"""A generated diff shown to the leader as the review workflow shows one part of a real diff.

The review workflow renders each file under a `file:` header with every line's new-file number
(`workflows.review.parts.render_file`), and states the deterministic analysis's counts as facts
(`DiffAnalysis.prompt_facts`). This layer may not import workflows, so the small rendering and
the facts line are kept here; a test holds them to the workflow's output for the same diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.agents.prompts.review import part_prompt
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.repo.diff import FileChange, Hunk, ParsedDiff, parse_diff

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


def render_header(change: FileChange) -> str:
    return f"file: {change.path} ({change.status}, +{change.added_count} -{change.removed_count})\n"


def render_hunk(hunk: Hunk) -> str:
    """A hunk with each line's new-file number, removed lines unnumbered, in the diff's order."""
    removed = {line.number: line.text for line in hunk.removed}
    added = {line.number: line.text for line in hunk.added}
    context = {line.number: line.text for line in hunk.context}
    ranges = f"-{hunk.old_start},{hunk.old_length} +{hunk.new_start},{hunk.new_length}"
    out = [f"@@ {ranges} @@ {hunk.section_header}".rstrip()]
    old, new = hunk.old_start, hunk.new_start
    while True:
        if old in removed:
            out.append(f"{'':>6} - {removed.pop(old)}")
            old += 1
        elif new in added:
            out.append(f"{new:>6} + {added.pop(new)}")
            new += 1
        elif new in context:
            out.append(f"{new:>6}   {context.pop(new)}")
            old, new = old + 1, new + 1
        else:
            break
    out.extend(f"{number:>6} + {text}" for number, text in sorted(added.items()))
    out.extend(f"{number:>6}   {text}" for number, text in sorted(context.items()))
    return "\n".join(out) + "\n"


def render_file(change: FileChange) -> str:
    return render_header(change) + "".join(render_hunk(hunk) for hunk in change.hunks)
