"""Git, read-only, through the safety policy: the diff of a range, changed files, status.

Every call disables external diff drivers and textconv filters explicitly, so a repository's own
`.git/config` cannot make a read run a program.

A review range compares commits, so only commit-ish endpoints are accepted:
- No `:` at all. `REV:PATH` and `:PATH` name a file's content (`HEAD:.env..HEAD:notes.txt` diffed
  `.env` against `notes.txt`, sending `.env` to the model), `:/TEXT` searches commit messages. A range
  never needs a path, so the whole revision-path syntax is refused rather than only sensitive paths:
  a path check could be walked around (trees, case, symlinked names), a flat rule cannot.
- A blob or tree id as an endpoint (`git ls-files -s` prints blob ids; `git diff BLOB..BLOB` would
  print the blobs) is refused by the command policy, which lets `git diff` and `git show` take
  commits only (`policies/git_scope.py`).

The command runner cuts sensitive files' sections out of git's output and leaves a
`[withheld: ...]` note in their place; `diff_range` drops the notes (a diff line never starts with
`[`) and names those files in `RangeDiff.withheld`.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from agent_orchestrator.errors import AOError, UsageError
from agent_orchestrator.policies.runner import CommandResult
from agent_orchestrator.policies.safety import SafetyPolicy

# A revision: a name, hash, `~N`, `^N`, `@{...}` or `^{...}`; a dot never follows another dot.
_REF = r"[A-Za-z0-9_](?:[A-Za-z0-9_/@^~{}+-]|\.(?!\.))*"
_RANGE = re.compile(rf"(?P<left>{_REF})?(?P<dots>\.\.\.?)(?P<right>{_REF})?")
_SINGLE = re.compile(_REF)
_SAFE_DIFF = ("--no-ext-diff", "--no-textconv", "--no-color")
_EXAMPLES = "e.g. 'main...HEAD', 'HEAD~3..HEAD' or 'v1.2'"
_RUNNER_NOTE = "[withheld: "


class RangeDiff(BaseModel):
    """A range's unified diff, and the sensitive files whose sections the command runner withheld from it."""

    text: str
    withheld: list[str]


class GitStatus(BaseModel):
    """`git status` in porcelain form: the branch line and one entry per changed path."""

    branch: str | None
    entries: list[str]
    clean: bool


def check_range(text: str) -> str:
    """A revision range such as `main...HEAD`, `HEAD~3..HEAD` or `v1.2`; never a path, never option-like."""
    candidate = text.strip()
    if ":" in candidate:
        raise UsageError(
            f"{text!r} uses revision-path syntax (REV:PATH, :PATH or :/TEXT), which a review range refuses: "
            f"it would read file contents (such as .env) instead of comparing commits. Give commits, "
            f"branches or tags, {_EXAMPLES}; to review particular files use `files`"
        )
    match = _RANGE.fullmatch(candidate)
    if not (_SINGLE.fullmatch(candidate) or (match and (match["left"] or match["right"]))):
        raise UsageError(f"{text!r} is not a git revision range (expected {_EXAMPLES})")
    return candidate


async def _git(safety: SafetyPolicy, *args: str) -> str:
    return (await _git_result(safety, *args)).stdout


async def _git_result(safety: SafetyPolicy, *args: str) -> CommandResult:
    result = await safety.run_git_read(args)
    if result.timed_out:
        raise AOError(f"git {args[0]} timed out")
    if result.exit_code != 0:
        message = (result.stderr or result.stdout).strip().splitlines()[:3]
        raise AOError(f"git {args[0]} failed (exit {result.exit_code}): {' '.join(message) or 'no output'}")
    if result.truncated:
        raise AOError(f"git {args[0]} output exceeded the output cap; narrow the range or the paths")
    return result


async def diff_range(safety: SafetyPolicy, revision_range: str, paths: tuple[str, ...] = ()) -> RangeDiff:
    """The unified diff of a range (rename detection on), optionally limited to paths."""
    spec = check_range(revision_range)
    result = await _git_result(safety, "diff", *_SAFE_DIFF, "-M", spec, "--", *paths)
    lines = result.stdout.splitlines(keepends=True)
    text = "".join(line for line in lines if not line.startswith(_RUNNER_NOTE))
    return RangeDiff(text=text, withheld=list(result.withheld))


async def changed_files(safety: SafetyPolicy, revision_range: str) -> list[str]:
    """Paths changed in a range, one per entry."""
    spec = check_range(revision_range)
    output = await _git(safety, "diff", *_SAFE_DIFF, "--name-only", "-M", spec, "--")
    return [line for line in output.splitlines() if line]


async def status(safety: SafetyPolicy) -> GitStatus:
    """The working tree's status (`git status --porcelain=v1 --branch`)."""
    output = await _git(safety, "status", "--porcelain=v1", "--branch")
    lines = output.splitlines()
    branch = lines[0][3:] if lines and lines[0].startswith("## ") else None
    entries = [line for line in lines if not line.startswith("## ")]
    return GitStatus(branch=branch, entries=entries, clean=not entries)
