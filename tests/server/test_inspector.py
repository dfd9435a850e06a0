"""The MCP Inspector CLI (npm `@modelcontextprotocol/inspector`, pinned in tools/inspector) against `ao mcp serve`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from processes import ao_command

INSPECTOR = Path(__file__).resolve().parents[2] / "tools/inspector/node_modules/.bin/mcp-inspector"
pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(not INSPECTOR.exists(), reason="run `make install-node-tools` for the MCP Inspector"),
]


def inspect(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "MCP_CATALOG_PATH": str(tmp_path / "catalog.json"),
        "AO_ENV_FILE": "",
        "AO_STATE_DIR": str(tmp_path / ".ao"),
    }
    command = [str(INSPECTOR), "--cli", *ao_command(), "mcp", "serve", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)


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
