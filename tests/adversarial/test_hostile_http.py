"""Hostile HTTP clients: no token, a wrong token, a foreign bind address, a local page's Origin.

The real server runs as `ao mcp serve --transport http` in a subprocess on a free loopback port,
every wait bounded; the bind-address and origin rules are also checked in-process, table by table.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx2
import pytest
from fastmcp import Client
from processes import ao_command, free_port, http_server, initialize_requests
from pydantic import SecretStr

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import ConfigError, UsageError
from agent_orchestrator.server.http import is_loopback, normalize_origin, plan_http

pytestmark = pytest.mark.anyio
TOKEN = "hostile-test-" + "k3y0123456789abcdefXYZ"
INITIALIZE = initialize_requests("t")[0]
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def post(url: str, **headers: str) -> httpx2.Response:
    return httpx2.post(url, json=INITIALIZE, headers={**HEADERS, **headers}, timeout=10)


def bearer(token: str) -> str:
    return f"Bearer {token}"


async def test_every_request_needs_the_token_and_the_token_is_never_logged(tmp_path: Path) -> None:
    env = {"AO_HTTP_TOKEN": TOKEN, "LOG_LEVEL": "DEBUG", "FASTMCP_LOG_LEVEL": "DEBUG"}
    with http_server(tmp_path, env=env) as (url, log_path):
        refused = {
            "none": post(url),
            "wrong": post(url, Authorization=bearer("hostile-guess-0123456789abcdef")),
            "prefix": post(url, Authorization=bearer(TOKEN[:-1])),
            "longer": post(url, Authorization=bearer(TOKEN + "x")),
            "basic scheme": post(url, Authorization=f"Basic {TOKEN}"),
            "no scheme": post(url, Authorization=TOKEN),
            "empty": post(url, Authorization="Bearer"),
        }
        other_path = httpx2.get(url.removesuffix("/mcp") + "/anything", timeout=10)
        accepted = post(url, Authorization=bearer(TOKEN))
        async with Client(url, auth=TOKEN) as client:
            tools = await client.list_tools()
        log = log_path.read_text()
    assert {name: response.status_code for name, response in refused.items()} == dict.fromkeys(refused, 401)
    assert all(TOKEN not in response.text for response in refused.values())
    assert other_path.status_code == 401, "every path needs the token, not only /mcp"
    assert accepted.status_code == 200 and "review" in {tool.name for tool in tools}
    assert "DEBUG" in log, "the server really logged at DEBUG"
    assert TOKEN not in log and "without AO_HTTP_TOKEN" not in log


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_a_non_loopback_bind_without_a_token_refuses_to_start(host: str) -> None:
    port = free_port()
    command = [*ao_command(), "mcp", "serve", "--transport", "http", "--host", host, "--port", str(port)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert done.returncode == 2, done.stderr
    assert "AO_HTTP_TOKEN" in done.stderr and "secrets.token_urlsafe(32)" in done.stderr
    assert done.stdout == ""


def test_a_local_page_origin_is_refused_unless_listed(tmp_path: Path) -> None:
    with http_server(tmp_path, "--allow-origin", "http://localhost:5173") as (url, _):
        port = url.split(":")[2].split("/")[0]
        statuses = {
            origin: post(url, Origin=origin).status_code
            for origin in (
                "http://localhost:3000",
                f"http://127.0.0.1:{port}",  # "same origin" as the server: still not listed
                "http://[::1]:3000",
                "null",
                "",
                "http://localhost:5173.evil.example",
                "http://LOCALHOST:5173/",  # the listed origin, spelled differently
            )
        }
        without_origin = post(url).status_code
    assert statuses == {
        "http://localhost:3000": 403,
        f"http://127.0.0.1:{port}": 403,
        "http://[::1]:3000": 403,
        "null": 403,
        "": 403,
        "http://localhost:5173.evil.example": 403,
        "http://LOCALHOST:5173/": 200,
    }
    assert without_origin == 200, "non-browser clients send no Origin and are accepted"


def test_the_origin_is_checked_before_the_token(tmp_path: Path) -> None:
    with http_server(tmp_path, env={"AO_HTTP_TOKEN": TOKEN}) as (url, _):
        response = post(url, Origin="http://localhost:3000", Authorization=bearer(TOKEN))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LocalHost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("10.0.0.5", False),
        ("::ffff:127.0.0.1", False),
        ("localhost.evil.example", False),
        ("127.0.0.1.nip.io", False),
    ],
)
def test_only_loopback_addresses_count_as_loopback(settings: Settings, host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        assert plan_http(settings, host, 8765, []).warning is not None
    else:
        with pytest.raises(ConfigError, match="AO_HTTP_TOKEN"):
            plan_http(settings, host, 8765, [])
    with_token = settings.model_copy(update={"ao_http_token": SecretStr(TOKEN)})
    serving_plan = plan_http(with_token, host, 8765, [])
    assert serving_plan.warning is None and TOKEN not in repr(serving_plan)


@pytest.mark.parametrize("token", ["short", "has space in the middle!!", "ünïcödé-token-0123456789"])
def test_weak_or_unsendable_tokens_are_refused(settings: Settings, token: str) -> None:
    with pytest.raises(ConfigError, match="AO_HTTP_TOKEN") as caught:
        plan_http(settings.model_copy(update={"ao_http_token": SecretStr(token)}), "127.0.0.1", 8765, [])
    assert token not in str(caught.value)


@pytest.mark.parametrize("given", ["*", "localhost:3000", "http://x.example/path", "file:///tmp", "http://*.x"])
def test_allow_origin_takes_exact_origins_only(settings: Settings, given: str) -> None:
    with pytest.raises(UsageError, match="--allow-origin"):
        plan_http(settings, "127.0.0.1", 8765, [given])


def test_origins_are_compared_normalised() -> None:
    assert normalize_origin("HTTP://LocalHost") == "http://localhost:80"
    assert normalize_origin("https://x.example:443/") == "https://x.example:443"
    assert normalize_origin("http://[::1]:3000") == "http://[::1]:3000"
    assert normalize_origin("http://user@x.example") is None
