"""Git, read-only, through the safety policy: the diff of a range, changed files, status.

Every call disables external diff drivers and textconv filters explicitly, so a repository's own
`.git/config` cannot make a read run a program.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from agent_orchestrator.errors import AOError, UsageError
from agent_orchestrator.policies.safety import SafetyPolicy

_REF = r"[A-Za-z0-9_][A-Za-z0-9._/@^~{}:+-]*"
_RANGE = re.compile(rf"{_REF}(?:\.\.\.?(?:{_REF})?)?|\.\.\.?{_REF}")
_SAFE_DIFF = ("--no-ext-diff", "--no-textconv", "--no-color")


class GitStatus(BaseModel):
    """`git status` in porcelain form: the branch line and one entry per changed path."""

    branch: str | None
    entries: list[str]
    clean: bool


def check_range(text: str) -> str:
    """A revision range such as `main...HEAD`, `HEAD~3..HEAD` or `v1.2`; never something option-like."""
    candidate = text.strip()
    if not _RANGE.fullmatch(candidate):
        raise UsageError(f"{text!r} is not a git revision range (expected e.g. 'main...HEAD' or 'HEAD~1..HEAD')")
    return candidate


async def _git(safety: SafetyPolicy, *args: str) -> str:
    result = await safety.run(["git", *args])
    if result.timed_out:
        raise AOError(f"git {args[0]} timed out")
    if result.exit_code != 0:
        message = (result.stderr or result.stdout).strip().splitlines()[:3]
        raise AOError(f"git {args[0]} failed (exit {result.exit_code}): {' '.join(message) or 'no output'}")
    if result.truncated:
        raise AOError(f"git {args[0]} output exceeded the output cap; narrow the range or the paths")
    return result.stdout


async def diff_range(safety: SafetyPolicy, revision_range: str, paths: tuple[str, ...] = ()) -> str:
    """The unified diff of a range (rename detection on), optionally limited to paths."""
    spec = check_range(revision_range)
    return await _git(safety, "diff", *_SAFE_DIFF, "-M", spec, "--", *paths)


async def changed_files(safety: SafetyPolicy, revision_range: str) -> list[str]:
    """Paths changed in a range, one per entry."""
    spec = check_range(revision_range)
    output = await _git(safety, "diff", *_SAFE_DIFF, "--name-only", "-M", spec)
    return [line for line in output.splitlines() if line]


async def status(safety: SafetyPolicy) -> GitStatus:
    """The working tree's status (`git status --porcelain=v1 --branch`)."""
    output = await _git(safety, "status", "--porcelain=v1", "--branch")
    lines = output.splitlines()
    branch = lines[0][3:] if lines and lines[0].startswith("## ") else None
    entries = [line for line in lines if not line.startswith("## ")]
    return GitStatus(branch=branch, entries=entries, clean=not entries)
