"""A worker's track record: the leader's verdicts on its outputs, and the figures trust follows.

Each leader-worker step a worker served and the leader judged adds one `JudgedOutput` to the
record in the worker's saved profile. The record keeps a bounded recent history
(`HISTORY_LIMIT` entries, oldest dropped first); its figures (`TrackRecord.figures`) are computed
over the most recent `window` of them, so changing the window setting takes effect on the next
read. A re-interview saves a new profile, and with it an empty record.

An entry is keyed by its run and step: adding one a record already holds (a resumed run recording
again) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

HISTORY_LIMIT = 200  # entries kept per worker; the window setting cannot exceed it

# accepted / rejected: the leader's final verdict; failed: no output accepted within the rounds allowed
# (each round's output failed validation or was sent back for revision).
JudgedVerdict = Literal["accepted", "rejected", "failed"]


class JudgedOutput(BaseModel):
    """One step a worker served, as the leader judged it."""

    at: datetime = Field(description="when the run recorded the verdict")
    run_id: str
    step_id: str
    # A plain string, not `TaskType`: the profile holds this record (no import loop), and an entry of a task
    # type a later version drops must not make the saved profile unreadable.
    task_type: str
    verdict: JudgedVerdict
    rounds: int = Field(ge=1, description="outputs the worker gave for the step")
    revisions: int = Field(default=0, ge=0, description="revisions the leader asked for")
    validation_failures: int = Field(default=0, ge=0, description="outputs that failed the deterministic checks")
    cost_usd: float | None = Field(default=None, description="the worker's calls for the step (None: not priced)")

    @property
    def key(self) -> tuple[str, str]:
        return self.run_id, self.step_id


class Downgrade(BaseModel):
    """Why and when the record moved the worker from active to limited."""

    at: datetime
    reason: str


class TrackFigures(BaseModel):
    """A record's figures over its most recent `window` entries (None: nothing to compute them from)."""

    window: int
    judged_outputs: int
    accepted: int
    acceptance_rate: float | None = Field(description="accepted / judged outputs")
    mean_revisions: float | None = Field(description="revisions the leader asked for, per judged output")
    cost_per_accepted_usd: float | None = Field(
        description="the priced calls' cost of every judged output, per accepted output"
    )


class TrackRecord(BaseModel):
    """The recent judged outputs of one worker (oldest first) and the downgrade they caused, if any."""

    entries: list[JudgedOutput] = Field(default_factory=list[JudgedOutput])
    downgrade: Downgrade | None = None

    def holds(self, run_id: str, step_id: str) -> bool:
        return any(entry.key == (run_id, step_id) for entry in self.entries)

    def adding(self, entries: Iterable[JudgedOutput]) -> TrackRecord:
        """This record with `entries` added (those it already holds skipped), capped to `HISTORY_LIMIT`."""
        seen = {entry.key for entry in self.entries}
        added: list[JudgedOutput] = []
        for entry in entries:
            if entry.key not in seen:
                seen.add(entry.key)
                added.append(entry)
        if not added:
            return self
        kept = [*self.entries, *added][-HISTORY_LIMIT:]
        return self.model_copy(update={"entries": kept})

    def figures(self, window: int) -> TrackFigures:
        recent = self.entries[-window:] if window > 0 else []
        judged = len(recent)
        accepted = sum(1 for entry in recent if entry.verdict == "accepted")
        priced = [entry.cost_usd for entry in recent if entry.cost_usd is not None]
        return TrackFigures(
            window=window,
            judged_outputs=judged,
            accepted=accepted,
            acceptance_rate=accepted / judged if judged else None,
            mean_revisions=sum(entry.revisions for entry in recent) / judged if judged else None,
            cost_per_accepted_usd=sum(priced) / accepted if priced and accepted else None,
        )
