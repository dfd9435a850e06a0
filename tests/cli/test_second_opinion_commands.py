"""`ao review` and `ao plan` with `--second-opinion`: the marks and counts in text, a bad spec exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from processes import run_ao as run
from workflows.second_opinion_models import (
    BASE_URL,
    PLAN_LEADER,
    PLAN_SECOND,
    SECOND,
    TwoModels,
    reviewing,
)

from agent_orchestrator.cli import commands


def configure(monkeypatch: pytest.MonkeyPatch, models: TwoModels) -> TwoModels:
    monkeypatch.setattr(commands, "MODEL_FACTORY", models.factory())
    monkeypatch.setenv("LEADER_MODEL_PROVIDER", "openai-compatible")
    monkeypatch.setenv("LEADER_MODEL_NAME", "leader")
    monkeypatch.setenv("LEADER_MODEL_BASE_URL", BASE_URL)
    return models


@pytest.fixture
def reviewers(monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> TwoModels:
    return configure(monkeypatch, reviewing(isolated_env))


def test_review_text_marks_each_finding_and_counts_them(
    reviewers: TwoModels, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "review", "--file", "notes.md", "--second-opinion", SECOND)
    assert code == 0, out
    assert "notes.md:1  the first line drops the greeting  (confirmed; second opinion: medium)" in out
    assert f"notes.md:3  the third line has no full stop  (single-source: {SECOND})" in out
    assert f"second opinion  {SECOND}: 1 confirmed, 2 single-source" in out


def test_review_json_carries_the_marks(reviewers: TwoModels, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "review", "--file", "notes.md", "--second-opinion", SECOND, "--json")
    document = json.loads(out)
    assert code == 0 and document["second_opinion"]["outcome"] == "compared"
    assert [risk["agreement"] for risk in document["risks"]] == ["confirmed", "single-source", "single-source"]


@pytest.mark.parametrize("detach", [[], ["--detach"]])
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nowhere:x", "--second-opinion: unknown provider 'nowhere'"),
        ("openai-compatible:leader", "--second-opinion 'openai-compatible:leader' is the leader itself"),
        ("second", "--second-opinion: model id 'second' must look like 'provider:model'"),
    ],
)
def test_a_bad_second_opinion_exits_2_naming_the_flag_and_runs_nothing(
    reviewers: TwoModels, capsys: pytest.CaptureFixture[str], spec: str, message: str, detach: list[str]
) -> None:
    code, _, err = run(capsys, "review", "--file", "notes.md", "--second-opinion", spec, *detach)
    assert code == 2 and message in err and "Traceback" not in err, err
    code, out, _ = run(capsys, "runs", "list", "--json")
    assert json.loads(out)["runs"] == [] and not reviewers.leader.requests


def test_plan_text_shows_the_risks_marks_and_the_steps_compared(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(monkeypatch, TwoModels(PLAN_LEADER, PLAN_SECOND))
    code, out, _ = run(capsys, "plan", "--goal", "migrate the users table", "--second-opinion", SECOND)
    assert code == 0, out
    assert "[high] the migration may lock the users table for minutes  (confirmed; second opinion: medium)" in out
    assert f"[low] disk usage grows with the audit history  (single-source: {SECOND})" in out
    assert f"second opinion  {SECOND}: 1 confirmed, 2 single-source" in out
    assert "steps with a same-type step in its draft: 2 of 3: s1, s2" in out


def test_an_unavailable_second_opinion_says_so_and_the_review_still_exits_0(
    reviewers: TwoModels, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewers.second.answer = lambda request: "not a review"
    code, out, _ = run(capsys, "review", "--file", "notes.md", "--second-opinion", SECOND)
    assert code == 0, out
    assert f"second opinion  {SECOND}: unavailable (" in out and "findings unmarked" in out
    assert "(confirmed" not in out and "(single-source" not in out
