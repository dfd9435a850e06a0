"""Write policy (dry-run unless three switches agree), unified diffs, and symlink-safe file writes.

A file changes only when the call asked for it, `AO_ALLOW_WRITE` is true and `AO_DRY_RUN` is
false; otherwise the change is previewed as a unified diff and nothing is touched.

Writes go through a temp file in the target's own directory and an atomic `os.replace`, all
relative to a directory fd that `PathPolicy.open_dir` reached without following any symlink. So a
directory swapped for a symlink after the check is refused, and a target file swapped for a
symlink is replaced as a link (the link goes, its target is never written). Missing parent
directories are created one at a time inside the root, so a patch can add files in new folders.
Where the platform lacks no-follow, directory-relative calls (Windows), writes, deletes and the
reads a preview needs are refused (`platform.no_nofollow`) before anything is touched.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agent_orchestrator.errors import NotFoundError, PolicyViolation
from agent_orchestrator.policies.paths import PathPolicy
from agent_orchestrator.policies.platform import require_nofollow_dir_fds

if TYPE_CHECKING:
    from agent_orchestrator.config import Settings

WriteMode = Literal["write", "dry_run"]

NEW_FILE_MODE = 0o644
DIFF_READ_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True)
class WriteDecision:
    """Whether a change is written or only previewed, and the reason in words a user can act on."""

    mode: WriteMode
    reason: str

    @property
    def allowed(self) -> bool:
        return self.mode == "write"


@dataclass(frozen=True)
class WritePolicy:
    """The two configuration switches that, with the call's own request, gate every file write."""

    dry_run: bool = True
    allow_write: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> WritePolicy:
        return cls(dry_run=settings.ao_dry_run, allow_write=settings.ao_allow_write)

    def decide(self, write: bool) -> WriteDecision:
        """Write only if the call asked (`write`), writes are allowed and dry-run is off; else say what blocks.

        Made once per call, at the start of the workflow, and carried down to every write.
        """
        blockers: list[str] = []
        fixes: list[str] = []
        if not write:
            blockers.append("the call did not ask to write")
            fixes.append("ask for the write in the call")
        if self.dry_run:
            blockers.append("AO_DRY_RUN is true")
            fixes.append("set AO_DRY_RUN=false")
        if not self.allow_write:
            blockers.append("AO_ALLOW_WRITE is false")
            fixes.append("set AO_ALLOW_WRITE=true")
        if not blockers:
            return WriteDecision(
                "write", "write: requested by the call, AO_ALLOW_WRITE is true, AO_DRY_RUN is false"
            )
        return WriteDecision("dry_run", f"dry-run: {'; '.join(blockers)} (to write, {' and '.join(fixes)})")


@dataclass(frozen=True)
class WriteResult:
    """One file change: its diff, whether it was written, and why (or why not)."""

    path: str
    mode: WriteMode
    reason: str
    diff: str
    written: bool


def unified_diff(path: str, before: str | None, after: str | None) -> str:
    """A unified diff of one file with `a/` and `b/` prefixes; None is a missing file (`/dev/null`).

    Returns "" when nothing changes. A last line without a newline gets git's
    `\\ No newline at end of file` marker so the patch applies exactly.
    """
    if before == after:
        return ""
    old = "/dev/null" if before is None else f"a/{path}"
    new = "/dev/null" if after is None else f"b/{path}"
    lines = difflib.unified_diff(_lines(before), _lines(after), fromfile=old, tofile=new)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def safe_write_text(policy: PathPolicy, path: str | Path, text: str) -> Path:
    """Create or atomically replace a workspace file with `text` (UTF-8); returns the real path written.

    An existing file keeps its permission bits; a new one gets 0644. A failure at any point leaves
    the old file intact and no temp file behind.
    """
    require_nofollow_dir_fds()
    target = policy.resolve_write(path)
    data = text.encode("utf-8")
    dir_fd = policy.open_dir(target.parent, create=True)
    try:
        mode = _existing_mode(dir_fd, target.name, str(path))
        _replace_in_dir(dir_fd, target.name, data, NEW_FILE_MODE if mode is None else mode)
    finally:
        os.close(dir_fd)
    return target


def safe_delete(policy: PathPolicy, path: str | Path) -> Path:
    """Delete a workspace file (a symlink is removed, never its target); returns the real path deleted."""
    require_nofollow_dir_fds()
    target = policy.resolve_write(path)
    try:
        dir_fd = policy.open_dir(target.parent)
    except NotFoundError:
        raise NotFoundError(f"file {str(path)!r} does not exist") from None
    try:
        if _existing_mode(dir_fd, target.name, str(path)) is None:
            raise NotFoundError(f"file {str(path)!r} does not exist")
        os.unlink(target.name, dir_fd=dir_fd)
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return target


def write_or_preview(
    policy: PathPolicy,
    decision: WriteDecision,
    path: str | Path,
    text: str | None,
    *,
    max_bytes: int = DIFF_READ_LIMIT,
) -> WriteResult:
    """Diff `text` (None deletes the file) against the current content; write only if `decision` allows."""
    require_nofollow_dir_fds()
    target = policy.resolve_write(path)
    relative = policy.relative(target)
    before = _current_text(policy, target, max_bytes)
    if before is None and text is None:
        raise NotFoundError(f"cannot delete {str(path)!r}: it does not exist")
    diff = unified_diff(relative, before, text)
    written = decision.allowed and before != text
    if written and text is None:
        safe_delete(policy, target)
    elif written and text is not None:
        safe_write_text(policy, target, text)
    return WriteResult(path=relative, mode=decision.mode, reason=decision.reason, diff=diff, written=written)


def _lines(text: str | None) -> list[str]:
    """Lines with their `\\n` kept; only `\\n` splits, unlike `str.splitlines` (patch tools agree)."""
    if not text:
        return []
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _current_text(policy: PathPolicy, target: Path, max_bytes: int) -> str | None:
    """The file's current text for a diff, or None when it does not exist; too large to diff is refused."""
    try:
        current = policy.read_text(target, max_bytes=max_bytes)
    except NotFoundError:
        return None
    if current.truncated:
        raise PolicyViolation(
            f"refused {policy.relative(target)!r}: {current.size} bytes is too large to diff (limit {max_bytes})",
            rule="write.too_large",
        )
    return current.text


def _existing_mode(dir_fd: int, name: str, requested: str) -> int | None:
    """Permission bits of the file `name` under `dir_fd`, or None when there is none to keep."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if stat.S_ISREG(info.st_mode):
        return stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        return None  # swapped in after the check: os.replace replaces the link itself
    raise PolicyViolation(f"cannot write {requested!r}: it is not a regular file", rule="path.not_a_file")


def _replace_in_dir(dir_fd: int, name: str, data: bytes, mode: int) -> None:
    """Write `data` to a fresh temp file beside `name`, fsync it, then rename it over `name`."""
    temp_name = f".{name[:200]}.{secrets.token_hex(4)}.ao-tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC  # read after the platform check
    fd = os.open(temp_name, flags, 0o600, dir_fd=dir_fd)
    try:
        try:
            _write_all(fd, data)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp_name, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)


def _write_all(fd: int, data: bytes) -> None:
    """`os.write` until every byte is written (a single call may write less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
