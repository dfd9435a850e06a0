"""Apply a unified diff to file contents strictly, and check it with `git apply --check` in a scratch copy.

Hunks come from `repo.diff.parse_diff` (unidiff). Every context and removed line must match the
current file exactly (line endings aside) at the hunk's stated position or at most
`MAX_OFFSET` lines away; there is no fuzz, so a hunk whose context has drifted is refused, never
guessed. Modified, added and deleted text files are supported; renames, copies, binary and
mode-only changes are refused with the reason. Nothing here touches the workspace.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from unidiff.constants import DEV_NULL, LINE_TYPE_ADDED, LINE_TYPE_CONTEXT, LINE_TYPE_NO_NEWLINE, LINE_TYPE_REMOVED
from unidiff.patch import Hunk as UnidiffHunk
from unidiff.patch import PatchSet

from agent_orchestrator.errors import AOError, NotFoundError, PolicyViolation
from agent_orchestrator.policies.commands import CommandPolicy
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.runner import run_command
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.repo.diff import FileChange, Hunk, parse_diff

MAX_PATCH_FILE_BYTES = 2_000_000
MAX_OFFSET = 20  # lines a hunk may sit away from its stated position when its context matches exactly
PatchedStatus = Literal["added", "deleted", "modified"]
GitCheckStatus = Literal["passed", "failed", "skipped"]


class PatchRejected(AOError):
    """A patch does not apply exactly to the current files; the message names the file, hunk and line."""


@dataclass(frozen=True)
class FilePatch:
    """One file's change, with whether each hunk's old and new side end without a final newline."""

    change: FileChange
    status: PatchedStatus
    missing_newline: tuple[tuple[bool, bool], ...]  # per hunk: (old side, new side)


@dataclass(frozen=True)
class PatchedFile:
    """One file before and after the patch (None: absent), and each hunk's offset from its stated line."""

    path: str
    status: PatchedStatus
    before: str | None
    after: str | None
    offsets: tuple[int, ...]


@dataclass(frozen=True)
class _Block:
    """A hunk as lines to find and lines to put instead; a new line is text, or an index into `old`."""

    number: int
    header: str
    start: int  # 0-based line where `old` should begin
    old: tuple[str, ...]
    new: tuple[str | int, ...]
    old_ends_file: bool  # the old side's last line has no newline: it must be the file's end
    new_ends_file: bool


def read_patch(text: str) -> list[FilePatch]:
    """Parse a diff for application; refuses renames, copies, binary files and files named twice."""
    diff = parse_diff(text)
    if not diff.files:
        raise PatchRejected("the patch changes no files")
    seen: set[str] = set()
    for change in diff.files:
        _check_applicable(change, seen)
    facts = _raw_facts(text)
    return [
        FilePatch(change, status or "modified", marks)
        for change, (status, marks) in zip(diff.files, facts, strict=True)
    ]


def apply_patch(patches: list[FilePatch], current: Mapping[str, str | None]) -> list[PatchedFile]:
    """Each file's new text (None: deleted) from its `current` text (None: absent), or `PatchRejected`."""
    return [apply_file(patch, current.get(patch.change.path)) for patch in patches]


def apply_file(patch: FilePatch, before: str | None) -> PatchedFile:
    """Apply one file's hunks to `before`; added files must be absent, others present."""
    change, status = patch.change, patch.status
    if status == "added" and before is not None:
        raise PatchRejected(f"{change.path!r}: the patch adds it, but it already exists")
    if status != "added" and before is None:
        raise PatchRejected(f"{change.path!r}: the patch changes it, but it does not exist")
    if status == "modified" and not change.hunks:
        raise PatchRejected(f"{change.path!r}: the patch changes no lines (mode changes are not applied)")
    pairs = zip(change.hunks, patch.missing_newline, strict=True)
    blocks = [_block(hunk, number, marks) for number, (hunk, marks) in enumerate(pairs, start=1)]
    after, offsets = _apply_blocks(change.path, before or "", blocks)
    if status == "deleted" and after != "":
        raise PatchRejected(f"{change.path!r}: the patch deletes it, but its removed lines are not the whole file")
    return PatchedFile(change.path, status, before, None if status == "deleted" else after, offsets)


def _check_applicable(change: FileChange, seen: set[str]) -> None:
    if change.is_binary:
        raise PatchRejected(f"{change.path!r}: binary changes are not applied")
    if change.status in ("renamed", "copied"):
        raise PatchRejected(
            f"{change.path!r}: {change.status} from {change.old_path!r}; renames and copies are not applied "
            "(express them as a deleted and an added file)"
        )
    if change.path in seen:
        raise PatchRejected(f"{change.path!r} appears twice in the patch; give each file one diff")
    seen.add(change.path)


