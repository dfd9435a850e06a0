"""Helpers for tests that run `ao` as a subprocess."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


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
