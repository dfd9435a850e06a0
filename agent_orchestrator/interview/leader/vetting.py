"""Whether the leader a workflow is about to use was vetted, and for which roles.

A leader is vetted by its saved interview profile (`leader-profiles.json` or the database), made
against the endpoint it resolves to now, with the current suite, within AO_PROFILE_TTL_DAYS. With no
such profile it is `not_interviewed` or `stale`: workflows still run it (its output is checked, not
believed) and say so; a leader whose profile blocks a role the workflow needs is refused unless
AO_ALLOW_BLOCKED_LEADER is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.leader_profile import (
    LEADER_SUITE_VERSION,
    LeaderDimension,
    LeaderProfile,
    LeaderStatus,
)
from agent_orchestrator.domain.status import LeaderVettingStatus
from agent_orchestrator.providers import ModelSpec

VettingStatus = LeaderStatus | LeaderVettingStatus


class LeaderVetting(BaseModel):
    """The leader's standing: its interview status, or why it has none that counts."""

    leader_id: str
    status: VettingStatus
    roles: dict[LeaderDimension, LeaderStatus] = Field(default={}, description="from its interview, if fresh")
    reasons: list[str] = Field(default=[], description="why a role is blocked, or why it is not vetted")
    evaluated_at: datetime | None = None

    @property
    def vetted(self) -> bool:
        return self.status not in ("not_interviewed", "stale")

    def blocked(self, roles: tuple[LeaderDimension, ...]) -> list[LeaderDimension]:
        """The roles among `roles` its interview blocked (none when it was not vetted)."""
        return [role for role in roles if self.vetted and self.roles.get(role) == "blocked"]


def stale_reasons(settings: Settings, spec: ModelSpec, profile: LeaderProfile, now: datetime) -> list[str]:
    reasons: list[str] = []
    expires = profile.evaluated_at + timedelta(days=settings.ao_profile_ttl_days)
    if expires <= now:
        reasons.append(f"its interview expired at {expires.isoformat(timespec='seconds')} (AO_PROFILE_TTL_DAYS)")
    if profile.suite_version != LEADER_SUITE_VERSION:
        reasons.append(f"it was interviewed with suite {profile.suite_version!r}, now {LEADER_SUITE_VERSION!r}")
    if profile.endpoint_fingerprint != spec.fingerprint():
        reasons.append("it was interviewed against another endpoint than the one configured now")
    return reasons


def vet(settings: Settings, spec: ModelSpec, profiles: Mapping[str, LeaderProfile]) -> LeaderVetting:
    """The standing of the leader at `spec`, from the saved leader profiles."""
    profile = profiles.get(spec.model_id)
    if profile is None:
        return LeaderVetting(
            leader_id=spec.model_id,
            status="not_interviewed",
            reasons=["it has no saved interview"],
        )
    if stale := stale_reasons(settings, spec, profile, datetime.now(UTC)):
        return LeaderVetting(
            leader_id=spec.model_id, status="stale", reasons=stale, evaluated_at=profile.evaluated_at
        )
    return LeaderVetting(
        leader_id=spec.model_id,
        status=profile.status,
        roles=profile.roles,
        reasons=profile.reasons,
        evaluated_at=profile.evaluated_at,
    )