def _raw_facts(text: str) -> list[tuple[PatchedStatus | None, tuple[tuple[bool, bool], ...]]]:
    """Per file, what unidiff's own objects say and `repo.diff` leaves out.

    The status is "added" or "deleted" only when a side is `/dev/null` (else None): the `@@ -0,0`
    heuristic would take emptying a file for deleting it. The markers say, per hunk, whether
    `\\ No newline at end of file` follows its old or new side.
    """
    first_end = text.find("\n")
    if first_end > 0 and text[first_end - 1] == "\r":  # as parse_diff does: a diff saved with CRLF
        text = text.replace("\r\n", "\n")
    facts: list[tuple[PatchedStatus | None, tuple[tuple[bool, bool], ...]]] = []
    for patched in PatchSet(text):
        status: PatchedStatus | None = (
            "added" if patched.source_file == DEV_NULL else "deleted" if patched.target_file == DEV_NULL else None
        )
        facts.append((status, tuple(_markers(hunk) for hunk in patched)))
    return facts


def _markers(hunk: UnidiffHunk) -> tuple[bool, bool]:
    old = new = False
    previous: str | None = None
    for line in hunk:
        if line.line_type == LINE_TYPE_NO_NEWLINE and previous is not None:
            old |= previous in (LINE_TYPE_CONTEXT, LINE_TYPE_REMOVED)
            new |= previous in (LINE_TYPE_CONTEXT, LINE_TYPE_ADDED)
        previous = line.line_type
    return old, new


def _block(hunk: Hunk, number: int, marks: tuple[bool, bool]) -> _Block:
    """Rebuild the hunk's two sides in order from the line numbers `repo.diff` gives each line."""
    header = f"@@ -{hunk.old_start},{hunk.old_length} +{hunk.new_start},{hunk.new_length} @@"
    removed = {line.number: line.text for line in hunk.removed}
    added = {line.number: line.text for line in hunk.added}
    context = iter(line.text for line in hunk.context)
    old: list[str] = []
    context_at: list[int] = []
    try:
        for line_number in range(hunk.old_start, hunk.old_start + hunk.old_length):
            if line_number not in removed:
                context_at.append(len(old))
            old.append(removed[line_number] if line_number in removed else next(context))
        positions = iter(context_at)
        new = [
            added[n] if n in added else next(positions)
            for n in range(hunk.new_start, hunk.new_start + hunk.new_length)
        ]
    except StopIteration:
        raise PatchRejected(f"hunk {number} ({header}): its line counts do not add up") from None
    start = hunk.old_start - 1 if hunk.old_length else hunk.old_start
    return _Block(number, header, start, tuple(old), tuple(new), marks[0], marks[1])


def _apply_blocks(path: str, text: str, blocks: list[_Block]) -> tuple[str, tuple[int, ...]]:
    lines = _split_lines(text)
    eol = _line_ending(lines)
    out: list[str] = []
    offsets: list[int] = []
    cursor = 0
    for block in blocks:
        at = _locate(path, lines, block, cursor)
        offsets.append(at - block.start)
        out += lines[cursor:at]
        out += _new_lines(path, lines, block, at, eol)
        cursor = at + len(block.old)
    out += lines[cursor:]
    return "".join(out), tuple(offsets)


def _locate(path: str, lines: list[str], block: _Block, cursor: int) -> int:
    """Where the block's old side matches exactly: its stated line, else the nearest within `MAX_OFFSET`."""
    if not block.old:
        if not cursor <= block.start <= len(lines):
            raise PatchRejected(
                f"{path!r} hunk {block.number} ({block.header}): line {block.start} is out of range"
            )
        if block.start and not lines[block.start - 1].endswith("\n"):
            raise PatchRejected(
                f"{path!r} hunk {block.number} ({block.header}): inserts after a last line without newline"
            )
        return block.start
    for distance in range(MAX_OFFSET + 1):
        for at in dict.fromkeys((block.start - distance, block.start + distance)):
            if at >= cursor and _matches(lines, block, at):
                return at
    raise PatchRejected(f"{path!r} hunk {block.number} ({block.header}): {_mismatch(lines, block, cursor)}")


def _matches(lines: list[str], block: _Block, at: int) -> bool:
    end = at + len(block.old)
    if end > len(lines) or any(_bare(lines[at + i]) != old for i, old in enumerate(block.old)):
        return False
    last_has_newline = lines[end - 1].endswith("\n")
    if block.old_ends_file:
        return end == len(lines) and not last_has_newline
    return last_has_newline


def _mismatch(lines: list[str], block: _Block, cursor: int) -> str:
    """Why the block does not apply at its stated line, in terms a fixer can act on."""
    at = max(block.start, cursor)
    for index, expected in enumerate(block.old):
        if at + index >= len(lines):
            return f"expected {expected!r} at line {at + index + 1}, but the file has only {len(lines)} lines"
        found = _bare(lines[at + index])
        if found != expected:
            return (
                f"expected {expected!r} at line {at + index + 1}, found {found!r} "
                f"(and no exact match within {MAX_OFFSET} lines)"
            )
    return "the end-of-file newline differs from what the patch expects"


