"""`ao mcp config HOST`: the MCP server entry for Claude Desktop, VS Code or Cursor.

The command is the absolute path of this `ao`; environment variables appear by name with
placeholders, never with their values.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

SERVER_KEY = "agent-orchestrator"
ENV_PLACEHOLDERS = {
    "WORKER_MODEL_PROVIDER": "local",
    "WORKER_MODEL_NAME": "smollm2-135m-instruct",
    "WORKER_MODEL_API_KEY": "<your worker API key, if the provider needs one>",
    "LEADER_MODEL_PROVIDER": "local",
    "LEADER_MODEL_NAME": "smollm2-135m-instruct",
    "LEADER_MODEL_API_KEY": "<your leader API key, if the provider needs one>",
}
WHERE = {
    "claude-desktop": "Add to claude_desktop_config.json (Settings > Developer > Edit Config):",
    "vscode": (
        "Add to your user-level mcp.json (Command Palette > MCP: Open User Configuration). A workspace's "
        ".vscode/mcp.json is repository content: anyone who can commit can change it."
    ),
    "cursor": (
        "Add to ~/.cursor/mcp.json. A project's .cursor/mcp.json is repository content: anyone who can commit "
        "can change it."
    ),
}


def ao_executable() -> str:
    """The absolute path of the running `ao` (falls back to `python -m agent_orchestrator.cli`)."""
    candidate = Path(sys.argv[0])
    if candidate.name == "ao" and candidate.exists():
        return str(candidate.resolve())
    found = shutil.which("ao", path=str(Path(sys.executable).parent))
    return str(Path(found).resolve()) if found else ""


def server_entry() -> dict[str, Any]:
    command = ao_executable()
    args = ["mcp", "serve"]
    if not command:
        command, args = str(Path(sys.executable).resolve()), ["-m", "agent_orchestrator.cli", *args]
    # Hosts often start servers in `/` or the home dir: pin the state dir to where this ran.
    env = {**ENV_PLACEHOLDERS, "AO_STATE_DIR": str(Path.cwd() / ".ao")}
    return {"command": command, "args": args, "env": env}


def host_config(host: str) -> str:
    """The JSON snippet for one host (where it goes is `WHERE[host]`)."""
    entry = server_entry()
    if host == "vscode":
        document: dict[str, Any] = {"servers": {SERVER_KEY: {"type": "stdio", **entry}}}
    else:
        document = {"mcpServers": {SERVER_KEY: entry}}
    return json.dumps(document, indent=2)
