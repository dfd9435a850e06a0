"""Helpers for tests that run `ao` as a subprocess."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def ao_command() -> list[str]:
    """The `ao` of the interpreter running the tests (or `python -m agent_orchestrator.cli`)."""
    found = shutil.which("ao", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "agent_orchestrator.cli"]


def initialize_requests(client_name: str = "raw") -> list[dict[str, object]]:
    """The JSON-RPC messages that open an MCP session over stdio."""
    return [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": client_name, "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def http_server(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
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


def run_ao(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `ao ARGV` in-process: (exit code, stdout, stderr)."""
    from agent_orchestrator.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err
