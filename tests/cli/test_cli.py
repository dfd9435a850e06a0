"""`ao`: one in-process MCP call per command, readable output, JSON on request, honest exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from inline_snapshot import snapshot
from processes import run_ao as run
from scripted import SEED, scripted_factory

from agent_orchestrator.cli import commands

SCRIPTED = ["--provider", "openai-compatible", "--base-url", "http://scripted.test/v1", "--seed", str(SEED)]


@pytest.fixture(autouse=True)
def scripted_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI builds its own server: its model seam (`commands.MODEL_FACTORY`) gets scripted workers."""
    monkeypatch.setattr(commands, "MODEL_FACTORY", scripted_factory(SEED))


def test_help_does_not_import_the_agent_stack() -> None:
    code = (
        "import sys\nfrom agent_orchestrator.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('pydantic_ai', 'fastmcp', 'pydantic', 'openai')]\n"
        "print('HEAVY', heavy)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in output


AGENT_STACK = ("pydantic_ai", "pydantic_evals", "pydantic_graph", "openai", "anthropic", "groq", "llama_cpp")


@pytest.mark.parametrize("command", [["worker", "list"], ["runs", "list"], ["models", "list"], ["config", "show"]])
def test_commands_without_model_calls_do_not_import_the_agent_stack(tmp_path: Path, command: list[str]) -> None:
    """Fast start: a listing builds the whole server (every tool's schema) but imports no workflow."""
    code = (
        "import sys\nfrom agent_orchestrator.cli import main\n"
        f"try:\n    code = main({command!r})\nexcept SystemExit as exit:\n    code = exit.code\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({AGENT_STACK!r}))\n"
        "print('EXIT', code, 'HEAVY', heavy)\n"
    )
    env = {**os.environ, "AO_STATE_DIR": str(tmp_path / ".ao"), "AO_CONFIG_FILE": ""}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert "EXIT 0 HEAVY []" in result.stdout, result.stderr[-2000:]


def test_ideal_interview_prints_profile_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "worker", "interview", *SCRIPTED, "--model", "ideal")
    assert code == 0
    out = re.sub(r"\d+\.\d s\)", "N s)", out)
    assert out.splitlines()[:9] == snapshot(
        [
            "worker  openai-compatible:ideal",
            "status  ACTIVE  (suite 2026.12.1, seed 7, N s)",
            "scores",
            "  ✓ instruction_following    1.00  (3/3 cases)",
            "  ✓ structured_json          1.00  (3/3 cases)",
            "  ✓ summarization            1.00  (3/3 cases)",
            "  ✓ code_understanding       1.00  (3/3 cases)",
            "  ✓ typescript_codegen       1.00  (3/3 cases)",
            "  ✓ confidence_calibration   1.00  (4/4 cases)",
        ]
    )
    assert out.rstrip().endswith("not saved (pass --save to keep this profile)")


def test_blocked_interview_prints_reasons_and_actions_and_exits_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "worker", "interview", *SCRIPTED, "--model", "json-broken")
    assert code == 1
    assert "status  BLOCKED" in out
    reasons = out.split("reasons\n")[1].split("recommended actions\n")
    assert any(line.startswith("  - structured_json: ") for line in reasons[0].splitlines())
    assert "do not route production work to this worker" in reasons[1]


def test_json_output_is_one_document_with_status_at_top(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "worker", "interview", *SCRIPTED, "--model", "overconfident", "--json")
    document = json.loads(out)
    assert code == 0 and document["status"] == "limited" and document["profile"]["status"] == "limited"


def test_save_then_list_and_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "worker", "interview", *SCRIPTED, "--model", "ideal", "--save")[0] == 0
    code, out, _ = run(capsys, "worker", "list")
    assert code == 0
    shown = re.sub(r"\d+\.\ds", "N.Ns", re.sub(r"\d{4}-\d\d-\d\dT[\d:]{8}", "TIME", out))
    assert shown.splitlines() == snapshot(
        [
            "WORKER                   STATUS  MODE  P50   P95   ACCEPTED  REVISIONS  COST/ACCEPTED  FRESHNESS  EVALUATED            TASK TYPES",
            "openai-compatible:ideal  active  tool  N.Ns  N.Ns  —         —          —              fresh      TIME  summarization, structured_extraction, code_explanation, log_triage, code_review, codegen, patch_generation",
        ]
    )
    code, out, _ = run(capsys, "worker", "profile", "openai-compatible:ideal", "--json")
    assert code == 0 and json.loads(out)["profile"]["seed"] == SEED


