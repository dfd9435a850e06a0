"""Degrade, don't discard: a spent budget, a rejected plan, and what `ao` shows and exits with afterwards."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from fault_server import FaultServer, HTTPError, answer_with
from git_repos import BROKEN_CALC, SECRET, broken_commit_repo
from processes import ao_command
from pydantic_ai.exceptions import ModelHTTPError, UnexpectedModelBehavior
from real_models import RealModels, endpoint_settings
from workflows.scripted_agents import Script, step_plan

from agent_orchestrator.agents.budget import BudgetExceeded
from agent_orchestrator.agents.resilience import DeadlineExceeded
from agent_orchestrator.cli.render import run_record
from agent_orchestrator.config import Settings, load_settings
from agent_orchestrator.errors import ConfigError, PolicyViolation
from agent_orchestrator.queries.runs import get_run
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.workflows.failures import model_failed
from agent_orchestrator.workflows.fix_error.graph import fix_error
from agent_orchestrator.workflows.planning import PlanRejected, plan
from agent_orchestrator.workflows.review.graph import review

pytestmark = pytest.mark.anyio


@pytest.fixture
def workspace(isolated_env: Path) -> Path:
    """A repository whose last commit adds a secret and breaks calc.py; a type checker's log naming calc.py."""
    return broken_commit_repo(isolated_env)


def budget_runtime(server: FaultServer, models: RealModels) -> Runtime:
    """A leader at `server` whose run may send one request: a retry is refused by the budget."""
    return Runtime.create(load_settings(**endpoint_settings(server), ao_run_max_requests=1), models)


async def test_a_spent_budget_ends_the_review_partial_with_its_analysis(
    workspace: Path, real_models: RealModels
) -> None:
    with FaultServer(default=HTTPError(503)) as server:
        runtime = budget_runtime(server, real_models)
        result = await review(runtime, diff_range="HEAD~1..HEAD")
        assert server.count == 1, "the retry was refused before it was sent"
    assert result.status == "partial" and result.failure is not None
    assert result.failure.cause.startswith("budget exceeded: ") and "AO_RUN_MAX_REQUESTS" in result.failure.cause
    assert [risk.file for risk in result.risks] == ["settings.py"]
    view = get_run(runtime, result.run_id)
    assert view.status == "partial" and view.failure == result.failure.cause


async def test_a_spent_budget_fails_the_fix_with_its_errors_and_nothing_written(
    workspace: Path, real_models: RealModels
) -> None:
    with FaultServer(default=HTTPError(503)) as server:
        runtime = budget_runtime(server, real_models)
        result = await fix_error(runtime, error_log="mypy.log", scope=".", write=True)
        assert server.count == 1
    assert result.status == "failed" and "AO_RUN_MAX_REQUESTS" in result.reason
    assert [error.file for error in result.errors] == ["calc.py"] and result.context_files == ["calc.py"]
    assert (workspace / "calc.py").read_text() == BROKEN_CALC
    assert get_run(runtime, result.run_id).status == "failed"


async def test_a_rejected_plan_keeps_its_last_drafts_problems_summarised_and_redacted(settings: Settings) -> None:
    steps = [(f"s{i}", "summarization", [f"missing-{i}"]) for i in range(7)]
    broken = step_plan(*steps)
    broken["steps"][0]["depends_on"] = [SECRET]
    runtime = Runtime.create(settings, Script([broken]).factory())
    with pytest.raises(PlanRejected) as rejected:
        await plan(runtime, "write the docs")
    message = str(rejected.value)
    assert "unknown step 'missing-4'" in message and message.endswith(" and 2 more")
    assert "missing-5" not in message and len(rejected.value.problems) == 7 and SECRET not in message
    view = get_run(runtime, runtime.runs.list()[0].run_id)
    assert view.status == "failed" and view.failure is not None and "failed its checks 2 times" in view.failure
    assert len(view.validation_errors) == 6 and view.validation_errors[-1] == "... and 2 more"
    assert "unknown step '[REDACTED]'" in view.validation_errors[0] and SECRET not in view.model_dump_json()
    assert any("sent back" in warning for warning in view.result["warnings"]), "the first draft's problems too"


def ao(workspace: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`ao ARGS` in its own process (its model clients die with it), in the workspace, bounded."""
    command = [*ao_command(), *args]
    return subprocess.run(
        command, cwd=workspace, env={**os.environ, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def test_ao_exits_1_for_a_partial_review_and_runs_show_says_why(workspace: Path) -> None:
    """`ao review` prints the partial review and exits 1; `ao runs show` names the leader's model, the
    usage per model and the cause."""
    with FaultServer(default=HTTPError(502)) as server:
        env = {
            "LEADER_MODEL_PROVIDER": "openai-compatible",
            "LEADER_MODEL_NAME": "fault-model",
            "LEADER_MODEL_BASE_URL": server.base_url,
            "AO_MODEL_MAX_RETRIES": "1",
        }
        reviewed = ao(workspace, env, "review", "--diff", "HEAD~1..HEAD")
        assert server.count == 2
    out = reviewed.stdout
    assert reviewed.returncode == 1 and "(partial, run " in out and "settings.py:1  possible secret added" in out
    assert "Traceback" not in out + reviewed.stderr and SECRET not in out
    run_id = out.split("run ", 1)[1].split(")", 1)[0]
    shown = ao(workspace, env, "runs", "show", run_id)
    assert shown.returncode == 1 and "status    partial" in shown.stdout
    assert "leader    openai-compatible:fault-model" in shown.stdout
    assert "cause     the endpoint kept failing (server_error" in shown.stdout
    assert (
        "  leader  openai-compatible:fault-model  1      1       1        0/0            unpriced" in shown.stdout
    )


async def test_runs_show_names_a_fallback_and_the_model_it_replaced(
    workspace: Path, real_models: RealModels
) -> None:
    draft = {"impact_summary": "add() now subtracts", "risks": []}
    with FaultServer(default=HTTPError(429)) as primary, FaultServer(default=answer_with(draft)) as fallback:
        settings = load_settings(
            **endpoint_settings(primary),
            leader_model_fallbacks=[f"openai-compatible:backup@{fallback.base_url}"],
            ao_model_max_retries=0,
        )
        runtime = Runtime.create(settings, real_models)
        result = await review(runtime, diff_range="HEAD~1..HEAD")
    view = get_run(runtime, result.run_id)
    assert result.status == "reviewed" and view.status == "succeeded" and view.failure is None
    assert view.leader_model == "openai-compatible:fault-model"
    assert [(m.model_id, m.failed_calls, m.fell_back_from) for m in view.models] == [
        ("openai-compatible:fault-model", 1, []),
        ("openai-compatible:backup", 0, ["openai-compatible:fault-model"]),
    ]
    shown = run_record(view.model_dump(mode="json"))
    assert "unpriced (fallback for openai-compatible:fault-model)" in shown


@pytest.mark.parametrize(
    ("exc", "degrades"),
    [
        (DeadlineExceeded("no answer before the call's deadline"), True),
        (BudgetExceeded("the run's request budget is spent"), True),
        (ModelHTTPError(503, "m"), True),
        (UnexpectedModelBehavior("Exceeded maximum output retries (2)"), True),
        (PolicyViolation("refused", rule="path.scope"), False),
        (ConfigError("no leader model"), False),
        (KeyError("a bug of ours"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_only_a_model_steps_own_failures_degrade_the_run(exc: BaseException, degrades: bool) -> None:
    assert model_failed(exc) is degrades
