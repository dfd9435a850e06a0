"""Run a command the policy accepted: argv only (no shell), stdin closed, a scrubbed environment, a deadline.

The child gets its own process group, so a timeout (or our cancellation) kills everything it
started, not just the first process. Output is drained to the end but only the first `output_cap`
bytes per stream are kept, so a chatty command cannot exhaust memory; what is kept is redacted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream, Process

from agent_orchestrator.errors import PolicyViolation, UsageError
from agent_orchestrator.policies.commands import ParsedCommand, safe_search_path
from agent_orchestrator.policies.redaction import Redactor

# Inherited from our environment; everything else (keys, tokens, LEADER_/WORKER_/LITELLM_/AO_ config) is dropped.
_KEPT_ENV = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TMPDIR", "TZ", "PYTHONPATH", "VIRTUAL_ENV"}
)
_KEPT_ENV_PREFIXES = ("LC_",)
# Always set: no colours or pagers, no prompts, no opportunistic index writes, no .pyc files in the
# workspace, and git's fsmonitor hook (a program named in repository config) switched off.
_FORCED_ENV: dict[str, str] = {
    "NO_COLOR": "1",
    "CI": "1",
    "TERM": "dumb",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "core.fsmonitor",
    "GIT_CONFIG_VALUE_0": "false",
}
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE", re.IGNORECASE)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Variables that make a program load or run other code: never accepted through `extra_env`.
_INJECTING_PREFIXES = ("LD_", "DYLD_", "GIT_", "LEADER_", "WORKER_", "LITELLM_", "AO_", "MCP_")
_INJECTING_NAMES = frozenset(
    {"PATH", "BASH_ENV", "ENV", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONPATH", "PYTHONINSPECT", "NODE_OPTIONS"}
    | {"PERL5OPT", "PERL5LIB", "RUBYOPT", "RIPGREP_CONFIG_PATH", "EDITOR", "VISUAL"}
)
# Kept beyond the cap before redaction, so a secret straddling the cut is still recognised whole.
_REDACTION_MARGIN = 4096


@dataclass(frozen=True)
class CommandResult:
    """What a command did; `exit_code` is None when it did not exit by itself (timeout, failed to start)."""

    argv: tuple[str, ...]
    exit_code: int | None
    stdout: str  # decoded, redacted, at most `output_cap` bytes of UTF-8
    stderr: str
    timed_out: bool
    truncated: bool  # either stream produced more than `output_cap` bytes
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        """Exited by itself with status 0."""
        return self.exit_code == 0 and not self.timed_out


class _Capture:
    """Keeps the head of a stream and counts the rest, so memory stays bounded while the pipe drains."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._data = bytearray()
        self.total = 0

    @property
    def truncated(self) -> bool:
        return self.total > self._cap

    async def drain(self, stream: ByteReceiveStream | None) -> None:
        if stream is None:
            return
        try:
            async for chunk in stream:
                self.total += len(chunk)
                room = self._cap + _REDACTION_MARGIN - len(self._data)
                if room > 0:
                    self._data += chunk[:room]
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            return

    def text(self, redact: Redactor) -> str:
        """Decode, redact, then cut to the cap (redacting first so a cut never exposes part of a secret)."""
        text = redact(self._data.decode("utf-8", errors="replace"))
        encoded = text.encode("utf-8")
        return encoded[: self._cap].decode("utf-8", errors="ignore") if len(encoded) > self._cap else text


def command_env(
    base: Mapping[str, str], *, workspace: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The child's environment: a few harmless inherited variables, PATH minus the workspace, our overrides."""
    env = {name: value for name, value in base.items() if name in _KEPT_ENV or name.startswith(_KEPT_ENV_PREFIXES)}
    env["PATH"] = safe_search_path(base.get("PATH", os.defpath), workspace)
    for name, value in (extra or {}).items():
        _check_extra_env(name, value)
        env[name] = value
    env.update(_FORCED_ENV)
    return env


def _check_extra_env(name: str, value: str) -> None:
    if not _ENV_NAME.fullmatch(name) or "\0" in value:
        raise PolicyViolation(f"extra environment variable {name!r} is malformed", rule="command.environment")
    if _SECRET_NAME.search(name):
        raise PolicyViolation(
            f"{name!r} looks like a secret; secrets never reach commands", rule="command.environment"
        )
    if name in _INJECTING_NAMES or name.startswith(_INJECTING_PREFIXES) or name in _FORCED_ENV:
        raise PolicyViolation(
            f"{name!r} changes which code a program loads or runs; it cannot be set", rule="command.environment"
        )


async def run_command(
    parsed: ParsedCommand,
    *,
    cwd: Path,
    timeout_s: float = 120.0,
    output_cap: int = 1_000_000,
    redact: Redactor,
    extra_env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run `parsed` in `cwd` and report what happened; a failing or hanging command is a result, not an error."""
    if timeout_s <= 0 or output_cap < 0:
        raise UsageError(f"timeout_s must be > 0 and output_cap >= 0 (got {timeout_s!r}, {output_cap!r})")
    if not os.path.isabs(parsed.program):
        raise PolicyViolation(f"{parsed.program!r} is not an absolute path", rule="command.executable_path")
    env = command_env(os.environ, workspace=os.path.realpath(cwd), extra=extra_env)
    started = time.perf_counter()
    try:
        process = await _spawn(parsed, cwd, env)
    except OSError as exc:
        reason = f"could not start {parsed.argv[0]!r} ({parsed.program!r}) in {str(cwd)!r}: {exc.strerror or exc}"
        return CommandResult(parsed.argv, None, "", redact(reason), False, False, _elapsed_ms(started))
    stdout, stderr = _Capture(output_cap), _Capture(output_cap)
    try:
        exit_code, timed_out = await _supervise(process, stdout, stderr, timeout_s)
    finally:
        # Also on success: background children the command left behind go with it.
        _kill_group(process.pid)
        await process.aclose()
    return CommandResult(
        argv=parsed.argv,
        exit_code=exit_code,
        stdout=stdout.text(redact),
        stderr=stderr.text(redact),
        timed_out=timed_out,
        truncated=stdout.truncated or stderr.truncated,
        duration_ms=_elapsed_ms(started),
    )


async def _spawn(parsed: ParsedCommand, cwd: Path, env: Mapping[str, str]) -> Process:
    """Start the program directly (no shell) in a new session, stdin closed, stdout and stderr piped."""
    if not os.path.isdir(cwd):
        raise FileNotFoundError(errno.ENOENT, "the working directory does not exist")
    return await anyio.open_process(
        [parsed.program, *parsed.argv[1:]],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )


async def _supervise(
    process: Process, stdout: _Capture, stderr: _Capture, timeout_s: float
) -> tuple[int | None, bool]:
    """Drain both pipes until the process exits and closes them, or the deadline passes."""
    with anyio.move_on_after(timeout_s) as deadline:
        async with anyio.create_task_group() as group:
            group.start_soon(stdout.drain, process.stdout)
            group.start_soon(stderr.drain, process.stderr)
            await process.wait()
    return process.returncode, deadline.cancelled_caught


def _kill_group(pgid: int) -> None:
    """SIGKILL the command's whole process group; a read-only command has nothing to save."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
