"""The one place every workflow and MCP tool goes through to read, run or write: policy plus audit.

Each decision (allowed, refused, dry-run, executed) is recorded in the audit log with what was
asked and why, redacted. Nothing here trusts repository content: it only ever reaches a model or
a caller as data.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.command_grammar import NamedValue
from agent_orchestrator.policies.commands import DEFAULT_ALLOWED_COMMANDS, CommandPolicy, ParsedCommand
from agent_orchestrator.policies.paths import FileRead, PathPolicy
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.runner import CommandResult, run_command
from agent_orchestrator.policies.sensitive_output import unattributed_search
from agent_orchestrator.policies.writes import WriteDecision, WritePolicy, WriteResult, write_or_preview

# The git reads the workflows make themselves (repo/git.py): range diffs, changed files, status.
WORKFLOW_GIT_READS = ("git diff", "git status")
AuditKind = Literal["command", "path", "write"]
AuditDecision = Literal["allowed", "refused", "dry_run", "executed"]


class AuditSink(Protocol):
    """Where decisions are recorded (`store.audit.AuditLog`, wired by the runtime): redacts and keeps them."""

    def record(
        self,
        kind: AuditKind,
        action: str,
        decision: AuditDecision,
        reason: str,
        *,
        rule: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None: ...


@dataclass(frozen=True)
class SafetyPolicy:
    """Paths, commands and writes for one workspace root, every decision audited."""

    paths: PathPolicy
    commands: CommandPolicy  # what callers may run: the read-only defaults plus AO_ALLOWED_COMMANDS
    git_reads: CommandPolicy  # the workflows' own git reads (`run_git_read`), whatever the user allows
    writes: WritePolicy
    audit: AuditSink
    redact: Redactor

    @classmethod
    def create(cls, settings: Settings, redact: Redactor, audit: AuditSink) -> SafetyPolicy:
        """The policy for the configured workspace, recording into `audit`."""
        return cls(
            paths=PathPolicy(settings.ao_workspace_root.resolve(), state_dir_name=settings.ao_state_dir.name),
            commands=CommandPolicy([*DEFAULT_ALLOWED_COMMANDS, *(settings.ao_allowed_commands or ())]),
            git_reads=CommandPolicy(WORKFLOW_GIT_READS),
            writes=WritePolicy.from_settings(settings),
            audit=audit,
            redact=redact,
        )

    @property
    def root(self) -> Path:
        return self.paths.root

    def read_file(self, path: str | Path, *, max_bytes: int) -> FileRead:
        """Read a workspace file through the path policy (refusals are audited)."""
        try:
            return self.paths.read_text(path, max_bytes=max_bytes)
        except PolicyViolation as exc:
            self.audit.record("path", f"read {path}", "refused", str(exc), rule=exc.rule)
            raise

    def resolve_dir(self, path: str | Path | None) -> Path:
        """A directory inside the workspace (the root when None), for scopes and working dirs."""
        if path in (None, "", "."):
            return self.root
        try:
            resolved = self.paths.resolve_read(path)
        except PolicyViolation as exc:
            self.audit.record("path", f"scope {path}", "refused", str(exc), rule=exc.rule)
            raise
        if not resolved.is_dir():
            raise PolicyViolation(f"{str(path)!r} is not a directory in the workspace", rule="path.not_a_dir")
        return resolved

    def check_command(
        self, command: str | Sequence[str], *, cwd: Path | None = None, allowlist: CommandPolicy | None = None
    ) -> ParsedCommand:
        """Parse and check a command for running in `cwd` (the root by default); refusals are audited."""
        shown = command if isinstance(command, str) else " ".join(command)
        try:
            parsed = (allowlist or self.commands).check(command, cwd=cwd or self.root)
            self._check_sensitive_arguments(parsed, cwd or self.root)
        except PolicyViolation as exc:
            self.audit.record("command", shown, "refused", str(exc), rule=exc.rule)
            raise
        return parsed

    async def run(
        self, command: str | Sequence[str], *, cwd: Path | None = None, timeout_s: float = 120.0
    ) -> CommandResult:
        """Check, run and audit one command; refused commands raise `PolicyViolation` and never start.

        Sensitive files' content is withheld from the output (searches that would not name each
        line's file are refused), and git runs no program its repository's config names.
        """
        return await self._run(command, cwd=cwd, timeout_s=timeout_s, allowlist=self.commands)

    async def run_git_read(self, args: Sequence[str], *, timeout_s: float = 120.0) -> CommandResult:
        """One of the workflows' own read-only git commands (`WORKFLOW_GIT_READS`), in the workspace root.

        Governed by that narrow list, not by AO_ALLOWED_COMMANDS (which only adds commands for
        callers), so a user's allowlist can neither break the workflows nor widen what they run.
        Every other rule (flags, paths, git config, withheld output) applies as to any command.
        """
        return await self._run(["git", *args], cwd=None, timeout_s=timeout_s, allowlist=self.git_reads)

    async def _run(
        self, command: str | Sequence[str], *, cwd: Path | None, timeout_s: float, allowlist: CommandPolicy
    ) -> CommandResult:
        workdir = cwd or self.root
        parsed = self.check_command(command, cwd=workdir, allowlist=allowlist)
        shown = " ".join(parsed.argv)
        try:
            if (problem := unattributed_search(parsed.argv)) is not None:
                raise PolicyViolation(
                    f"command refused [command.unattributed_output]: {problem}, so sensitive files' content "
                    "could not be withheld from it; keep file names in the output",
                    rule="command.unattributed_output",
                )
            result = await run_command(
                parsed,
                cwd=workdir,
                timeout_s=timeout_s,
                redact=self.redact,
                sensitive=self.paths.sensitive_reason,
                workspace=self.root,
            )
        except PolicyViolation as exc:
            self.audit.record("command", shown, "refused", str(exc), rule=exc.rule)
            raise
        outcome = "timed out" if result.timed_out else f"exit code {result.exit_code}"
        details: dict[str, object] = {"duration_ms": result.duration_ms, "cwd": str(workdir)}
        if result.withheld:
            details.update(withheld=list(result.withheld), withheld_lines=result.withheld_lines)
        if result.git_config_neutralised:
            details["git_config_neutralised"] = list(result.git_config_neutralised)
        self.audit.record("command", shown, "executed", outcome, rule=parsed.rule, details=details)
        return result

    def write(self, path: str | Path, text: str | None, *, decision: WriteDecision) -> WriteResult:
        """Write (or, in dry-run, only diff) one file as `decision` says; the decision and its reason are audited.

        The decision is made once per call (`self.writes.decide(write)`, at the start of a workflow) and
        carried to every file, so one call cannot write some files and preview others.
        """
        try:
            result = write_or_preview(self.paths, decision, path, text)
        except PolicyViolation as exc:
            self.audit.record("write", str(path), "refused", str(exc), rule=exc.rule)
            raise
        self.audit.record("write", result.path, "allowed" if result.written else "dry_run", decision.reason)
        return result

    def _check_sensitive_arguments(self, parsed: ParsedCommand, cwd: Path) -> None:
        """Refuse a command naming a file no tool may read: `.env`, keys, `.git/`, the state dir.

        Checks every value the command policy found (`parsed.values`: words, option values in any
        spelling, git object paths), by the names it spells and by the names of its real path.
        """
        for named in parsed.values:
            reason = self._sensitive_reason(named, cwd)
            if reason is not None:
                shown = (
                    repr(named.word) if named.word == named.value else f"{named.word!r} (names {named.value!r})"
                )
                raise PolicyViolation(
                    f"command refused [command.sensitive_path]: argument {shown}: {reason}; "
                    "commands may not name files the path policy refuses",
                    rule="command.sensitive_path",
                )

    def _sensitive_reason(self, named: NamedValue, cwd: Path) -> str | None:
        if named.kind == "git_path":
            return self.paths.sensitive_reason(named.value)
        root = str(self.root).rstrip(os.sep) + os.sep
        spelled = named.value.removeprefix(root)  # the root's own ancestors are not held against it
        if os.path.isabs(spelled):
            return None  # outside the root: the command policy has refused it already
        # The names as written (`a/../.env`), then the names of the real path (a symlink to `.env`).
        real = os.path.realpath(os.path.join(cwd, named.value))
        inside = real.removeprefix(root) if real.startswith(root) else ""
        return self.paths.sensitive_reason(spelled) or self.paths.sensitive_reason(inside)