def _new_lines(path: str, lines: list[str], block: _Block, at: int, eol: str) -> list[str]:
    """The block's new side: context lines copied from the file as they are, added lines with its line ending."""
    new = [_ended(lines[at + item], eol) if isinstance(item, int) else item + eol for item in block.new]
    if block.new_ends_file and new:
        if at + len(block.old) != len(lines):
            raise PatchRejected(f"{path!r} hunk {block.number} ({block.header}): it ends the file mid-file")
        new[-1] = _bare(new[-1])
    return new


def _split_lines(text: str) -> list[str]:
    """Lines with their endings kept; only `\\n` splits (as patch tools and `policies.writes` agree)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _ended(line: str, eol: str) -> str:
    return line if line.endswith("\n") else line + eol


def _bare(line: str) -> str:
    return line.removesuffix("\n").removesuffix("\r")


def _line_ending(lines: list[str]) -> str:
    """The file's own line ending for added lines: CRLF when most of its lines use it."""
    crlf = sum(1 for line in lines if line.endswith("\r\n"))
    return "\r\n" if crlf * 2 > len(lines) else "\n"


@dataclass(frozen=True)
class GitApplyCheck:
    """What `git apply --check` said about the patch in a scratch copy of the files."""

    status: GitCheckStatus
    command: str
    detail: str
    exit_code: int | None = None


async def git_apply_check(
    patch: str, files: Mapping[str, str | None], *, redact: Redactor, timeout_s: float = 30.0
) -> GitApplyCheck:
    """Run `git apply --check` on `patch` against a temp copy of `files` (None: absent), never the workspace."""
    scratch = Path(tempfile.mkdtemp(prefix="ao-patch-check-"))
    try:
        if (repository := _enclosing_repository(scratch)) is not None:
            # Inside a repository git applies relative to its top and skips paths outside the cwd.
            detail = f"skipped: the temp dir is inside the git repository {str(repository)!r}"
            return GitApplyCheck("skipped", "git apply --check", detail)
        tree = scratch / "tree"
        _copy_files(tree, files)
        patch_name = f".ao-check-{secrets.token_hex(4)}.patch"
        (tree / patch_name).write_text(patch if patch.endswith("\n") else patch + "\n", encoding="utf-8")
        return await _run_git_check(tree, patch_name, redact, timeout_s)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


async def _run_git_check(tree: Path, patch_name: str, redact: Redactor, timeout_s: float) -> GitApplyCheck:
    argv = ["git", "apply", "--check", patch_name]
    shown = " ".join(argv[:3]) + " <patch>"
    try:
        parsed = CommandPolicy(["git apply --check"]).check(argv, cwd=tree)
    except PolicyViolation as exc:
        return GitApplyCheck("skipped", shown, f"skipped: {exc}")
    result = await run_command(parsed, cwd=tree, timeout_s=timeout_s, redact=redact)
    if result.succeeded:
        return GitApplyCheck("passed", shown, "the patch applies cleanly to a copy of the files", 0)
    output = (result.stderr or result.stdout).strip().replace(patch_name, "<patch>")
    if result.timed_out:
        output = f"timed out after {timeout_s:g} s"
    return GitApplyCheck("failed", shown, output[:2000] or "git apply --check failed", result.exit_code)


def _copy_files(tree: Path, files: Mapping[str, str | None]) -> None:
    tree.mkdir()
    root = os.path.realpath(tree)
    for path, text in files.items():
        if text is None:
            continue
        target = tree / path
        if not os.path.realpath(target).startswith(root + os.sep):
            raise PatchRejected(f"{path!r} does not stay inside the scratch copy")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


def _enclosing_repository(directory: Path) -> Path | None:
    for parent in (directory, *directory.parents):
        if (parent / ".git").exists():
            return parent
    return None


def current_text(safety: SafetyPolicy, path: str) -> str | None:
    """A patch target's whole text now (None when absent); too large or not UTF-8 is refused, never rewritten."""
    try:
        read = safety.read_file(path, max_bytes=MAX_PATCH_FILE_BYTES)
    except NotFoundError:
        return None
    if read.truncated:
        raise PolicyViolation(
            f"{path!r} is over {MAX_PATCH_FILE_BYTES:,} bytes; not patched", rule="patch.too_large"
        )
    if "\ufffd" in read.text:  # decoding replaced bytes: writing it back would not be byte-identical
        raise PolicyViolation(f"{path!r} is not valid UTF-8 text; not patched", rule="patch.not_utf8")
    return read.text
