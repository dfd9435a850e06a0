"""Secret canaries: every MCP tool and CLI command, DEBUG logging, canary values in every key variable.

Afterwards no canary may appear in any tool result, CLI output, log line or file under the state
dir. The scripted worker echoes the worker key back in its answers, so redaction is exercised,
not only avoidance.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client
from postgres import fresh_database
from processes import ao_command, initialize_requests
from scripted import CANARY_KEY, SEED, scripted_factory

from agent_orchestrator.cli import commands, main
from agent_orchestrator.config import Settings, load_settings
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

pytestmark = pytest.mark.anyio
KEY_VARIABLES = [name for name in Settings.secret_variables() if name != "WORKER_MODEL_API_KEY"]
CANARIES = {name: f"canary-{name.lower().replace('_', '-')}-7f3a9c" for name in KEY_VARIABLES}
CANARIES["WORKER_MODEL_API_KEY"] = CANARY_KEY  # the one the scripted worker echoes
SCRIPTED = ["--provider", "openai-compatible", "--base-url", "http://scripted.test/v1", "--seed", str(SEED)]


def database_url(request: pytest.FixtureRequest) -> str | None:
    """AO_DATABASE_URL with the canary as its password, on a fresh test database: every tool then runs on
    PostgreSQL (which trusts the test connection, so the password only has to stay secret). None when the
    machine has no PostgreSQL."""
    try:
        postgres_url = request.getfixturevalue("postgres_url")
    except pytest.skip.Exception:
        return None
    fresh = fresh_database(postgres_url)
    return fresh.replace("postgresql://postgres@", f"postgresql://postgres:{CANARIES['AO_DATABASE_URL']}@", 1)


@pytest.fixture(autouse=True)
def canaries(monkeypatch: pytest.MonkeyPatch, isolated_env: Path, request: pytest.FixtureRequest) -> None:
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    url = database_url(request)
    if url is None:
        monkeypatch.delenv("AO_DATABASE_URL")
    else:
        monkeypatch.setenv("AO_DATABASE_URL", url)
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setattr(commands, "MODEL_FACTORY", scripted_factory(SEED))
    # A repository file that prints a canary when tests run: command output must be redacted too.
    (isolated_env / "test_leaky.py").write_text(
        f"def test_leaky():\n    print({CANARY_KEY!r})\n    assert False, {CANARY_KEY!r}\n"
    )


def assert_no_canary(text: str, where: str) -> None:
    for name, value in CANARIES.items():
        assert value not in text, f"{name}'s value leaked into {where}"


def state_dir_text(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file())


async def test_every_mcp_tool(isolated_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = Runtime.create(load_settings(), scripted_factory(SEED))
    calls = [
        (
            "interview_worker",
            {
                "provider": "openai-compatible",
                "model": "secret-echo",
                "base_url": "http://scripted.test/v1",
                "seed": SEED,
                "save": True,
            },
        ),
        ("list_workers", {}),
        ("get_worker_profile", {"worker_id": "openai-compatible:secret-echo"}),
        ("get_worker_profile", {"worker_id": f"openai:{CANARY_KEY}"}),
        ("list_models", {}),
        (
            "validate",
            {
                "commands": [
                    "python -m pytest -q -s -p no:cacheprovider test_leaky.py",
                    "git status",
                    f"git log --grep={CANARY_KEY}; echo",
                ]
            },
        ),
        ("interview_worker", {"provider": "openai", "model": "gpt-x"}),
    ]
    async with Client(create_server(runtime)) as client:
        outputs = [await client.call_tool(name, args, raise_on_error=False) for name, args in calls]
        resources = [
            await client.read_resource("ao://workers"),
            await client.read_resource("ao://workers/openai-compatible:secret-echo"),
        ]
        tools = await client.list_tools()
    for (name, _), result in zip(calls, outputs, strict=True):
        assert_no_canary(json.dumps(result.structured_content) + str(result.content), f"tool {name}")
    assert_no_canary(str(resources) + str(tools), "resources and tool listing")
    assert_no_canary(caplog.text, "logs")
    assert_no_canary(state_dir_text(isolated_env / ".ao"), "the state dir")
    assert outputs[0].structured_content is not None and outputs[0].structured_content["saved"]


CLI_COMMANDS = [
    ["worker", "interview", *SCRIPTED, "--model", "secret-echo", "--save"],
    ["worker", "interview", *SCRIPTED, "--model", "secret-echo", "--json"],
    ["worker", "list"],
    ["worker", "list", "--json"],
    ["worker", "profile", "openai-compatible:secret-echo"],
    ["worker", "profile", "nope:missing", "--json"],
    ["models", "list"],
    ["models", "list", "--json"],
    ["mcp", "list-tools"],
    ["mcp", "config", "claude-desktop"],
    ["mcp", "config", "vscode"],
    ["validate", "--command", "python -m pytest -q -s -p no:cacheprovider test_leaky.py"],
    ["validate", "--command", "git status", "--json"],
    ["worker", "interview", "--provider", "anthropic", "--model", "x"],
]


def test_every_cli_command(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for argv in CLI_COMMANDS:
        with pytest.raises(SystemExit):
            main(argv)
        captured = capsys.readouterr()
        assert_no_canary(captured.out + captured.err, f"ao {' '.join(argv)}")
    assert_no_canary(caplog.text, "logs")
    assert_no_canary(state_dir_text(isolated_env / ".ao"), "the state dir")


def stdio_exchange(requests: list[dict[str, Any]], cwd: Path, timeout: float = 60.0) -> tuple[dict[int, Any], str]:
    """Send `requests` to `ao mcp serve`, keep stdin open until every request with an id is answered
    (or `timeout` passes), then close it; the responses by id, and everything the server wrote."""
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            [*ao_command(), "mcp", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=cwd,
        )
        assert process.stdin is not None and process.stdout is not None
        expected = {r["id"] for r in requests if "id" in r}
        responses: dict[int, Any] = {}
        lines: list[str] = []
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            process.stdin.write("".join(json.dumps(r) + "\n" for r in requests))
            process.stdin.flush()
            while expected - responses.keys() and (line := process.stdout.readline()):
                lines.append(line)
                message = json.loads(line)
                if "id" in message:
                    responses[message["id"]] = message
            process.stdin.close()
            lines.append(process.stdout.read())
            process.wait(timeout=timeout)
        finally:
            killer.cancel()
            if process.poll() is None:
                process.kill()
        stderr.seek(0)
        return responses, "".join(lines) + stderr.read()


def test_stdio_server_at_debug(isolated_env: Path) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("list_models", {}),
        ("show_config", {}),
        ("validate", {"commands": ["python -m pytest -q -s -p no:cacheprovider test_leaky.py"]}),
        # A caller's endpoint never gets a configured key: refused, naming the variables, no network.
        ("interview_worker", {"provider": "openai", "model": "x", "base_url": "http://127.0.0.1:9/v1"}),
    ]
    requests = [
        *initialize_requests(),
        *(
            {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
            for n, (name, arguments) in enumerate(calls, start=2)
        ),
    ]
    responses, output = stdio_exchange(requests, isolated_env)
    assert_no_canary(output, "the stdio server's output")
    assert sorted(responses) == [1, 2, 3, 4, 5], f"the server did not answer every request: {output[-2000:]}"
    assert responses[1]["result"]["serverInfo"]["name"] == "agent-orchestrator"
    results = {name: responses[n]["result"] for n, (name, _) in enumerate(calls, start=2)}
    assert not results["list_models"]["isError"] and results["list_models"]["structuredContent"]["providers"]
    assert not results["show_config"]["isError"]
    validated = results["validate"]["structuredContent"]["results"][0]
    assert validated["status"] == "failed" and "[REDACTED]" in validated["stdout_tail"]  # the canary was there
    refused = results["interview_worker"]
    assert refused["isError"] and "WORKER_MODEL_API_KEY" in refused["content"][0]["text"]
    assert "DEBUG" in output, "the server logs at DEBUG"


async def test_a_background_run_leaks_nothing_into_the_engine(isolated_env: Path) -> None:
    """The durable engine stores inputs, step values and results: redacted JSON, in SQLite or PostgreSQL."""
    settings = load_settings()
    runtime = Runtime.create(settings, scripted_factory(SEED))
    arguments = {"provider": "openai-compatible", "model": "secret-echo", "base_url": "http://scripted.test/v1"}
    async with Client(create_server(runtime, may_execute=True)) as client:
        ticket = await client.call_tool("start_run", {"tool": "interview_worker", "arguments": arguments})
        run_id = (ticket.structured_content or {})["run_id"]
        with anyio.fail_after(60):
            while True:
                view = await client.call_tool("get_run", {"run_id": run_id})
                if (view.structured_content or {})["status"] not in ("queued", "running"):
                    break
                await anyio.sleep(0.1)
    assert (view.structured_content or {})["status"] == "succeeded"
    assert_no_canary(json.dumps(view.structured_content), "get_run of a background run")
    assert_no_canary(state_dir_text(isolated_env / ".ao"), "the state dir")
    if settings.ao_database_url is not None:
        import psycopg

        with psycopg.connect(settings.ao_database_url.get_secret_value()) as db:
            tables = db.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('dbos', 'ao')"
            ).fetchall()
            dumped = "\n".join(
                str(db.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()) for schema, table in tables
            )
        assert "workflow_status" in str(tables) and run_id in dumped
        assert_no_canary(dumped, "the PostgreSQL tables")
