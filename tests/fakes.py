"""Small fakes the policy tests share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from agent_orchestrator.policies.safety import AuditDecision, AuditKind


@dataclass
class AuditTrail:
    """An audit sink that keeps (kind, decision, rule) of every decision."""

    records: list[tuple[str, str, str | None]] = field(default_factory=list[tuple[str, str, str | None]])

    def record(
        self,
        kind: AuditKind,
        action: str,
        decision: AuditDecision,
        reason: str,
        *,
        rule: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        self.records.append((kind, decision, rule))
