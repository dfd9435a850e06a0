"""`ao mcp serve --transport http`: a real client over streamable HTTP; foreign Origin and Host refused."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastmcp import Client
from processes import http_server as running_server
from processes import initialize_requests

pytestmark = pytest.mark.anyio
INITIALIZE = initialize_requests("t")[0]
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
TOKEN = "test-token-" + "0123456789abcdefghij"


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
