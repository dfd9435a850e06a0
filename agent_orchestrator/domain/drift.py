"""Drift canaries: a handful of fresh interview cases a worker answers before it gets work again.

A profile says how a worker did when it was interviewed; the endpoint behind it can change (a new
model version, a new quantisation, a proxy in front). Once a profile is older than the canary age
(`AO_DRIFT_CANARY_HOURS`), the first run that routes work to the worker asks it a few newly seeded
cases first. The outcome is saved in the profile: a pass resets the clock, a failure blocks the
worker until it is interviewed again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

DriftOutcome = Literal["passed", "failed", "not_run"]


class DriftCheck(BaseModel):
    """One canary: when, which cases, what came of it (`not_run`: the endpoint did not answer)."""

    at: datetime
    outcome: DriftOutcome
    seed: int
    cases: list[str] = Field(default=[], description="the case ids asked")
    failed: list[str] = Field(default=[], description="the case ids that failed, with the first failed check")
    detail: str = ""


def last_vetted(evaluated_at: datetime, drift: DriftCheck | None) -> datetime:
    """When the worker last showed what it can do: its interview, or a canary it passed since."""
    if drift is not None and drift.outcome == "passed" and drift.at > evaluated_at:
        return drift.at
    return evaluated_at


def canary_due(evaluated_at: datetime, drift: DriftCheck | None, *, now: datetime, hours: float) -> bool:
    """Whether a canary must run before the worker gets work (`hours` 0: canaries are off)."""
    return hours > 0 and now - last_vetted(evaluated_at, drift) >= timedelta(hours=hours)
