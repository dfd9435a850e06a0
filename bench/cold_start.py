"""Cold start, measured against bare FastMCP baselines in the same run (medians).

1. stdio: spawn the server, send `initialize` + `tools/list`, wait for the tools/list answer;
   `ao mcp serve` vs a bare one-tool FastMCP server (bare_server.py).
2. CLI: `ao worker list`, `ao runs list`, `ao models list` vs a bare script that builds a one-tool
   FastMCP server and calls its tool through an in-process `Client(server)`, as `ao` does.
The targets (issue: hosts) are 1.3x the baseline for both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from _common import isolated_state, median_seconds
from processes import initialize_requests  # tests/ is on the path (see _common)

HERE = Path(__file__).resolve().parent
BARE_CLIENT = """
import anyio
from fastmcp import Client, FastMCP
server = FastMCP("bare")
@server.tool
def echo(text: str) -> str:
    return text
async def main():
    async with Client(server) as client:
        await client.call_tool("echo", {"text": "x"})
anyio.run(main)
"""


def _requests() -> bytes:
    messages = [*initialize_requests("bench"), {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]
    return b"".join(json.dumps(message).encode() + b"\n" for message in messages)


def stdio_round(command: list[str]) -> None:
    """Start a stdio server, read until the tools/list answer (id 2), then close it."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(_requests())
    process.stdin.flush()
    for line in process.stdout:
        if json.loads(line).get("id") == 2:
            break
    process.stdin.close()
    process.wait(timeout=30)


def main(repeat: int) -> None:
    ao = shutil.which("ao") or sys.exit("ao is not on PATH: activate the venv first")
    isolated_state()
    env_python = sys.executable
    bare = median_seconds(lambda: stdio_round([env_python, str(HERE / "bare_server.py")]), repeat)
    ours = median_seconds(lambda: stdio_round([ao, "mcp", "serve"]), repeat)
    print(
        f"stdio initialize + tools/list   bare {bare * 1000:7.0f} ms   ao mcp serve {ours * 1000:7.0f} ms"
        f"   ratio {ours / bare:5.2f}x (target 1.3x)"
    )
    baseline = median_seconds(lambda: subprocess.run([env_python, "-c", BARE_CLIENT], check=True), repeat)
    print(f"bare in-process Client call     {baseline * 1000:7.0f} ms")
    for command in (["worker", "list"], ["runs", "list"], ["models", "list"]):
        took = median_seconds(lambda c=command: subprocess.run([ao, *c], check=True, capture_output=True), repeat)
        print(f"ao {' '.join(command):<28} {took * 1000:7.0f} ms   ratio {took / baseline:5.2f}x (target 1.3x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    os.environ.setdefault("PYDANTIC_AI_NO_BANNER", "1")
    main(parser.parse_args().repeat)
