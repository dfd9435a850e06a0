"""The validate workflow: run allowlisted validation commands and return structured results.

Each command goes through the safety policy (refused ones never start); output is capped,
redacted and parsed into errors with the log parsers, so a caller gets `file:line` findings,
not a wall of text. Sensitive files' content is withheld from the output; each outcome names
those files and counts the lines withheld.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from agent_orchestrator.errors import PolicyViolation, UsageError
from agent_orchestrator.policies.runner import CommandResult
from agent_orchestrator.repo.logs import ParsedError, parse_log
from agent_orchestrator.runtime import Runtime

TAIL_CHARS = 4_000
MAX_COMMANDS = 20
_TOOLS_BY_PROGRAM = {
    "pytest": "pytest",
    "ruff": "ruff",
    "mypy": "mypy",
    "pyright": "pyright",
    "tsc": "tsc",
    "eslint": "eslint",
}

CommandStatus = Literal["passed", "failed", "refused", "timed_out", "error"]


class CommandOutcome(BaseModel):
    """What happened to one validation command."""

    command: str
    status: CommandStatus
    exit_code: int | None = None
    rule: str | None = None
    reason: str | None = None
    duration_ms: int = 0
    stdout_tail: str = ""
    stderr_tail: str = ""
    truncated: bool = False
    errors: list[ParsedError] = []
    withheld: list[str] = []  # sensitive files whose content was withheld from the output
    withheld_lines: int = 0


class ValidationReport(BaseModel):
    """All commands' outcomes; `status` is passed only when every command ran and passed."""

    status: Literal["passed", "failed"]
    cwd: str
    results: list[CommandOutcome]


async def validate(
    runtime: Runtime, commands: list[str], *, cwd: str | None = None, timeout_s: float = 300.0
) -> ValidationReport:
    """Run each command in order (they often depend on each other's side effects, such as caches)."""
    if not commands or not any(command.strip() for command in commands):
        raise UsageError("`commands` is empty: give at least one command to validate with, e.g. 'pytest -q'")
    if len(commands) > MAX_COMMANDS:
        raise UsageError(f"at most {MAX_COMMANDS} commands per validation, got {len(commands)}")
    safety = runtime.safety
    workdir = safety.resolve_dir(cwd)
    results = [await _run_one(runtime, command, workdir, timeout_s) for command in commands]
    passed = all(result.status == "passed" for result in results)
    return ValidationReport(
        status="passed" if passed else "failed", cwd=safety.paths.relative(workdir) or ".", results=results
    )


async def _run_one(runtime: Runtime, command: str, workdir: Path, timeout_s: float) -> CommandOutcome:
    try:
        result = await runtime.safety.run(command, cwd=workdir, timeout_s=timeout_s)
    except PolicyViolation as exc:
        return CommandOutcome(command=runtime.redact(command), status="refused", rule=exc.rule, reason=str(exc))
    return _outcome(runtime.redact(command), result)


def _outcome(command: str, result: CommandResult) -> CommandOutcome:
    if result.exit_code is None and not result.timed_out:
        return CommandOutcome(
            command=command, status="error", reason=result.stderr.strip()[:500], duration_ms=result.duration_ms
        )
    status: CommandStatus = "timed_out" if result.timed_out else "passed" if result.exit_code == 0 else "failed"
    program = Path(result.argv[0]).name
    tool = _TOOLS_BY_PROGRAM.get("pytest" if "pytest" in result.argv[:3] else program)
    errors = parse_log(f"{result.stdout}\n{result.stderr}", tool=tool).errors if status != "passed" else []
    return CommandOutcome(
        command=command,
        status=status,
        exit_code=result.exit_code,
        duration_ms=result.duration_ms,
        stdout_tail=result.stdout[-TAIL_CHARS:],
        stderr_tail=result.stderr[-TAIL_CHARS:],
        truncated=result.truncated,
        errors=errors,
        withheld=list(result.withheld),
        withheld_lines=result.withheld_lines,
    )
