"""The audit log: redacted, newest first, bounded."""

from __future__ import annotations

from pathlib import Path

from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.store.audit import AuditLog

SECRET = "canary-audit-secret-9876543210"


def test_records_are_redacted_and_newest_first(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, Redactor([SECRET]))
    log.record("command", f"curl -H 'Authorization: {SECRET}'", "refused", "chaining", rule="command.chaining")
    log.record("write", "src/a.py", "dry_run", "AO_DRY_RUN is true", details={"token": SECRET})
    records = log.recent()
    assert [r.kind for r in records] == ["write", "command"]
    assert records[1].rule == "command.chaining" and records[0].decision == "dry_run"
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())  # the WAL file too
    assert SECRET not in stored.decode("utf-8", "replace")


def test_retention_keeps_at_most_max_rows(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, Redactor(), max_rows=100)
    for index in range(130):
        log.record("policy", f"action {index}", "allowed", "ok")
    records = log.recent(limit=1000)
    assert len(records) == 100 and records[0].action == "action 129"


def test_old_records_expire(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, Redactor(), retention_days=1e-9)
    log.record("policy", "first", "allowed", "ok")
    log.record("policy", "second", "allowed", "ok")
    assert [r.action for r in log.recent()] in (["second"], [])
