"""The server as MCP hosts start it: from the entry `ao mcp config` prints, in `/`, with only the entry's env.

One server serves several repositories: the entry's workspace (repository A) by default, and any
repository inside AO_ALLOWED_ROOTS (repository B) when a tool names it in `repository`; a repository
outside them is refused. Every wait is bounded (the server is killed after `DEADLINE_S`); no network.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from processes import ao_command, initialize_requests

DEADLINE_S = 90
GIT_IDENTITY = ("-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false")


def git_repository(path: Path, marker: str, home: Path) -> Path:
    """A committed git repository holding `app.py`, plus an untracked `marker` file that `git status` names."""
    path.mkdir(parents=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}
    (path / "app.py").write_text("def add(a, b):\n    return a + b\n")
    for args in (["init", "-q"], ["add", "app.py"], [*GIT_IDENTITY, "commit", "-q", "-m", "start"]):
        subprocess.run(["git", *args], cwd=path, env=env, check=True, timeout=30)
    (path / marker).write_text("untracked\n")
    return path.resolve()


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """Repository A (the entry's workspace), B (inside the allowed root) and C (outside every root)."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        "home": home,
        "state": tmp_path / "state",
        "allowed": (tmp_path / "allowed").resolve(),
        "a": git_repository(tmp_path / "a", "only-in-a.txt", home),
        "b": git_repository(tmp_path / "allowed" / "b", "only-in-b.txt", home),
        "c": git_repository(tmp_path / "outside" / "c", "only-in-c.txt", home),
    }


def base_env(layout: dict[str, Path]) -> dict[str, str]:
    """What the test adds to a host's environment: PATH, HOME, a temporary state dir, no user config file."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(layout["home"]),
        "AO_STATE_DIR": str(layout["state"]),
        "AO_CONFIG_FILE": "",
    }


def host_entry(host: str, layout: dict[str, Path], *extra: str) -> dict[str, Any]:
    """The server entry `ao mcp config HOST --json` prints, run as a user would run it (inside repository A)."""
    printed = subprocess.run(
        [*ao_command(), "mcp", "config", host, "--json", *extra],
        cwd=layout["a"],
        env=base_env(layout),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    config: dict[str, Any] = json.loads(printed.stdout)["config"]
    servers: dict[str, Any] = config.get("servers") or config["mcpServers"]
    return servers["agent-orchestrator"]


def expand(value: str, workspace_folder: Path) -> str:
    """What VS Code and Cursor do to an entry before starting the server."""
    return value.replace("${workspaceFolder}", str(workspace_folder))


def call(name: str, request_id: int, **arguments: object) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


def serve(entry: dict[str, Any], layout: dict[str, Path], requests: list[dict[str, object]]) -> dict[int, Any]:
    """Start the entry's command in `/` with only its env (plus PATH, HOME, state dir and no user config
    file), send `requests` as JSON-RPC lines, and return each response's result by id."""
    env = {**{name: expand(value, layout["a"]) for name, value in entry["env"].items()}, **base_env(layout)}
    args = [expand(arg, layout["a"]) for arg in entry["args"]]
    process = subprocess.Popen(
        [entry["command"], *args],
        cwd="/",
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    killer = threading.Timer(DEADLINE_S, process.kill)
    killer.start()
    wanted = {request["id"] for request in requests if "id" in request}
    results: dict[int, Any] = {}
    try:
        for request in [*initialize_requests("host-launch"), *requests]:
            process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        while not wanted <= set(results):
            line = process.stdout.readline()
            if not line:
                _, stderr = process.communicate(timeout=10)
                pytest.fail(f"the server closed stdout before answering: {stderr[-2000:]}")
            message = json.loads(line)
            if "id" in message:
                assert "error" not in message, message
                results[message["id"]] = message["result"]
        process.stdin.close()
        process.wait(timeout=30)
    finally:
        killer.cancel()
        process.kill()
        process.wait(timeout=10)
    return results


def structured(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("isError"), result
    content: dict[str, Any] = result["structuredContent"]
    return content


def error_text(result: dict[str, Any]) -> str:
    assert result.get("isError"), result
    return " ".join(block.get("text", "") for block in result["content"])


def check_one_server_serves_its_repositories(entry: dict[str, Any], layout: dict[str, Path]) -> None:
    b, c = str(layout["b"]), str(layout["c"])
    results = serve(
        entry,
        layout,
        [
            call("validate", 2, commands=["git status --porcelain"]),
            call("validate", 3, commands=["git status --porcelain"], repository=b),
            call("review", 4, diff_range="HEAD..HEAD", repository=b),
            call("validate", 5, commands=["git status --porcelain"], repository=c),
            call("review", 6, files=["app.py"], repository=c),
            call("review", 7, files=["app.py"], repository=str(layout["allowed"].parent)),
        ],
    )
    default, in_b = structured(results[2]), structured(results[3])
    assert default["status"] == "passed" and "only-in-a.txt" in default["results"][0]["stdout_tail"]
    assert in_b["status"] == "passed", in_b
    assert "only-in-b.txt" in in_b["results"][0]["stdout_tail"]
    assert "only-in-a.txt" not in in_b["results"][0]["stdout_tail"]
    assert structured(results[4])["status"] == "nothing_to_review"
    for refused in (results[5], results[6], results[7]):
        text = error_text(refused)
        assert "AO_ALLOWED_ROOTS" in text and "not inside" in text, text
    assert not (layout["b"] / ".ao").exists()  # state stays in the configured state dir
    assert layout["state"].is_dir()


def test_claude_desktop_entry(layout: dict[str, Path]) -> None:
    entry = host_entry(
        "claude-desktop", layout, "--workspace", str(layout["a"]), "--allowed-root", str(layout["allowed"])
    )
    assert entry["env"] == {"AO_WORKSPACE_ROOT": str(layout["a"]), "AO_ALLOWED_ROOTS": str(layout["allowed"])}
    check_one_server_serves_its_repositories(entry, layout)


def test_vscode_entry(layout: dict[str, Path]) -> None:
    entry = host_entry("vscode", layout, "--allowed-root", str(layout["allowed"]))
    assert entry["env"]["AO_WORKSPACE_ROOT"] == "${workspaceFolder}"
    check_one_server_serves_its_repositories(entry, layout)
