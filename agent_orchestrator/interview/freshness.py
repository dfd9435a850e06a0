"""Whether a saved profile can still be trusted: not expired, same suite, same endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.profile import SUITE_VERSION, WorkerCapabilityProfile
from agent_orchestrator.errors import AOError
from agent_orchestrator.providers import resolve_spec


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


def freshness(settings: Settings, profile: WorkerCapabilityProfile) -> list[str]:
    """Why a saved profile is stale now, against the endpoint its provider and model resolve to today."""
    try:
        current = resolve_spec(profile.provider, profile.model, settings, "worker").fingerprint()
    except AOError:
        current = None
    return stale_reasons(profile, now=datetime.now(UTC), current_fingerprint=current)
