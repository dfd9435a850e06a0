"""`ao plan`, `ao run leader-worker-basic`, `ao review`, `ao runs`, `ao workflows` through the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from processes import run_ao as run
from scripted_models import answering
from workflows.scripted_agents import Script, step_plan

from agent_orchestrator.cli import build_parser, commands

TWO_STEPS = step_plan(("s1", "summarization", []), ("s2", "code_explanation", ["s1"]))


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Script:
    script = Script([TWO_STEPS])
    monkeypatch.setattr(commands, "MODEL_FACTORY", script.factory())
    monkeypatch.setenv("LEADER_MODEL_PROVIDER", "openai-compatible")
    monkeypatch.setenv("LEADER_MODEL_NAME", "leader")
    monkeypatch.setenv("LEADER_MODEL_BASE_URL", "http://scripted.test/v1")
    return script


def test_plan_prints_steps_and_assignments(script: Script, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "--goal", "document the module")
    assert code == 0
    assert "s1   [summarization]" in out and "-> leader" in out


def test_plan_json_is_recorded_as_a_run(script: Script, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "--goal", "document the module", "--json")
    document = json.loads(out)
    assert code == 0 and [s["id"] for s in document["steps"]] == ["s1", "s2"]
    code, out, _ = run(capsys, "runs", "show", document["run_id"], "--json")
    record = json.loads(out)
    assert record["workflow"] == "planning" and record["status"] == "succeeded" and record["nodes"]
    code, out, _ = run(capsys, "runs", "list")
    assert document["run_id"] in out


def test_leader_worker_runs_every_step(script: Script, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "run", "leader-worker-basic", "--goal", "document the module", "--json")
    document = json.loads(out)
    assert code == 0 and document["status"] == "succeeded"
    assert [s["verdict"] for s in document["steps"]] == ["accepted", "accepted"]


def test_context_file_outside_the_workspace_is_refused(script: Script, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "plan", "--goal", "x", "--context-file", "/etc/passwd")
    assert code == 1 and "refused" in err and "Traceback" not in err


REVIEW = {
    "impact_summary": "adds notes",
    "risks": [
        {"file": "notes.md", "line": 1, "severity": "low", "message": "say who the notes are for"},
        {"file": "elsewhere.py", "line": 9, "severity": "high", "message": "cites a line not in the diff"},
    ],
}


def test_review_of_a_range(
    script: Script, capsys: pytest.CaptureFixture[str], isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "MODEL_FACTORY", answering(REVIEW).factory())
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(isolated_env),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    for command in (["git", "init", "-q", "-b", "main"], ["git", "commit", "-q", "--allow-empty", "-m", "a"]):
        subprocess.run(command, cwd=isolated_env, env=env, check=True)
    (isolated_env / "notes.md").write_text("hello\n")
    subprocess.run(["git", "add", "-A"], cwd=isolated_env, env=env, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "b"], cwd=isolated_env, env=env, check=True)
    code, out, _ = run(capsys, "review", "--diff", "HEAD~1..HEAD", "--json")
    document = json.loads(out)
    assert code == 0, document
    assert document["analysis"]["file_count"] == 1
    assert [r["file"] for r in document["risks"]] == ["notes.md"] and document["dropped_findings"] == 1


def test_review_needs_exactly_one_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "review", "--diff", "a..b", "--file", "x.py")
    assert code == 2 and "not allowed with" in err


def test_workflows_lists_every_graph(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "workflows", "--json")
    names = [w["name"] for w in json.loads(out)["workflows"]]
    assert code == 0 and {"worker-interview", "planning", "leader-worker-basic", "review"} <= set(names)


def test_plan_with_a_leader_that_never_validates_records_its_usage(
    script: Script, capsys: pytest.CaptureFixture[str]
) -> None:
    script.plans = [{"summary": "a plan without steps"}]
    code, out, _ = run(capsys, "plan", "--goal", "document the module", "--json")
    assert code == 1 and "invalid output after its retries" in json.loads(out)["error"]
    code, out, _ = run(capsys, "runs", "list", "--json")
    [listed] = json.loads(out)["runs"]
    code, out, _ = run(capsys, "runs", "show", listed["run_id"], "--json")
    record = json.loads(out)
    assert code == 1 and record["status"] == "failed", "a failed run's record exits 1, as the table says"
    assert record["usage"]["requests"] == 3 and record["usage"]["input_tokens"] > 0
    assert record["usage"]["output_tokens"] > 0


@pytest.mark.parametrize("flag", ["--write", "--apply"])
def test_fix_asks_to_write_with_write_or_its_old_name_apply(flag: str) -> None:
    args = build_parser().parse_args(["fix", "--error", "e.log", "--scope", ".", flag])
    assert commands._tool_call(args)[:2] == ("fix_error", {"error_log": "e.log", "scope": ".", "write": True})


def test_fix_with_a_clean_log_needs_no_model(capsys: pytest.CaptureFixture[str], isolated_env: Path) -> None:
    (isolated_env / "build.log").write_text("all good, 0 errors\n")
    code, out, _ = run(capsys, "fix", "--error", "build.log", "--scope", ".", "--json")
    document = json.loads(out)
    assert code == 0 and document["status"] == "nothing_to_fix" and document["usage"]["requests"] == 0


def test_fix_with_a_log_outside_the_workspace_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "fix", "--error", "/etc/passwd", "--scope", ".")
    assert code == 1 and "refused" in err


def test_errors_name_the_flags_not_the_tool_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """Over MCP the review error names `files`; `ao` translates it back to its own flag."""
    code, _, err = run(capsys, "review", "--diff", "HEAD:.env")
    assert code == 2 and "use --file" in err and "`files`" not in err
    code, out, _ = run(capsys, "validate", "--command", " ", "--json")
    assert code == 2 and json.loads(out)["error"].startswith("--command is empty")


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            "give exactly one of `diff_range`, `diff_file` or `files` (got `diff_range` and `files`)",
            "give exactly one of --diff, --diff-file or --file (got --diff and --file)",
        ),
        ("timeout_s: Input should be greater than 0", "--timeout: Input should be greater than 0"),
        (
            "needs a base URL: pass base_url or set X_BASE_URL",
            "needs a base URL: pass --base-url or set X_BASE_URL",
        ),
        (
            "run r1 failed: boom (the partial record: `get_run r1`)",
            "run r1 failed: boom (the partial record: `ao runs show r1`)",
        ),
        ("cannot write files outside the scope", "cannot write files outside the scope"),
    ],
)
def test_tool_arguments_become_flags(message: str, shown: str) -> None:
    assert commands.in_cli_words(message) == shown
