"""What this platform lets the policy do safely, and the refusal when it cannot.

The policy's checks rest on POSIX calls: files are opened one `O_NOFOLLOW | O_DIRECTORY` step at
a time relative to directory fds (`dir_fd=`), and a command's whole process group is killed when it
ends or times out. Where a call is missing (Windows), the operation that needs it is refused with
a `PolicyViolation` naming the platform; it never falls back to an unchecked path. Nothing here
fails at import: each capability is probed with `hasattr`, so the server still starts and answers.

The flags are read at call time (`require_*`), so tests can switch them off; `*_supported()`
re-probe `os` and `signal` as they are now.
"""

from __future__ import annotations

import os
import signal
import sys

from agent_orchestrator.errors import PolicyViolation

_WORKAROUND = "run the orchestrator under WSL or on Linux/macOS"
_DIR_FD_FUNCTIONS = ("open", "mkdir", "stat", "unlink", "rename")


def nofollow_dir_fds_supported() -> bool:
    """Files can be opened without following symlinks, step by step from directory fds."""
    flags = ("O_NOFOLLOW", "O_DIRECTORY", "O_CLOEXEC", "O_NONBLOCK")
    if os.name != "posix" or not all(hasattr(os, flag) for flag in flags) or not hasattr(os, "fchmod"):
        return False
    with_dir_fd = {function.__name__ for function in os.supports_dir_fd}
    return all(name in with_dir_fd for name in _DIR_FD_FUNCTIONS) and os.stat in os.supports_follow_symlinks


def process_groups_supported() -> bool:
    """A command can start in its own session and its whole process group can be killed."""
    return (
        os.name == "posix"
        and sys.platform != "win32"
        and all(hasattr(os, name) for name in ("killpg", "setsid", "getpgid"))
        and hasattr(signal, "SIGKILL")
    )


SUPPORTS_NOFOLLOW_DIR_FDS: bool = nofollow_dir_fds_supported()
SUPPORTS_PROCESS_GROUPS: bool = process_groups_supported()

NOFOLLOW_REFUSAL = (
    f"this platform ({sys.platform}) cannot open files without following symlinks, so reads and writes "
    f"of workspace files are refused; {_WORKAROUND}"
)
PROCESS_GROUP_REFUSAL = (
    f"this platform ({sys.platform}) has no process groups, so a timeout could not kill what a command "
    f"starts; commands are refused; {_WORKAROUND}"
)


def require_nofollow_dir_fds() -> None:
    """Refuse (`platform.no_nofollow`) unless no-follow, directory-relative opens are available."""
    if not SUPPORTS_NOFOLLOW_DIR_FDS:
        raise PolicyViolation(NOFOLLOW_REFUSAL, rule="platform.no_nofollow")


def require_process_groups() -> None:
    """Refuse (`platform.no_process_groups`) unless commands can be killed as a whole group."""
    if not SUPPORTS_PROCESS_GROUPS:
        raise PolicyViolation(PROCESS_GROUP_REFUSAL, rule="platform.no_process_groups")


def capabilities() -> dict[str, bool]:
    """Each capability and whether this platform has it (for diagnostics)."""
    return {
        "SUPPORTS_NOFOLLOW_DIR_FDS": SUPPORTS_NOFOLLOW_DIR_FDS,
        "SUPPORTS_PROCESS_GROUPS": SUPPORTS_PROCESS_GROUPS,
    }
