"""Cutting a diff into reviewable parts and reviewing them in parallel.

A diff is rendered with each line's new-file number (so a reviewer cites lines it can see), packed
by file into parts under a size budget, and each part goes to the reviewer as fenced untrusted
data. Parts run concurrently under a capacity limit; one failure fails them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import anyio
from pydantic_ai import Agent

from agent_orchestrator.agents.build import DEFAULT_LIMITS
from agent_orchestrator.agents.models import ReviewDraft
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.repo.diff import DiffLine, FileChange, Hunk, ParsedDiff
from agent_orchestrator.workflows.recorder import RunContext

CONTINUED = "  ... (hunk continued)\n"
CITING_GUIDE = (
    "Each diff line starts with its new-file line number and a marker: `+` added, a space for "
    "unchanged context, `-` removed (removed lines have no number and cannot be cited). In each "
    "risk, `file` is the path after `file:` and `line` a number from the left column."
)


@dataclass(frozen=True)
class ReviewLimits:
    """Sizes that decide when a diff is large and how it is split (tests shrink them)."""

    part_chars: int = 40_000
    part_files: int = 25
    concurrency: int = 4
    max_file_bytes: int = 512_000


@dataclass(frozen=True)
class ReviewPart:
    """A slice of the rendered diff small enough for one reviewer call."""

    index: int
    files: tuple[str, ...]
    text: str


def render_header(change: FileChange) -> str:
    """The `file:` line a reviewer cites paths from, with what happened to the file."""
    what = change.status
    if change.old_path is not None:
        similar = f", {change.similarity}% similar" if change.similarity is not None else ""
        what = f"{change.status} from {change.old_path}{similar}"
    if change.is_binary:
        return f"file: {change.path} ({what}, binary: contents not shown)\n"
    return f"file: {change.path} ({what}, +{change.added_count} -{change.removed_count})\n"


def render_hunk(hunk: Hunk) -> str:
    """A hunk with each line's new-file number, so a reviewer can cite lines exactly.

    The parsed hunk keeps added, removed and context lines apart; walking old and new positions
    together restores their order (git puts removed lines before the added ones that replace them).
    """
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
    # Lines a malformed hunk left out of the walk are still shown: they are citable.
    out.extend(f"{number:>6} + {text}" for number, text in sorted(added.items()))
    out.extend(f"{number:>6}   {text}" for number, text in sorted(context.items()))
    return "\n".join(out) + "\n"


def render_file(change: FileChange) -> str:
    return render_header(change) + "".join(render_hunk(hunk) for hunk in change.hunks)


def split_diff(diff: ParsedDiff, limits: ReviewLimits) -> tuple[list[ReviewPart], list[str]]:
    """Pack files (a file too big for one part: its hunks) into parts under the size budget.

    Returns the parts and warnings about hunks too large to show whole.
    """
    units: list[tuple[str, str]] = []
    warnings: list[str] = []
    for change in diff.files:
        units.extend(_file_units(change, limits, warnings))
    parts: list[ReviewPart] = []
    files: list[str] = []
    texts: list[str] = []
    size = 0
    for path, text in units:
        if texts and (size + len(text) > limits.part_chars or len({*files, path}) > limits.part_files):
            parts.append(ReviewPart(len(parts) + 1, tuple(dict.fromkeys(files)), "\n".join(texts)))
            files, texts, size = [], [], 0
        files.append(path)
        texts.append(text)
        size += len(text) + 1
    if texts:
        parts.append(ReviewPart(len(parts) + 1, tuple(dict.fromkeys(files)), "\n".join(texts)))
    return parts, warnings


def _file_units(change: FileChange, limits: ReviewLimits, warnings: list[str]) -> list[tuple[str, str]]:
    """One unit per file; a file over the budget becomes several, each under its `file:` header."""
    header = render_header(change)
    whole = header + "".join(render_hunk(hunk) for hunk in change.hunks)
    if len(whole) <= limits.part_chars:
        return [(change.path, whole)]
    budget = max(limits.part_chars - len(header), 80)
    units: list[tuple[str, str]] = []
    current = ""
    for piece in _pieces(change, budget, warnings):
        if current and len(current) + len(piece) > budget:
            units.append((change.path, header + current))
            current = ""
        current += piece
    if current:
        units.append((change.path, header + current))
    return units


def _pieces(change: FileChange, budget: int, warnings: list[str]) -> Iterator[str]:
    """Each hunk's rendering; a hunk over the budget in runs of whole lines (an overlong line is cut)."""
    for hunk in change.hunks:
        text = render_hunk(hunk)
        if len(text) <= budget:
            yield text
            continue
        chunk = ""
        for row in text.splitlines(keepends=True):
            if len(row) > budget - len(CONTINUED):
                warnings.append(f"a line of {change.path!r} near line {hunk.new_start} was too long to show whole")
                row = row[: budget - len(CONTINUED) - 1] + "\n"
            if chunk and len(chunk) + len(row) > budget:
                yield chunk
                chunk = CONTINUED
            chunk += row
        yield chunk


