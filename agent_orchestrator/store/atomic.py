"""Crash-safe file replacement, an inter-process lock for read-modify-write, and the private state dir.

Temp files are named after their writer (`.<target>.p<pid>s<start ticks>.<random>.tmp`), so a
writer killed mid-write (kill -9 leaves it no chance to clean up) can be told apart from one still
writing: `remove_stale_temps`, called under the target's lock, removes dead writers' temp files and
unattributed ones older than an hour, and never a live writer's.

The state dir is created 0700; one of ours (it has our `.gitignore`) that others can enter is
tightened to 0700 the first time this process uses it.

POSIX-only calls are probed, never assumed at import: without `fcntl` (Windows) `file_lock`
refuses with a `StoreError` (so saving profiles is refused, never done unlocked); the directory
fsync after a replace and the mode tightening (POSIX permission bits) are skipped where the
platform has no such thing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Generator
from pathlib import Path

from agent_orchestrator.errors import StoreError
from agent_orchestrator.store.process import ProcessIdentity

STALE_TEMP_AGE_S = 3600.0
PRIVATE_DIR = 0o700
_IGNORE_HEADER = "# agent-orchestrator state: not for version control\n"
_secured_dirs: set[Path] = set()


def flock_supported() -> bool:
    """`fcntl.flock` (an advisory whole-file lock between processes) is available here."""
    try:
        return importlib.util.find_spec("fcntl") is not None
    except (ImportError, ValueError):
        return False


SUPPORTS_FLOCK: bool = flock_supported()
# A directory can be opened to fsync it (a rename's durability); not on Windows, where it is skipped.
SUPPORTS_DIR_FSYNC: bool = os.name == "posix"
FLOCK_REFUSAL = (
    f"this platform ({sys.platform}) has no file locks (fcntl), so state files that concurrent "
    "processes update (worker profiles) cannot be saved safely; saving is refused. Run the orchestrator "
    "under WSL or on Linux/macOS"
)


def _temp_prefix(path: Path) -> str:
    me = ProcessIdentity.current()
    ticks = f"s{me.start_ticks}" if me.start_ticks is not None else ""
    return f".{path.name}.p{me.pid}{ticks}."


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file in the same directory, fsync, then rename over the target.

    A crash at any point leaves either the old file or the new one, never a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    if not SUPPORTS_DIR_FSYNC:
        return
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _is_stale(temp: Path, writer: re.Match[str], now: float) -> bool:
    if writer["pid"] is not None:  # the writer is known: stale exactly when it has ended
        ticks = int(writer["ticks"]) if writer["ticks"] is not None else None
        return ProcessIdentity(ProcessIdentity.current().host, int(writer["pid"]), ticks).has_ended()
    try:
        return now - temp.stat().st_mtime > STALE_TEMP_AGE_S
    except FileNotFoundError:
        return False


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove the temp files of `path` whose writers died; call it holding `file_lock(path)`.

    A state dir shared with another host is not supported here: that host's temp files would be
    judged by this host's processes (and advisory locks do not reliably span hosts either).
    """
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:p(?P<pid>\d+)(?:s(?P<ticks>\d+))?\.)?[^/]+\.tmp")
    now = time.time()
    removed: list[Path] = []
    for temp in path.parent.iterdir():
        writer = pattern.fullmatch(temp.name)
        if writer is None or not _is_stale(temp, writer, now):
            continue
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
            removed.append(temp)
    return removed


@contextlib.contextmanager
def file_lock(path: Path) -> Generator[None]:
    """Hold an exclusive advisory lock on `<path>.lock` for the duration of the block.

    Raises `StoreError` before touching anything where the platform has no `fcntl` (Windows).
    """
    if not SUPPORTS_FLOCK:
        raise StoreError(FLOCK_REFUSAL)
    import fcntl  # only here: the module does not exist on Windows

    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def tighten(path: Path, mode: int) -> None:
    """Set `mode` on a file or dir we own if group or others have any access to it; leave others' alone.

    A no-op without POSIX owners and permission bits (Windows: the user profile's ACLs apply).
    """
    if not hasattr(os, "getuid"):
        return
    with contextlib.suppress(FileNotFoundError):
        info = path.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
            path.chmod(mode)


def ensure_state_dir(state_dir: Path) -> None:
    """Create the state dir 0700 with a `.gitignore` of `*`, so state never lands in a commit by accident."""
    if state_dir in _secured_dirs and state_dir.is_dir():
        return
    state_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    ignore = state_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text(_IGNORE_HEADER + "*\n", encoding="utf-8")
    try:
        ours = ignore.read_text(encoding="utf-8", errors="replace").startswith(_IGNORE_HEADER)
    except OSError:
        ours = False
    if ours:
        tighten(state_dir, PRIVATE_DIR)
    _secured_dirs.add(state_dir)
