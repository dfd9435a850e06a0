"""Each host's entry pins the workspace the way that host can, and carries no keys or placeholders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent_orchestrator.cli import main
from agent_orchestrator.cli.host_config import WHERE


def config(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["mcp", "config", *argv, "--json"])
    captured = capsys.readouterr()
    code = int(exit_info.value.code or 0)
    document: dict[str, Any] = json.loads(captured.out)
    return code, document, "" if code == 0 else document["error"]


def entry(document: dict[str, Any]) -> dict[str, Any]:
    servers = document["config"].get("servers") or document["config"]["mcpServers"]
    return servers["agent-orchestrator"]


@pytest.fixture
def repo(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git work tree; `ao mcp config` runs in a subdirectory of it."""
    (isolated_env / "repo" / ".git").mkdir(parents=True)
    (isolated_env / "repo" / "src").mkdir()
    monkeypatch.chdir(isolated_env / "repo" / "src")
    return (isolated_env / "repo").resolve()


@pytest.mark.parametrize("host", ["vscode", "cursor"])
def test_editors_use_their_workspace_folder_variable(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, document, _ = config(capsys, host)  # no repository needed: the editor names its folder
    assert code == 0
    assert entry(document)["env"]["AO_WORKSPACE_ROOT"] == "${workspaceFolder}"
    assert "AO_STATE_DIR" not in entry(document)["env"]  # it follows the workspace (.ao)


def test_claude_desktop_pins_the_repository_top(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document, _ = config(capsys, "claude-desktop")
    assert code == 0 and entry(document)["env"] == {"AO_WORKSPACE_ROOT": str(repo)}


def test_claude_desktop_takes_an_explicit_workspace(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_env / "project").mkdir()
    code, document, _ = config(capsys, "claude-desktop", "--workspace", str(isolated_env / "project"))
    assert code == 0 and entry(document)["env"]["AO_WORKSPACE_ROOT"] == str((isolated_env / "project").resolve())


def test_claude_desktop_outside_a_repository_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = config(capsys, "claude-desktop")
    assert code == 2 and "not inside a git repository" in err and "--workspace" in err


def test_allowed_roots_go_into_the_entry_resolved(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo.parent / "repos").mkdir()
    code, document, _ = config(
        capsys, "claude-desktop", "--allowed-root", "../../repos", "--allowed-root", str(repo)
    )
    assert code == 0
    env = entry(document)["env"]
    assert env == {"AO_WORKSPACE_ROOT": str(repo), "AO_ALLOWED_ROOTS": f"{repo.parent / 'repos'},{repo}"}


def test_claude_desktop_outside_a_repository_with_allowed_roots_has_no_workspace(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_env / "repos").mkdir()
    code, document, _ = config(capsys, "claude-desktop", "--allowed-root", str(isolated_env / "repos"))
    assert code == 0  # tools then need `repository`, inside the allowed roots
    assert entry(document)["env"] == {"AO_ALLOWED_ROOTS": str((isolated_env / "repos").resolve())}


@pytest.mark.parametrize("root", ["/", "relative-missing", "~"])
def test_unsafe_or_missing_allowed_roots_are_refused(
    root: str, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(isolated_env))
    code, _, err = config(capsys, "vscode", "--allowed-root", root)
    assert (
        code == 2
        and err.startswith("--allowed-root ")
        and ("never" in err or "readable" in err or "not an existing" in err)
    ), err


@pytest.mark.parametrize("host", ["claude-desktop", "vscode", "cursor"])
def test_root_or_home_is_refused_as_a_workspace(
    host: str, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(isolated_env))
    for workspace in ("/", str(isolated_env)):
        code, _, err = config(capsys, host, "--workspace", workspace)
        assert code == 2 and "never a workspace" in err


@pytest.mark.parametrize("host", ["claude-desktop", "vscode", "cursor"])
def test_no_keys_placeholders_or_hard_coded_provider(
    host: str, repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WORKER_MODEL_PROVIDER", "ollama")
    monkeypatch.setenv("WORKER_MODEL_NAME", "qwen3:8b")
    monkeypatch.setenv("WORKER_MODEL_API_KEY", "sk-canary-0123456789abcdefghij")
    code, document, _ = config(capsys, host)
    env: dict[str, str] = entry(document)["env"]
    text = json.dumps(document)
    assert code == 0 and "sk-canary" not in text and "<" not in text and "local" not in env.values()
    assert not any("KEY" in name for name in env)
    if host == "vscode":  # env references, resolved by VS Code from its own environment
        assert env["WORKER_MODEL_PROVIDER"] == "${env:WORKER_MODEL_PROVIDER}"
        assert env["WORKER_MODEL_NAME"] == "${env:WORKER_MODEL_NAME}"
    else:  # no env references: the server reads the user config file itself
        assert set(env) == {"AO_WORKSPACE_ROOT"}
    assert "user config file" in document["where"]


def test_where_names_each_claude_desktop_config_file() -> None:
    where = WHERE["claude-desktop"]
    assert "~/Library/Application Support/Claude/claude_desktop_config.json" in where
    assert "%APPDATA%\\Claude\\claude_desktop_config.json" in where
    assert "~/.config/Claude/claude_desktop_config.json" in where
