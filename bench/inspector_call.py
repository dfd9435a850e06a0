"""MCP Inspector CLI `tools/call` wall time: `ao mcp serve` against a bare one-tool FastMCP server.

Both are started by the Inspector over stdio in the same run; the ratio is what our server adds
(imports, settings, the app factory) on a cold start plus one call.
Usage: python bench/inspector_call.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, median_seconds

INSPECTOR = ROOT / "tools/inspector/node_modules/.bin/mcp-inspector"


def inspector_call(server: list[str], tool: str, env: dict[str, str]) -> None:
    command = [str(INSPECTOR), "--cli", *server, "--method", "tools/call", "--tool-name", tool]
    if tool == "echo":
        command += ["--tool-arg", "text=hi"]
    subprocess.run(command, check=True, capture_output=True, env=env, timeout=120)


def main(repeat: int) -> None:
    if not INSPECTOR.exists():
        sys.exit("run `make install-node-tools` first")
    home = tempfile.mkdtemp(prefix="ao-bench-")
    env = {
        **os.environ,
        "MCP_CATALOG_PATH": str(Path(home) / "catalog.json"),
        "AO_ENV_FILE": "",
        "AO_STATE_DIR": str(Path(home) / ".ao"),
    }
    ao = str(Path(sys.executable).parent / "ao")
    bare = median_seconds(
        lambda: inspector_call([sys.executable, str(ROOT / "bench/bare_server.py")], "echo", env), repeat
    )
    ours = median_seconds(lambda: inspector_call([ao, "mcp", "serve"], "list_models", env), repeat)
    print(f"bare FastMCP, tools/call echo         {bare:6.2f} s (median of {repeat})")
    print(f"ao mcp serve, tools/call list_models  {ours:6.2f} s (median of {repeat})")
    print(f"ratio                                 {ours / bare:6.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    main(parser.parse_args().repeat)
