"""The one place every workflow and MCP tool goes through to read, run or write: policy plus audit.

Each decision (allowed, refused, dry-run, executed) is recorded in the audit log with what was
asked and why, redacted. Nothing here trusts repository content: it only ever reaches a model or
a caller as data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import PolicyViolation
from agent_orchestrator.policies.commands import CommandPolicy, ParsedCommand
from agent_orchestrator.policies.paths import FileRead, PathPolicy
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.runner import CommandResult, run_command
from agent_orchestrator.policies.untrusted import untrusted_block
from agent_orchestrator.policies.writes import WritePolicy, WriteResult, write_or_preview
from agent_orchestrator.store.audit import AuditLog

# Path rules that also bind command arguments: `rg KEY .env` must not read what a tool may not.
SENSITIVE_PATH_RULES = frozenset({"path.env_file", "path.secret_file", "path.git_internals", "path.state_dir"})


@dataclass(frozen=True)
class SafetyPolicy:
    """Paths, commands and writes for one workspace root, every decision audited."""

    paths: PathPolicy
    commands: CommandPolicy
    writes: WritePolicy
    audit: AuditLog
    redact: Redactor

    @classmethod
    def create(cls, settings: Settings, redact: Redactor) -> SafetyPolicy:
        audit = AuditLog(
            settings.ao_state_dir,
            redact,
            retention_days=settings.ao_audit_retention_days,
            max_rows=settings.ao_audit_max_rows,
        )
        return cls(
            paths=PathPolicy(settings.ao_workspace_root.resolve(), state_dir_name=settings.ao_state_dir.name),
            commands=CommandPolicy(settings.ao_allowed_commands or None),
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

    def check_command(self, command: str | Sequence[str], *, cwd: Path | None = None) -> ParsedCommand:
        """Parse and check a command for running in `cwd` (the root by default); refusals are audited."""
        shown = command if isinstance(command, str) else " ".join(command)
        try:
            parsed = self.commands.check(command, cwd=cwd or self.root)
            self._check_sensitive_arguments(parsed)
        except PolicyViolation as exc:
            self.audit.record("command", shown, "refused", str(exc), rule=exc.rule)
            raise
        return parsed

    async def run(
        self, command: str | Sequence[str], *, cwd: Path | None = None, timeout_s: float = 120.0
    ) -> CommandResult:
        """Check, run and audit one command; refused commands raise `PolicyViolation` and never start."""
        workdir = cwd or self.root
        parsed = self.check_command(command, cwd=workdir)
        result = await run_command(parsed, cwd=workdir, timeout_s=timeout_s, redact=self.redact)
        outcome = "timed out" if result.timed_out else f"exit code {result.exit_code}"
        self.audit.record(
            "command",
            " ".join(parsed.argv),
            "executed",
            outcome,
            rule=parsed.rule,
            details={"duration_ms": result.duration_ms, "cwd": str(workdir)},
        )
        return result

    def write(self, path: str | Path, text: str | None, *, requested: bool) -> WriteResult:
        """Write (or, in dry-run, only diff) one file; the decision and its reason are audited."""
        decision = self.writes.decide(requested)
        try:
            result = write_or_preview(self.paths, decision, path, text)
        except PolicyViolation as exc:
            self.audit.record("write", str(path), "refused", str(exc), rule=exc.rule)
            raise
        self.audit.record("write", result.path, "allowed" if result.written else "dry_run", decision.reason)
        return result

    def as_model_data(self, kind: str, text: str, *, source: str | None = None) -> str:
        """Repository content for a model: redacted, then fenced as untrusted data."""
        return untrusted_block(kind, self.redact(text), source=source)

    def _check_sensitive_arguments(self, parsed: ParsedCommand) -> None:
        for word in parsed.argv[1:]:
            value = word.partition("=")[2] if word.startswith("-") else word
            if not value:
                continue
            try:
                self.paths.resolve_read(value)
            except PolicyViolation as exc:
                if exc.rule in SENSITIVE_PATH_RULES:
                    raise PolicyViolation(f"argument {word!r}: {exc}", rule="command.sensitive_path") from None
