"""Which process is doing something (a run, a temp file's write), and whether it has ended.

A pid alone is no identity: pids are reused. On Linux the process start time (field 22 of
`/proc/PID/stat`, clock ticks since boot) and the boot id (`/proc/sys/kernel/random/boot_id`) pin
one process for good, so a reused pid or a reboot is never mistaken for the same process.
Elsewhere only host and pid are known: a process whose pid was reused reads as still alive.
Processes on another host cannot be checked at all; they are never declared gone. Nor are any
where signals are not POSIX (Windows): there `os.kill(pid, 0)` would terminate the process rather
than ask about it, so it is never called.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _stat_fields(pid: int) -> list[str] | None:
    """`/proc/PID/stat` from field 3 (state) on; None when unreadable (no /proc, or no such pid)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    _, closing, rest = raw.rpartition(")")  # field 2, the command name, may hold spaces and ")"
    return rest.split() if closing else None


def start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks since boot (Linux), or None."""
    fields = _stat_fields(pid)
    if fields is None or len(fields) < 20 or not fields[19].isdigit():
        return None
    return int(fields[19])


def boot_id() -> str | None:
    """This boot's id (Linux), or None."""
    try:
        return _BOOT_ID.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def pid_ended(pid: int) -> bool:
    """True only when no process (other than a zombie) has this pid on this host."""
    if pid <= 0:
        return False  # not a process id: cannot tell (and os.kill(0) would mean the process group)
    if os.name != "posix":
        return False  # Windows: os.kill(pid, 0) is TerminateProcess, not a probe; cannot tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists but belongs to another user, or cannot be asked
    fields = _stat_fields(pid)
    return fields is not None and fields[:1] == ["Z"]  # a zombie has ended, only its parent has not reaped it


@dataclass(frozen=True)
class ProcessIdentity:
    """Host, pid and, on Linux, the start time and boot id of one process."""

    host: str
    pid: int
    start_ticks: int | None = None
    boot_id: str | None = None

    @classmethod
    def current(cls) -> ProcessIdentity:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, start_ticks(pid), boot_id())

    def on_this_host(self) -> bool:
        return self.host == socket.gethostname()

    def has_ended(self) -> bool:
        """True when this process has certainly ended; False when it is alive or cannot be checked."""
        if not self.on_this_host():
            return False
        current_boot = boot_id()
        if self.boot_id is not None and current_boot is not None and current_boot != self.boot_id:
            return True  # the machine rebooted since
        if pid_ended(self.pid):
            return True
        ticks = start_ticks(self.pid)
        return self.start_ticks is not None and ticks is not None and ticks != self.start_ticks  # pid reused

    def describe(self) -> str:
        return f"{self.host}, pid {self.pid}"
