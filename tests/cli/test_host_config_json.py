"""`ao mcp config HOST --json` prints one document: the host, where the entry goes, the entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_orchestrator.cli import main


@pytest.mark.parametrize("host", ["claude-desktop", "vscode", "cursor"])
def test_host_config_as_one_json_document(
    host: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_env / ".git").mkdir()  # Claude Desktop pins the repository `ao mcp config` runs in
    with pytest.raises(SystemExit) as exit_info:
        main(["mcp", "config", host, "--json"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert exit_info.value.code == 0 and captured.err == ""
    assert document["host"] == host and document["where"]
    servers = document["config"]["servers" if host == "vscode" else "mcpServers"]
    assert servers["agent-orchestrator"]["args"][-2:] == ["mcp", "serve"]
