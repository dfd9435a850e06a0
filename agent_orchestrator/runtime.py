"""The services one server instance works with: settings, the model factory, stores, redaction.

Built once per server; tests build it with a scripted model factory and a temporary state dir.
With no workspace (`Settings.workspace_root` is None: AO_WORKSPACE_ROOT unset and the server
started in `/` or the home directory) there is no safety policy: `Runtime.safety` raises a
`UsageError` saying what to set, so tools that read, run or write refuse, and the others work.
A tool's `repository` argument runs its workflow on `for_repository(...)`: the same services with
the safety policy of that repository (one inside AO_ALLOWED_ROOTS or the workspace).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from agent_orchestrator.config import Settings, load_settings
from agent_orchestrator.errors import UsageError
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.providers import ModelFactory, ReusedModels, build_model
from agent_orchestrator.store.audit import AuditLog
from agent_orchestrator.store.calls import CallLedger
from agent_orchestrator.store.profiles import LeaderProfileStore, ProfileStore
from agent_orchestrator.store.runs import RunStore

_REAL_MODELS = ReusedModels(build_model)  # one model (and HTTP client) per endpoint, role and key per process


@dataclass(frozen=True)
class Runtime:
    """Everything a workflow needs that is not its own input."""

    settings: Settings
    model_factory: ModelFactory
    redact: Redactor
    profiles: ProfileStore
    leader_profiles: LeaderProfileStore
    workspace_safety: SafetyPolicy | None  # None: no workspace (see `safety`)
    runs: RunStore
    audit: AuditLog
    ledger: CallLedger

    @property
    def safety(self) -> SafetyPolicy:
        """The workspace's policy; a `UsageError` naming what to set when there is no workspace."""
        if self.workspace_safety is None:
            raise UsageError(self.settings.no_workspace_message())
        return self.workspace_safety

    def for_workspace(self, root: Path) -> Runtime:
        """A copy working on `root` (absolute, already checked): its own safety policy, the same audit log,
        stores, redaction and model factory; state stays in the configured state dir."""
        policy_settings = self.settings.model_copy(update={"ao_workspace_root": root})
        return replace(self, workspace_safety=SafetyPolicy.create(policy_settings, self.redact, self.audit))

    def for_repository(self, repository: str | None) -> Runtime:
        """This runtime (None) or one for a caller's `repository`; a `UsageError` when it is not allowed
        (see `Settings.repository_root`)."""
        if repository is None:
            return self
        root = self.settings.repository_root(repository)
        if self.workspace_safety is not None and self.workspace_safety.root == root:
            return self
        return self.for_workspace(root)

    @classmethod
    def create(cls, settings: Settings | None = None, model_factory: ModelFactory | None = None) -> Runtime:
        settings = settings or load_settings()
        redact = Redactor(settings.secret_values())
        # With AO_DATABASE_URL every store is in that PostgreSQL database (schema `ao`), else in the state dir.
        url = None if settings.ao_database_url is None else settings.ao_database_url.get_secret_value()
        audit = AuditLog(
            settings.ao_state_dir,
            redact,
            retention_days=settings.ao_audit_retention_days,
            max_rows=settings.ao_audit_max_rows,
            database_url=url,
        )
        workspace = settings.workspace_root
        safety = (
            None
            if workspace is None
            else SafetyPolicy.create(settings.model_copy(update={"ao_workspace_root": workspace}), redact, audit)
        )
        return cls(
            settings=settings,
            model_factory=model_factory or _REAL_MODELS,
            redact=redact,
            profiles=ProfileStore(settings.ao_state_dir, database_url=url),
            leader_profiles=LeaderProfileStore(settings.ao_state_dir, database_url=url),
            workspace_safety=safety,
            audit=audit,
            runs=RunStore(settings.ao_state_dir, redact, database_url=url),
            ledger=CallLedger(settings.ao_state_dir, redact, database_url=url),
        )
