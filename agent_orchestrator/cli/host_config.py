"""`ao mcp config HOST`: the MCP server entry for Claude Desktop, VS Code or Cursor.

The command is the absolute path of this `ao`. Each entry pins the workspace the way its host
can: VS Code and Cursor with `${workspaceFolder}`, Claude Desktop (which starts servers in `/`)
with an absolute path: `--workspace DIR`, else the top of the git repository this runs in, else
refused, unless `--allowed-root` lists the directories whose repositories the server may work on
(AO_ALLOWED_ROOTS: tools then take a `repository` argument). Entries carry no keys and no
placeholders: keys live in the user config file, which the server reads itself. VS Code also gets
the provider and model variables set in this environment, by reference (`${env:NAME}`), never by
value.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from agent_orchestrator.config import allowed_root, load_settings, unsafe_workspace_reason
from agent_orchestrator.errors import UsageError

SERVER_KEY = "agent-orchestrator"
HOSTS = ("claude-desktop", "vscode", "cursor")
WORKSPACE_VARIABLE = {"vscode": "${workspaceFolder}", "cursor": "${workspaceFolder}"}
# Settings a host entry may pass through by reference where the host resolves `${env:NAME}`: never keys.
MODEL_VARIABLES = (
    "LEADER_MODEL_PROVIDER",
    "LEADER_MODEL_NAME",
    "LEADER_MODEL_BASE_URL",
    "WORKER_MODEL_PROVIDER",
    "WORKER_MODEL_NAME",
    "WORKER_MODEL_BASE_URL",
    "LITELLM_BASE_URL",
    "OLLAMA_BASE_URL",
)
KEYS_NOTE = (
    "The entry holds no keys: put them (and your LEADER_MODEL_*/WORKER_MODEL_* settings) in your user config "
    "file (`ao config show` prints where it is; `ao config move-keys` moves them out of a .env)."
)
CLAUDE_CONFIG_FILES = (
    "macOS: ~/Library/Application Support/Claude/claude_desktop_config.json; "
    "Windows: %APPDATA%\\Claude\\claude_desktop_config.json; "
    "Linux: ~/.config/Claude/claude_desktop_config.json"
)
WHERE = {
    "claude-desktop": (
        "Add to claude_desktop_config.json (Settings > Developer > Edit Config; "
        f"{CLAUDE_CONFIG_FILES}), then restart Claude Desktop. AO_WORKSPACE_ROOT is the repository the "
        "server works on; AO_ALLOWED_ROOTS (from --allowed-root) the directories whose repositories a tool "
        f"call may name. {KEYS_NOTE}"
    ),
    "vscode": (
        "Add to your user-level mcp.json (Command Palette > MCP: Open User Configuration). A workspace's "
        ".vscode/mcp.json is repository content: anyone who can commit can change it. ${workspaceFolder} "
        f"makes the open folder the workspace. {KEYS_NOTE}"
    ),
    "cursor": (
        "Add to ~/.cursor/mcp.json. A project's .cursor/mcp.json is repository content: anyone who can commit "
        f"can change it. ${{workspaceFolder}} makes the open project the workspace. {KEYS_NOTE}"
    ),
}


def ao_executable() -> str:
    """The absolute path of the running `ao` (falls back to `python -m agent_orchestrator.cli`)."""
    candidate = Path(sys.argv[0])
    if candidate.name == "ao" and candidate.exists():
        return str(candidate.resolve())
    found = shutil.which("ao", path=str(Path(sys.executable).parent))
    return str(Path(found).resolve()) if found else ""


def git_top_level(start: Path) -> Path | None:
    """The top of the git work tree containing `start` (the nearest directory with a `.git`), or None."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def pinned_workspace(workspace: str | None) -> Path:
    """The absolute workspace for a host that cannot name its own: `--workspace`, else the repository
    `ao` runs in. A `UsageError` saying what to pass when there is neither, or it is `/` or home."""
    if workspace is not None:
        chosen = Path(os.path.realpath(Path(workspace).expanduser()))
        if not chosen.is_dir():
            raise UsageError(f"--workspace {workspace!r} is not a directory")
        source = f"--workspace {workspace!r}"
    else:
        cwd = Path(os.path.realpath(Path.cwd()))
        top = git_top_level(cwd)
        if top is None:
            raise UsageError(
                f"{cwd} is not inside a git repository, so there is no workspace to pin: run `ao mcp config` "
                "in the repository the server should work on, or pass --workspace DIR"
            )
        chosen, source = top, f"the git repository {str(top)!r}"
    if reason := unsafe_workspace_reason(chosen):
        raise UsageError(f"{source} is {reason}, which is never a workspace; pass --workspace DIR")
    return chosen


def _model_references() -> dict[str, str]:
    """`${env:NAME}` for each provider/model variable set in this environment (VS Code resolves them)."""
    report = load_settings().report()
    return {
        source.name: f"${{env:{source.name}}}"
        for source in report.settings
        if source.name in MODEL_VARIABLES and source.origin == "environment"
    }


def allowed_roots_value(roots: list[str]) -> str:
    """AO_ALLOWED_ROOTS for `--allowed-root` values: each resolved and checked as the server will check it."""
    checked: list[str] = []
    for root in roots:
        try:
            checked.append(str(allowed_root(Path(os.path.abspath(Path(root).expanduser())))))
        except ValueError as exc:
            raise UsageError(str(exc).replace("AO_ALLOWED_ROOTS entry", "--allowed-root", 1)) from None
    return ",".join(dict.fromkeys(checked))


def server_entry(
    host: str, workspace: str | None = None, allowed_roots: list[str] | None = None
) -> dict[str, Any]:
    command = ao_executable()
    args = ["mcp", "serve"]
    if not command:
        command, args = str(Path(sys.executable).resolve()), ["-m", "agent_orchestrator.cli", *args]
    env: dict[str, str] = {}
    # Hosts start servers in `/` or the home dir, never a workspace: pin it. The state dir follows it (`.ao`).
    # With allowed roots and no repository to pin, the server has none: tools then need `repository`.
    if workspace is None and host in WORKSPACE_VARIABLE:
        env["AO_WORKSPACE_ROOT"] = WORKSPACE_VARIABLE[host]
    elif workspace is not None or not allowed_roots or git_top_level(Path(os.path.realpath(Path.cwd()))):
        env["AO_WORKSPACE_ROOT"] = str(pinned_workspace(workspace))
    if allowed_roots:
        env["AO_ALLOWED_ROOTS"] = allowed_roots_value(allowed_roots)
    if host == "vscode":
        env |= _model_references()
    return {"command": command, "args": args, "env": env}


def host_config(host: str, workspace: str | None = None, allowed_roots: list[str] | None = None) -> str:
    """The JSON snippet for one host (where it goes is `WHERE[host]`); `UsageError` when the workspace
    cannot be pinned (Claude Desktop outside a repository without `workspace` or `allowed_roots`)."""
    entry = server_entry(host, workspace, allowed_roots)
    if host == "vscode":
        document: dict[str, Any] = {"servers": {SERVER_KEY: {"type": "stdio", **entry}}}
    else:
        document = {"mcpServers": {SERVER_KEY: entry}}
    return json.dumps(document, indent=2)
