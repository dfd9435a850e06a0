"""Git reads stay inside the workspace: the repository is inside it, and object arguments are commits.

Why, for each rule:
- The repository's working tree must lie inside the workspace. Git sees the whole repository, not
  the directory it runs in: with the workspace a subdirectory of a larger repository, `git diff`,
  `git log -p` and `HEAD:path` (relative to the repository's top) read files outside it, and a
  repository's `core.worktree` can point the working tree anywhere. `git rev-parse --show-toplevel`
  reports both, so one check covers them; set the workspace root to the repository's top instead.
- `git show` and `git diff` take commits only (a range's ends included), checked with
  `git rev-parse --verify X^{commit}`. A bare object id or a tag can name a blob, whose content git
  prints with no file name, so the output filter could not tell it came from `.env`
  (`git ls-files -s` prints every file's blob id). `REV:PATH` arguments are not commits: their
  path is checked by name in the command policy, so they are left to it.
Both checks run git plumbing that reads config but runs no program.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.command_grammar import NamedValue
from agent_orchestrator.policies.git_config import GitReadError, git_output

RULE = "command.git_scope"
_OBJECT_READERS = frozenset({"show", "diff"})
_RANGE = re.compile(r"\.\.\.?")
_PARENT_SHORTHAND = re.compile(r"\^(?:!|@|-\d*)$")


async def check_git_scope(
    git: str, argv: Sequence[str], values: Sequence[NamedValue], cwd: Path, workspace: Path, env: Mapping[str, str]
) -> None:
    """Refuse a git command whose repository reaches outside `workspace` or that names a non-commit object."""
    top = await _toplevel(git, cwd, env)
    if top is None:
        return  # not a repository: git says so itself
    root = os.path.realpath(workspace)
    if top != root and not top.startswith(root.rstrip(os.sep) + os.sep):
        raise PolicyViolation(
            f"git refused [{RULE}]: the repository's working tree {top!r} is not inside the workspace "
            f"{root!r}, so git would read files outside it; set AO_WORKSPACE_ROOT to the repository's top "
            "(or remove a core.worktree setting that points elsewhere)",
            rule=RULE,
        )
    subcommand = next((word for word in argv[1:] if not word.startswith("-")), None)
    if subcommand in _OBJECT_READERS:
        for revision in _revisions(argv, values, cwd):
            await _require_commit(git, revision, cwd, env)


async def _toplevel(git: str, cwd: Path, env: Mapping[str, str]) -> str | None:
    try:
        output = await git_output(git, ("rev-parse", "--show-toplevel"), cwd, env, "find the repository")
    except GitReadError:
        return None
    text = output.decode("utf-8", "surrogateescape").strip()
    return os.path.realpath(text) if text else None


def _revisions(argv: Sequence[str], values: Sequence[NamedValue], cwd: Path) -> list[str]:
    """The revision ends a `git show`/`git diff` names: positional words before `--` that are not files."""
    end = argv.index("--") if "--" in argv else len(argv)
    before = set(argv[2:end])
    standalone = [v.value for v in values if v.kind == "path" and v.word == v.value and v.value in before]
    revisions: list[str] = []
    for word in dict.fromkeys(standalone):
        if ":" in word or os.path.lexists(cwd / word):
            continue  # `REV:PATH` is checked by its path; an existing file is a path for git diff
        for piece in _RANGE.split(word):
            if piece:
                revisions.append(_PARENT_SHORTHAND.sub("", piece))
    return revisions


async def _require_commit(git: str, revision: str, cwd: Path, env: Mapping[str, str]) -> None:
    args = ("rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    try:
        await git_output(git, args, cwd, env, f"check {revision!r}")
    except GitReadError:
        raise PolicyViolation(
            f"git refused [{RULE}]: {revision!r} is not a commit; git show and git diff take commits, branches "
            "or tags of commits (a blob or tree id would print a file's content without its name)",
            rule=RULE,
        ) from None
