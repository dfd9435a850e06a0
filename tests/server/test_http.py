"""`ao mcp serve --transport http`: a real client over streamable HTTP; foreign Origin and Host refused."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    command = [
        *ao_command(),
        "mcp",
        "serve",
        "--transport",
        "http",
        "--port",
        str(port),
        "--allow-origin",
        "http://trusted.example",
    ]
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "server.log").read_text()
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


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


def test_cli_module_runs_under_python_m() -> None:
    output = subprocess.run(
        [sys.executable, "-m", "agent_orchestrator.cli", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert output.startswith("ao ")