def test_unknown_profile_is_exit_one_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "worker", "profile", "litellm:nope")
    assert (code, out) == (1, "")
    assert err.strip() == snapshot(
        "ao: error: no saved profile for worker 'litellm:nope' (known: none saved yet); interview it first (ao worker interview with --provider 'litellm', --model 'nope' and --save)"
    )


def test_unknown_provider_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "worker", "interview", "--provider", "bogus", "--model", "x", "--json")
    assert code == 2
    assert json.loads(out)["error"].startswith("unknown provider 'bogus'")
    assert "Traceback" not in err


def test_bad_flag_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "worker", "interview", "--model", "x")
    assert code == 2 and "--provider" in err


def test_bad_configuration_is_usage_error_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AO_DRY_RUN", "perhaps")
    code, _, err = run(capsys, "models", "list")
    assert code == 2 and "AO_DRY_RUN" in err and "Traceback" not in err


def test_models_list_says_where_each_role_key_comes_from_or_which_to_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADER_MODEL_PROVIDER", "ollama")
    monkeypatch.setenv("LEADER_MODEL_NAME", "qwen3")
    monkeypatch.setenv("WORKER_MODEL_PROVIDER", "openai")
    monkeypatch.setenv("WORKER_MODEL_NAME", "gpt-4o-mini")
    code, out, _ = run(capsys, "models", "list")
    assert code == 0
    assert "(no key needed)" in out.splitlines()[0]
    assert "(no key: set WORKER_MODEL_API_KEY or OPENAI_API_KEY)" in out.splitlines()[1]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-" + "a1" * 16)
    code, out, _ = run(capsys, "models", "list")
    assert "(key from OPENAI_API_KEY)" in out.splitlines()[1] and "a1a1" not in out


def test_list_tools(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "mcp", "list-tools")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == snapshot(
        [
            "TOOL",
            "interview_worker",
            "interview_leader",
            "list_workers",
            "get_worker_profile",
            "list_models",
            "validate",
            "review",
            "plan",
            "run_leader_worker",
            "fix_error",
            "list_workflows",
            "list_runs",
            "get_run",
            "get_artifact",
            "start_run",
            "cancel_run",
            "resume_run",
            "get_usage",
            "show_config",
        ]
    )


def test_missing_key_names_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "MODEL_FACTORY", None)  # the real providers
    code, _, err = run(capsys, "worker", "interview", "--provider", "openai", "--model", "gpt-x")
    assert code == 2
    assert "WORKER_MODEL_API_KEY" in err and "OPENAI_API_KEY" in err


@pytest.mark.parametrize("host", ["claude-desktop", "vscode", "cursor"])
def test_host_config_is_json_with_absolute_command_and_no_secret(
    host: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    monkeypatch.setenv("WORKER_MODEL_API_KEY", "canary-secret-value-123456")
    (isolated_env / ".git").mkdir()  # Claude Desktop pins the repository it runs in
    code, out, err = run(capsys, "mcp", "config", host)
    document = json.loads(out)
    servers = document["servers" if host == "vscode" else "mcpServers"]
    entry = servers["agent-orchestrator"]
    assert code == 0 and err.strip()  # where to put it goes to stderr, the JSON alone to stdout
    assert entry["command"].startswith("/") and entry["args"][-2:] == ["mcp", "serve"]
    assert not any("KEY" in name for name in entry["env"])  # keys live in the user config file
    assert "canary-secret-value-123456" not in out + err
    assert entry["env"]["AO_WORKSPACE_ROOT"].startswith("/" if host == "claude-desktop" else "${workspaceFolder}")


@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "1e9"])
def test_a_bad_timeout_is_usage_with_a_message(timeout: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "validate", "--command", "git status", "--timeout", timeout)
    assert code == 2 and "--timeout" in err and "seconds" in err and "Traceback" not in err


def test_bad_tool_arguments_are_a_short_usage_error_without_the_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "runs", "list", "--limit", "-5", "--json")
    error = json.loads(out)["error"]
    assert code == 2 and error == "limit: Input should be greater than or equal to 1"
