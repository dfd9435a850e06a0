"""`ao mcp serve --transport http`: a real client over streamable HTTP; foreign Origin and Host refused."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
from fastmcp import Client
from processes import ao_command

pytestmark = pytest.mark.anyio
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
TOKEN = "test-token-" + "0123456789abcdefghij"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    """`ao mcp serve --transport http` on a free loopback port: (its MCP URL, its stdout+stderr log)."""
    port = free_port()
    command = [*ao_command(), "mcp", "serve", "--transport", "http", "--port", str(port), *args]
    log_path = tmp_path / f"server-{port}.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, log_path.read_text()
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp", log_path
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    with running_server(tmp_path, "--allow-origin", "http://trusted.example") as (url, _):
        yield url


@pytest.fixture
def token_server(tmp_path: Path) -> Iterator[str]:
    with running_server(tmp_path, env={"AO_HTTP_TOKEN": TOKEN}) as (url, _):
        yield url


async def test_client_calls_a_tool_over_http(http_server: str) -> None:
    async with Client(http_server) as client:
        result = await client.call_tool("list_models", {})
    assert result.structured_content is not None
    assert result.structured_content["default_model"] == "local:smollm2-135m-instruct"


def test_foreign_origin_is_refused(http_server: str) -> None:
    response = httpx2.post(http_server, json=INITIALIZE, headers={**HEADERS, "Origin": "http://evil.example"})
    assert response.status_code == 403


def test_listed_origin_is_accepted(http_server: str) -> None:
    response = httpx2.post(http_server, json=INITIALIZE, headers={**HEADERS, "Origin": "http://trusted.example"})
    assert response.status_code == 200


def test_foreign_host_header_is_refused(http_server: str) -> None:
    response = httpx2.post(http_server, json=INITIALIZE, headers={**HEADERS, "Host": "evil.example"})
    assert response.status_code in (403, 421)


def test_an_unlisted_localhost_origin_is_refused(http_server: str) -> None:
    """fastmcp alone accepts any loopback Origin on a loopback server; only listed origins pass here."""
    response = httpx2.post(http_server, json=INITIALIZE, headers={**HEADERS, "Origin": "http://localhost:3000"})
    assert response.status_code == 403


def test_loopback_without_a_token_starts_with_one_warning_line(tmp_path: Path) -> None:
    with running_server(tmp_path) as (url, log_path):
        assert httpx2.post(url, json=INITIALIZE, headers=HEADERS).status_code == 200
        warnings = [line for line in log_path.read_text().splitlines() if "without AO_HTTP_TOKEN" in line]
    assert len(warnings) == 1 and "any local process can call the tools" in warnings[0]


def test_with_a_token_requests_without_it_get_401(token_server: str) -> None:
    response = httpx2.post(token_server, json=INITIALIZE, headers=HEADERS)
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")


async def test_with_a_token_a_client_sending_it_lists_the_tools(token_server: str) -> None:
    async with Client(token_server, auth=TOKEN) as client:
        tools = await client.list_tools()
    assert "list_models" in {tool.name for tool in tools}


def test_cli_module_runs_under_python_m() -> None:
    output = subprocess.run(
        [sys.executable, "-m", "agent_orchestrator.cli", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert output.startswith("ao ")