def added_change(path: str, lines: list[str], *, is_binary: bool = False) -> FileChange:
    """A whole file as a change that adds every line, so its lines are cited as in a diff."""
    added = [DiffLine(number=number, text=text) for number, text in enumerate(lines, start=1)]
    hunk = Hunk(
        old_start=0,
        old_length=0,
        new_start=1,
        new_length=len(added),
        section_header="",
        added=added,
        removed=[],
        context=[],
    )
    return FileChange(
        path=path,
        old_path=None,
        status="added",
        is_binary=is_binary,
        old_mode=None,
        new_mode=None,
        similarity=None,
        hunks=[hunk] if added else [],
        added_count=len(added),
        removed_count=0,
    )


def part_prompt(part: ReviewPart, total: int, facts: str, source: str, safety: SafetyPolicy) -> str:
    """The reviewer's prompt for one part: the analysis's facts, how to cite, the fenced diff."""
    intro = f"Review part {part.index} of {total} of a code change ({len(part.files)} file(s) in this part)."
    diff = safety.as_model_data("diff", part.text, source=source)
    return f"{intro}\n{facts}\n{CITING_GUIDE}\n\n{diff}"


async def review_in_parallel(
    agent: Agent[None, ReviewDraft],
    parts: list[ReviewPart],
    prompt_of: Callable[[ReviewPart], str],
    run: RunContext,
    concurrency: int,
) -> list[ReviewDraft]:
    """One reviewer call per part, concurrently; the first failure cancels the others and is re-raised.

    Re-raising the reviewer's own exception (not an exception group) lets the run record say
    exactly why it failed, for example invalid output after the retries.
    """
    drafts: dict[int, ReviewDraft] = {}
    failures: list[tuple[ReviewPart, Exception]] = []
    limiter = anyio.CapacityLimiter(concurrency)

    async def review_one(part: ReviewPart, scope: anyio.CancelScope) -> None:
        async with limiter:
            try:
                result = await agent.run(prompt_of(part), usage_limits=DEFAULT_LIMITS)
            except Exception as exc:  # collected and re-raised below, after the siblings stop
                failures.append((part, exc))
                scope.cancel()
                return
        run.usage.add_run(result)
        drafts[part.index] = result.output

    async with anyio.create_task_group() as group:
        for part in parts:
            group.start_soon(review_one, part, group.cancel_scope)
    if failures:
        part, exc = failures[0]
        run.warn(f"the reviewer failed on part {part.index} of {len(parts)} ({files_label(part.files)})")
        raise exc
    return [drafts[part.index] for part in parts]


def files_label(files: tuple[str, ...], shown: int = 3) -> str:
    """`a, b, c and 4 more`."""
    more = f" and {len(files) - shown} more" if len(files) > shown else ""
    return ", ".join(files[:shown]) + more
