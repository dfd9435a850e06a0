"""The services one server instance works with: settings, the model factory, stores, redaction.

Built once per server; tests build it with a scripted model factory and a temporary state dir.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_orchestrator.config import Settings, load_settings
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.policies.safety import SafetyPolicy
from agent_orchestrator.providers import ModelFactory, build_model
from agent_orchestrator.store.audit import AuditLog
from agent_orchestrator.store.profiles import ProfileStore
from agent_orchestrator.store.runs import RunStore


@dataclass(frozen=True)
class Runtime:
    """Everything a workflow needs that is not its own input."""

    settings: Settings
    model_factory: ModelFactory
    redact: Redactor
    profiles: ProfileStore
    safety: SafetyPolicy
    runs: RunStore
    audit: AuditLog

    @classmethod
    def create(cls, settings: Settings | None = None, model_factory: ModelFactory | None = None) -> Runtime:
        settings = settings or load_settings()
        redact = Redactor(settings.secret_values())
        audit = AuditLog(
            settings.ao_state_dir,
            redact,
            retention_days=settings.ao_audit_retention_days,
            max_rows=settings.ao_audit_max_rows,
        )
        return cls(
            settings=settings,
            model_factory=model_factory or build_model,
            redact=redact,
            profiles=ProfileStore(settings.ao_state_dir),
            safety=SafetyPolicy.create(settings, redact, audit),
            audit=audit,
            runs=RunStore(settings.ao_state_dir, redact),
        )
