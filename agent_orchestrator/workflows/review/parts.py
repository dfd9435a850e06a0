"""Getting a diff to review, cutting it into reviewable parts and reviewing them in parallel.

A review request is one of a git range, a diff file or whole files, all read through the safety
policy. A diff is rendered with each line's new-file number (so a reviewer cites lines it can see), packed
by file into parts under a size budget, and each part goes to the reviewer as fenced untrusted
data. Parts run concurrently under a capacity limit; one failure fails them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic_ai import Agent

from agent_orchestrator.agents.calls import call_agent
from agent_orchestrator.agents.models import ReviewDraft
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.domain.steps import StepSlot, reserve_step
from agent_orchestrator.errors import PolicyViolation, UsageError
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.repo import git
from agent_orchestrator.repo.diff import DEFAULT_MAX_BYTES, DiffLine, FileChange, Hunk, ParsedDiff, parse_diff
from agent_orchestrator.repo.diff_render import render_file, render_header, render_hunk
from agent_orchestrator.workflows.recorder import RunContext

MAX_FILES = 100
CONTINUED = "  ... (hunk continued)\n"


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


def reserve_parts(parts: list[ReviewPart], name: str = "review part") -> dict[int, StepSlot]:
    """One recorded step per part, its id drawn now, in part order, before any call starts (a durable run's
    replay must find them in the same order)."""
    return {part.index: reserve_step(f"{name} {part.index}") for part in parts}


async def review_in_parallel(
    agent: Agent[None, ReviewDraft],
    parts: list[ReviewPart],
    prompt_of: Callable[[ReviewPart], Prompt],
    run: RunContext,
    concurrency: int,
    fallbacks: Sequence[Agent[None, ReviewDraft]] = (),
    *,
    slots: dict[int, StepSlot] | None = None,
    who: str | None = "the reviewer",
) -> list[ReviewDraft]:
    """One reviewer call per part (then its `fallbacks`), concurrently; the first failure cancels the others
    and is re-raised (with a warning naming the part and `who`, unless None).

    Re-raising the reviewer's own exception (not an exception group) lets the run record say
    exactly why it failed, for example invalid output after the retries. `slots`: the parts' steps, when
    the caller drew them (`reserve_parts`).
    """
    drafts: dict[int, ReviewDraft] = {}
    failures: list[tuple[ReviewPart, Exception]] = []
    limiter = anyio.CapacityLimiter(concurrency)
    chosen = reserve_parts(parts) if slots is None else slots

    async def review_one(part: ReviewPart, scope: anyio.CancelScope) -> None:
        async def call() -> ReviewDraft:
            return await call_agent(
                agent,
                prompt_of(part),
                usage=run,
                redact=run.runtime.redact,
                limiter=limiter,
                bounds=run.bounds(),
                fallbacks=fallbacks,
            )

        try:
            drafts[part.index] = await chosen[part.index].run(call)
        except Exception as exc:  # collected and re-raised below, after the siblings stop
            failures.append((part, exc))
            scope.cancel()

    async with anyio.create_task_group() as group:
        for part in parts:
            group.start_soon(review_one, part, group.cancel_scope)
    if failures:
        part, exc = failures[0]
        if who is not None:
            run.warn(f"{who} failed on part {part.index} of {len(parts)} ({files_label(part.files)})")
        raise exc
    return [drafts[part.index] for part in parts]


def files_label(files: tuple[str, ...], shown: int = 3) -> str:
    """`a, b, c and 4 more`."""
    more = f" and {len(files) - shown} more" if len(files) > shown else ""
    return ", ".join(files[:shown]) + more


@dataclass(frozen=True)
class ReviewRequest:
    """Exactly one input kind: a git range, a diff file, or files reviewed whole."""

    diff_range: str | None = None
    diff_file: str | None = None
    files: tuple[str, ...] = ()

    def as_inputs(self) -> dict[str, Any]:
        return {"diff_range": self.diff_range, "diff_file": self.diff_file, "files": list(self.files)}


def review_request(diff_range: str | None, diff_file: str | None, files: list[str] | None) -> ReviewRequest:
    """Check the caller gave exactly one input kind, well-formed."""
    given = [
        f"`{name}`"
        for name, value in (("diff_range", diff_range), ("diff_file", diff_file), ("files", files))
        if value
    ]
    if len(given) != 1:
        shown = f"got {' and '.join(given)}" if given else "got none"
        raise UsageError(f"give exactly one of `diff_range`, `diff_file` or `files` ({shown})")
    if diff_range:
        return ReviewRequest(diff_range=git.check_range(diff_range))
    if diff_file:
        return ReviewRequest(diff_file=diff_file)
    names = tuple(dict.fromkeys(name.strip() for name in files or ()))
    if any(not name for name in names):
        raise UsageError("`files` holds an empty path")
    if len(names) > MAX_FILES:
        raise UsageError(f"at most {MAX_FILES} files per review, got {len(names)}; review a diff instead")
    return ReviewRequest(files=names)


@dataclass(frozen=True)
class LoadedDiff:
    """A request's diff: where it came from, its text, the parsed diff, files git's output already withheld."""

    source: str
    text: str
    diff: ParsedDiff
    withheld: tuple[str, ...] = ()


async def load_diff(
    safety: SafetyPolicy, run: RunContext, limits: ReviewLimits, request: ReviewRequest
) -> LoadedDiff:
    """The request's diff; every read goes through the safety policy."""
    if request.diff_range is not None:
        found = await git.diff_range(safety, request.diff_range)
        source = f"git diff {request.diff_range}"
        return LoadedDiff(source, found.text, parse_diff(found.text), tuple(found.withheld))
    if request.diff_file is not None:
        read = safety.read_file(request.diff_file, max_bytes=DEFAULT_MAX_BYTES)
        if read.truncated:
            raise UsageError(
                f"diff file {request.diff_file!r} is over {DEFAULT_MAX_BYTES:,} bytes; pass a smaller diff"
            )
        return LoadedDiff(f"diff file {safety.paths.relative(read.path)}", read.text, parse_diff(read.text))
    changes = [_file_as_added(safety, run, limits, name) for name in request.files]
    diff = ParsedDiff(files=changes, added_count=sum(c.added_count for c in changes), removed_count=0)
    source = "files " + files_label(tuple(change.path for change in changes))
    return LoadedDiff(source, "\n".join(render_file(change) for change in changes), diff)


def _file_as_added(safety: SafetyPolicy, run: RunContext, limits: ReviewLimits, name: str) -> FileChange:
    """A whole workspace file as a change that adds every line (a binary one as a binary change)."""
    try:
        read = safety.read_file(name, max_bytes=limits.max_file_bytes)
    except PolicyViolation as exc:
        if exc.rule != "path.binary":
            raise
        path = safety.paths.relative(safety.paths.resolve_read(name))
        return added_change(path, [], is_binary=True)
    path = safety.paths.relative(read.path)
    if read.truncated:
        run.warn(f"{path!r} is {read.size:,} bytes; only its first {limits.max_file_bytes:,} were reviewed")
    lines = read.text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return added_change(path, [line.removesuffix("\r") for line in lines])
