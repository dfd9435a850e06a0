"""The MCP Inspector CLI (npm `@modelcontextprotocol/inspector`, pinned in tools/inspector) against `ao mcp serve`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fault_server import FaultServer, answer_with
from git_repos import git
from processes import ao_command

INSPECTOR = Path(__file__).resolve().parents[2] / "tools/inspector/node_modules/.bin/mcp-inspector"
pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(not INSPECTOR.exists(), reason="run `make install-node-tools` for the MCP Inspector"),
]


def inspect(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the Inspector CLI against `ao mcp serve`; `env` is the server's (the Inspector passes only its `-e`
    pairs and a default set such as HOME and PATH to the process it starts)."""
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    server_env = {"AO_STATE_DIR": str(tmp_path / ".ao"), **(env or {})}
    pairs = [item for name, value in server_env.items() for item in ("-e", f"{name}={value}")]
    command = [str(INSPECTOR), "--cli", *pairs, *ao_command(), "mcp", "serve", *args]
    environment["MCP_CATALOG_PATH"] = str(tmp_path / "catalog.json")
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120, cwd=tmp_path)


def called(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """A successful tools/call's structured result."""
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document.get("isError") is not True, document
    structured: dict[str, object] = document["structuredContent"]
    return structured


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository with one commit changing a Python file."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("def add(a, b):\n    return a + b\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "app.py").write_text("def add(a, b):\n    return a - b\n")
    git(repo, "commit", "-q", "-am", "second")
    return repo


def test_inspector_lists_tools_with_portable_schemas(tmp_path: Path) -> None:
    result = inspect(tmp_path, "--method", "tools/list", "--strict")
    assert result.returncode == 0, result.stderr
    names = {tool["name"] for tool in json.loads(result.stdout)["tools"]}
    assert {"interview_worker", "list_models", "validate", "get_run"} <= names


def test_inspector_calls_list_models(tmp_path: Path) -> None:
    result = inspect(tmp_path, "--method", "tools/call", "--tool-name", "list_models")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document.get("isError") is not True
    assert document["structuredContent"]["default_model"] == "local:smollm2-135m-instruct"


def test_inspector_reads_the_worker_list_resource(tmp_path: Path) -> None:
    result = inspect(tmp_path, "--method", "resources/read", "--uri", "ao://workers")
    assert result.returncode == 0, result.stderr
    contents = json.loads(result.stdout)["contents"][0]
    assert contents["uri"] == "ao://workers" and json.loads(contents["text"])["workers"] == []


def test_inspector_calls_a_model_workflow_against_a_real_endpoint(tmp_path: Path, repository: Path) -> None:
    """review: deterministic analysis, then a leader call over a real socket (a local OpenAI-compatible server)."""
    draft = {
        "impact_summary": "add() now subtracts",
        "risks": [{"file": "app.py", "line": 2, "severity": "high", "message": "wrong operator"}],
    }
    with FaultServer(default=answer_with(draft)) as endpoint:
        env = {
            "AO_WORKSPACE_ROOT": str(repository),
            "LEADER_MODEL_PROVIDER": "openai-compatible",
            "LEADER_MODEL_NAME": "fault-model",
            "LEADER_MODEL_BASE_URL": endpoint.base_url,
        }
        arguments = ["--tool-arg", "diff_range=HEAD~1..HEAD"]
        result = called(inspect(tmp_path, "--method", "tools/call", "--tool-name", "review", *arguments, env=env))
        assert endpoint.count == 1
    assert result["status"] == "reviewed"
    assert [(risk["file"], risk["line"]) for risk in result["risks"]] == [("app.py", 2)]  # type: ignore[index]
    runs = called(inspect(tmp_path, "--method", "tools/call", "--tool-name", "list_runs", env=env))
    assert [run["workflow"] for run in runs["runs"]] == ["review"]  # type: ignore[index]


def test_inspector_calls_a_deterministic_workflow_on_a_named_repository(tmp_path: Path, repository: Path) -> None:
    """validate, with the repository named as an argument inside AO_ALLOWED_ROOTS (no workspace configured)."""
    env = {"AO_ALLOWED_ROOTS": str(repository)}
    arguments = ["--tool-arg", 'commands=["git status"]', "--tool-arg", f"repository={repository}"]
    result = called(inspect(tmp_path, "--method", "tools/call", "--tool-name", "validate", *arguments, env=env))
    assert result["status"] == "passed"


def test_inspector_calls_the_config_tool_and_gets_a_prompt(tmp_path: Path) -> None:
    shown = called(inspect(tmp_path, "--method", "tools/call", "--tool-name", "show_config"))
    assert any(setting["name"] == "AO_DRY_RUN" for setting in shown["settings"])  # type: ignore[index]
    result = inspect(tmp_path, "--method", "prompts/get", "--prompt-name", "worker_interview_instructions")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["messages"][0]["content"]["text"]
