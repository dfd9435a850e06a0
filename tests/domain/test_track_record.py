"""A worker's track record: bounded history, entries counted once, figures over the window."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from saved_profiles import make_profile

from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.domain.track_record import HISTORY_LIMIT, JudgedOutput, JudgedVerdict, TrackRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def judged(
    step_id: str, verdict: JudgedVerdict = "accepted", run_id: str = "run-1", **changes: Any
) -> JudgedOutput:
    fields: dict[str, Any] = {"rounds": 1, "revisions": 0, "cost_usd": None} | changes
    return JudgedOutput(
        at=NOW, run_id=run_id, step_id=step_id, task_type="summarization", verdict=verdict, **fields
    )


def test_an_empty_record_has_no_figures() -> None:
    figures = TrackRecord().figures(20)
    assert (figures.judged_outputs, figures.acceptance_rate, figures.mean_revisions) == (0, None, None)
    assert figures.cost_per_accepted_usd is None


def test_figures_cover_only_the_most_recent_window() -> None:
    record = TrackRecord().adding(
        [
            judged("old", "rejected"),
            judged("a", revisions=2),
            judged("b", "rejected"),
            judged("c", "failed", revisions=1),
        ]
    )
    figures = record.figures(3)
    assert (figures.judged_outputs, figures.accepted) == (3, 1)
    assert figures.acceptance_rate == pytest.approx(1 / 3)
    assert figures.mean_revisions == pytest.approx(1.0)


def test_cost_per_accepted_output_charges_the_rejected_work_too() -> None:
    record = TrackRecord().adding(
        [judged("a", cost_usd=0.02), judged("b", "rejected", cost_usd=0.04), judged("c", cost_usd=None)]
    )
    assert record.figures(20).cost_per_accepted_usd == pytest.approx(0.03)  # (0.02 + 0.04) / 2 accepted


def test_nothing_accepted_has_no_cost_per_accepted_output() -> None:
    record = TrackRecord().adding([judged("a", "rejected", cost_usd=0.5)])
    assert record.figures(20).acceptance_rate == 0 and record.figures(20).cost_per_accepted_usd is None


def test_an_entry_already_held_is_not_counted_again() -> None:
    record = TrackRecord().adding([judged("s1"), judged("s2", "rejected")])
    again = record.adding([judged("s1"), judged("s2", "rejected")])
    assert again is record
    assert len(record.adding([judged("s1", run_id="run-2")]).entries) == 3, "another run's s1 is another output"


def test_the_history_keeps_the_most_recent_entries() -> None:
    record = TrackRecord().adding(judged(f"s{n}") for n in range(HISTORY_LIMIT + 5))
    assert len(record.entries) == HISTORY_LIMIT and record.entries[0].step_id == "s5"


def test_a_profile_saved_before_track_records_still_loads_with_an_empty_one() -> None:
    saved = json.loads(make_profile("litellm:old").model_dump_json())
    del saved["track_record"]
    profile = WorkerCapabilityProfile.model_validate(saved)
    assert profile.track_record == TrackRecord()
