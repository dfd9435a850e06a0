"""Run a command the policy accepted: argv only (no shell), stdin closed, a scrubbed environment, a deadline.

Everything the command started goes when it ends or times out (or we are cancelled): its process
group, then, on Linux, every process of ours in its session or carrying its `AO_COMMAND_TOKEN` in
the environment, found by a bounded sweep of /proc (stopped first so none can fork away, then
killed). That catches `setsid` grandchildren and double-forked daemons without cgroups. Limit: a
process that both leaves the session and scrubs its environment escapes; without /proc (macOS)
only the group is killed. Without process groups (Windows) a timeout could not kill what a command
starts, so every command is refused (`platform.no_process_groups`) before anything runs.

Git never runs a program the repository's config names (`git_config`). Output is drained to the
end but only the first `output_cap` bytes per stream are kept, so a chatty command cannot exhaust
memory; sensitive files' content is withheld from what is kept (`sensitive_output`), then it is
redacted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream, Process

from agent_orchestrator.errors import PolicyViolation, UsageError
from agent_orchestrator.policies.commands import ParsedCommand, safe_search_path
from agent_orchestrator.policies.git_config import BASELINE, check_git_arguments, is_git, repository_overrides
from agent_orchestrator.policies.git_scope import check_git_scope
from agent_orchestrator.policies.platform import require_process_groups
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.sensitive_output import Filtered, SensitiveReason, withhold_sensitive

# Inherited from our environment; everything else (keys, tokens, LEADER_/WORKER_/LITELLM_/AO_ config) is dropped.
_KEPT_ENV = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TMPDIR", "TZ", "PYTHONPATH", "VIRTUAL_ENV"}
)
_KEPT_ENV_PREFIXES = ("LC_",)
# Always set: no colours or pagers, no prompts, no opportunistic index writes, no .pyc files in the
# workspace; git's config overrides come from `git_config`.
_FORCED_ENV: dict[str, str] = {
    "NO_COLOR": "1",
    "CI": "1",
    "TERM": "dumb",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    **BASELINE.environment(),
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
# Marks every process a command starts (children inherit it), so the sweep finds those that left the group.
TOKEN_VARIABLE = "AO_COMMAND_TOKEN"
_SWEEP_ROUNDS = 16


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
    withheld: tuple[str, ...] = ()  # sensitive files whose content was withheld from the output
    withheld_lines: int = 0
    git_config_neutralised: tuple[str, ...] = ()  # repository git config keys overridden ("key (origin)")

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

    def text(self, redact: Redactor, sensitive: SensitiveReason | None) -> Filtered:
        """Decode, withhold sensitive content, redact, then cut to the cap (never exposing part of a secret)."""
        decoded = self._data.decode("utf-8", errors="replace")
        filtered = withhold_sensitive(decoded, sensitive) if sensitive is not None else Filtered(decoded)
        text = redact(filtered.text)
        encoded = text.encode("utf-8")
        text = encoded[: self._cap].decode("utf-8", errors="ignore") if len(encoded) > self._cap else text
        return Filtered(text, filtered.paths, filtered.lines)


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
    sensitive: SensitiveReason | None = None,
    workspace: Path | None = None,
) -> CommandResult:
    """Run `parsed` in `cwd` and report what happened; a failing or hanging command is a result, not an error.

    `sensitive` (a path's reason to be secret, or None) withholds such files' content from the output.
    A git command whose repository config cannot be neutralised, or (given `workspace`) whose repository
    reaches outside the workspace or that names a non-commit object, raises `PolicyViolation` and never
    starts; so does every command on a platform without process groups.
    """
    if timeout_s <= 0 or output_cap < 0:
        raise UsageError(f"timeout_s must be > 0 and output_cap >= 0 (got {timeout_s!r}, {output_cap!r})")
    require_process_groups()
    if not os.path.isabs(parsed.program):
        raise PolicyViolation(f"{parsed.program!r} is not an absolute path", rule="command.executable_path")
    env = command_env(os.environ, workspace=os.path.realpath(cwd), extra=extra_env)
    token = uuid.uuid4().hex
    env[TOKEN_VARIABLE] = token
    started = time.perf_counter()
    try:
        neutralised = await _neutralise_git_config(parsed, cwd, env, workspace)
        process = await _spawn(parsed, cwd, env)
        started_ticks = stat[1] if (stat := _proc_stat(process.pid)) is not None else 0
    except OSError as exc:
        reason = f"could not start {parsed.argv[0]!r} ({parsed.program!r}) in {str(cwd)!r}: {exc.strerror or exc}"
        return CommandResult(parsed.argv, None, "", redact(reason), False, False, _elapsed_ms(started))
    stdout, stderr = _Capture(output_cap), _Capture(output_cap)
    reap = _Reaper(process.pid, token, started_ticks)
    try:
        exit_code, timed_out = await _supervise(process, stdout, stderr, timeout_s, reap)
    finally:
        reap.once()  # after a timeout or a cancellation; on exit `_supervise` already did
        await process.aclose()
    out, err = stdout.text(redact, sensitive), stderr.text(redact, sensitive)
    note = _neutralised_note(neutralised) if neutralised and exit_code != 0 else ""
    return CommandResult(
        argv=parsed.argv,
        exit_code=exit_code,
        stdout=out.text,
        stderr=err.text + redact(note),
        timed_out=timed_out,
        truncated=stdout.truncated or stderr.truncated,
        duration_ms=_elapsed_ms(started),
        withheld=tuple(dict.fromkeys((*out.paths, *err.paths))),
        withheld_lines=out.lines + err.lines,
        git_config_neutralised=neutralised,
    )


async def _neutralise_git_config(
    parsed: ParsedCommand, cwd: Path, env: dict[str, str], workspace: Path | None
) -> tuple[str, ...]:
    """For git: override every program the repository's config names (in `env`); the keys overridden.

    With `workspace`, also refuse a repository reaching outside it and non-commit objects (`git_scope`).
    """
    if not is_git(parsed.argv, parsed.program) or not os.path.isdir(cwd):
        return ()
    check_git_arguments(parsed.argv)
    overrides = await repository_overrides(parsed.program, cwd, env)
    for name in [name for name in env if name.startswith("GIT_CONFIG_")]:
        del env[name]
    env.update(overrides.environment())
    if workspace is not None:
        await check_git_scope(parsed.program, parsed.argv, parsed.values, cwd, workspace, env)
    return overrides.neutralised


def _neutralised_note(neutralised: tuple[str, ...]) -> str:
    keys = ", ".join(neutralised[:10]) + (", ..." if len(neutralised) > 10 else "")
    return (
        f"\n[ao: the repository's git config names programs, overridden so that none runs: {keys}. "
        "A command that needs one of them (an external diff, a textconv or filter driver) fails instead; "
        "run it yourself outside the orchestrator if you trust that config.]\n"
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
    process: Process, stdout: _Capture, stderr: _Capture, timeout_s: float, reap: Callable[[], None]
) -> tuple[int | None, bool]:
    """Drain both pipes until the process exits, or the deadline passes.

    When it exits, `reap` kills what it left behind, so a background grandchild holding the pipes
    open cannot keep the command running until the deadline; what they hold is still drained.
    """
    with anyio.move_on_after(timeout_s) as deadline:
        async with anyio.create_task_group() as group:
            group.start_soon(stdout.drain, process.stdout)
            group.start_soon(stderr.drain, process.stderr)
            await process.wait()
            reap()
    return process.returncode, deadline.cancelled_caught


@dataclass
class _Reaper:
    """Kills everything a command started, once: also on success, background children go with it."""

    pid: int
    token: str
    started_ticks: int
    done: bool = False

    def __call__(self) -> None:
        _kill_everything(self.pid, self.token, self.started_ticks)
        self.done = True

    def once(self) -> None:
        if not self.done:
            self()


def _kill_everything(pid: int, token: str, started_ticks: int) -> None:
    """Kill the command's process group, then sweep /proc for what left it (session or token)."""
    _kill_group(pid)
    if not os.path.isdir("/proc"):
        return
    marker = f"{TOKEN_VARIABLE}={token}".encode()
    stopped: set[int] = set()
    for _ in range(_SWEEP_ROUNDS):  # stop first: a stopped process cannot fork a child we have not seen
        found = [found for found in _marked_processes(pid, marker, started_ticks) if found not in stopped]
        if not found:
            break
        for found_pid in found:
            _signal(found_pid, signal.SIGSTOP)
        stopped.update(found)
    for found_pid in stopped:
        _signal(found_pid, signal.SIGKILL)


def _marked_processes(session: int, marker: bytes, started_ticks: int) -> list[int]:
    """Processes in the command's session (its id is the child's pid) or carrying its token.

    Only processes started since the command (`/proc/PID/stat` start time) can carry its token, so
    only their environment is read: one small read per process otherwise.
    """
    me = os.getpid()
    found: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me or (stat := _proc_stat(name)) is None:
            continue
        session_id, start = stat
        if session_id == session or (start >= started_ticks and marker in _read_proc(name, "environ")):
            found.append(int(name))
    return found


def _proc_stat(pid: int | str) -> tuple[int, int] | None:
    """(session id, start time in clock ticks since boot) from /proc/PID/stat, or None."""
    try:
        fields = _read_proc(pid, "stat").rsplit(b")", 1)[1].split()
        return int(fields[3]), int(fields[19])
    except (ValueError, IndexError):
        return None


def _read_proc(pid: int | str, name: str) -> bytes:
    """A /proc file's content, or b"" when it is gone or not ours to read."""
    try:
        fd = os.open(f"/proc/{pid}/{name}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return b""
    try:
        chunks: list[bytes] = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def _kill_group(pgid: int) -> None:
    """SIGKILL the command's whole process group; a read-only command has nothing to save."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
