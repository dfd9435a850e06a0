"""Whether a saved profile can still be trusted: not expired, same suite, same endpoint."""

from __future__ import annotations

from datetime import datetime

from agent_orchestrator.interview.profile import SUITE_VERSION, WorkerCapabilityProfile


def stale_reasons(
    profile: WorkerCapabilityProfile, *, now: datetime, current_fingerprint: str | None
) -> list[str]:
    """Why a profile is stale (empty when it is fresh). `current_fingerprint` is None when unknown."""
    reasons: list[str] = []
    if profile.expires_at <= now:
        reasons.append(f"expired at {profile.expires_at.isoformat(timespec='seconds')}")
    if profile.suite_version != SUITE_VERSION:
        reasons.append(f"made with suite {profile.suite_version!r}, current suite is {SUITE_VERSION!r}")
    if current_fingerprint is not None and current_fingerprint != profile.endpoint_fingerprint:
        reasons.append("made against another endpoint than the one configured now")
    return reasons
