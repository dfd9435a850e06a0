"""`ao worker list` and MCP `list_workers` show each worker's track record: acceptance rate, revisions,
cost per accepted output, judged outputs; `—` where there is nothing to show."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastmcp import Client
from processes import run_ao as run
from saved_profiles import make_profile

from agent_orchestrator.domain.track_record import JudgedOutput, JudgedVerdict, TrackRecord
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server


def judged(step_id: str, verdict: JudgedVerdict, revisions: int, cost_usd: float) -> JudgedOutput:
    return JudgedOutput(
        at=datetime.now(UTC),
        run_id="run-1",
        step_id=step_id,
        task_type="summarization",
        verdict=verdict,
        rounds=revisions + 1,
        revisions=revisions,
        cost_usd=cost_usd,
    )


@pytest.fixture
def saved(runtime: Runtime) -> Runtime:
    """Two saved workers: one with 2 of 3 outputs accepted (1 revision, $0.03 spent), one never judged."""
    record = TrackRecord().adding(
        [judged("s1", "accepted", 1, 0.01), judged("s2", "accepted", 0, 0.01), judged("s3", "rejected", 0, 0.01)]
    )
    runtime.profiles.save(make_profile("litellm:judged", track_record=record))
    runtime.profiles.save(make_profile("litellm:new"))
    return runtime


@pytest.mark.usefixtures("saved")
def test_the_worker_list_shows_each_track_record(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "worker", "list")
    header, judged_row, new_row = out.splitlines()
    assert code == 0 and "ACCEPTED  REVISIONS  COST/ACCEPTED" in header
    judged_cells = ["litellm:judged", "limited", "-", "-", "-", "67%", "of", "3", "0.3", "$0.0150"]
    assert judged_row.split()[:10] == judged_cells
    assert new_row.split()[:8] == ["litellm:new", "limited", "-", "-", "-", "—", "—", "—"]


@pytest.mark.usefixtures("saved")
def test_a_worker_profile_shows_its_track_record(capsys: pytest.CaptureFixture[str]) -> None:
    shown = [run(capsys, "worker", "profile", worker)[1] for worker in ("litellm:judged", "litellm:new")]
    assert (
        "track record          67% of 3 accepted, 0.3 revisions per output, $0.0150 per accepted output "
        "(window: the last 20)" in shown[0].splitlines()
    )
    assert "track record          no output judged yet (window: the last 20)" in shown[1].splitlines()


@pytest.mark.usefixtures("saved")
def test_the_worker_list_json_carries_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "worker", "list", "--json")
    workers = {worker["worker_id"]: worker for worker in json.loads(out)["workers"]}
    figures = ("judged_outputs", "acceptance_rate", "mean_revisions", "cost_per_accepted_usd")
    assert code == 0
    assert [workers["litellm:judged"][name] for name in figures] == pytest.approx([3, 2 / 3, 1 / 3, 0.015])
    assert [workers["litellm:new"][name] for name in figures] == [0, None, None, None]


@pytest.mark.anyio
async def test_list_workers_over_mcp_carries_the_figures(saved: Runtime) -> None:
    async with Client(create_server(saved)) as client:
        listed = await client.call_tool("list_workers", {})
    workers: list[dict[str, Any]] = (listed.structured_content or {})["workers"]
    assert [(w["worker_id"], w["judged_outputs"], w["acceptance_rate"]) for w in workers] == [
        ("litellm:judged", 3, pytest.approx(2 / 3)),
        ("litellm:new", 0, None),
    ]


def test_the_window_setting_limits_what_the_figures_cover(
    saved: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AO_TRACK_RECORD_WINDOW", "2")
    monkeypatch.setenv("AO_TRACK_RECORD_MIN_JUDGED", "2")
    code, out, _ = run(capsys, "worker", "list", "--json")
    (judged_worker,) = [w for w in json.loads(out)["workers"] if w["worker_id"] == "litellm:judged"]
    assert code == 0 and (judged_worker["judged_outputs"], judged_worker["acceptance_rate"]) == (2, 0.5)


def test_a_window_smaller_than_the_minimum_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AO_TRACK_RECORD_WINDOW", "3")
    code, _, err = run(capsys, "worker", "list")
    assert code == 2 and "AO_TRACK_RECORD_MIN_JUDGED (5) is more than AO_TRACK_RECORD_WINDOW (3)" in err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AO_TRACK_RECORD_WINDOW", "0"),
        ("AO_TRACK_RECORD_WINDOW", "201"),
        ("AO_TRACK_RECORD_MIN_JUDGED", "-3"),
        ("AO_MIN_ACCEPTANCE_RATE", "1.5"),
        ("AO_MIN_ACCEPTANCE_RATE", "half"),
    ],
)
def test_out_of_range_track_record_settings_are_configuration_errors_naming_them(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "worker", "list")
    assert code == 2 and name in err and "Traceback" not in err and out == ""
