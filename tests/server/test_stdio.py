"""`ao mcp serve` as a real subprocess: a real MCP client drives it, and stdout carries only protocol."""

from __future__ import annotations

import json
import os
import subprocess
import threading

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from processes import ao_command, initialize_requests

pytestmark = pytest.mark.anyio


def server_env() -> dict[str, str]:
    return {**os.environ, "LOG_LEVEL": "DEBUG"}


async def test_real_client_lists_calls_reads_and_gets_prompts() -> None:
    command = ao_command()
    transport = StdioTransport(command=command[0], args=[*command[1:], "mcp", "serve"], env=server_env())
    async with Client(transport) as client:
        tools = {tool.name for tool in await client.list_tools()}
        models = await client.call_tool("list_models", {})
        workers = await client.read_resource("ao://workers")
        prompt = await client.get_prompt("worker_interview_instructions")
    assert {"interview_worker", "list_models"} <= tools
    assert models.structured_content is not None
    assert models.structured_content["default_model"] == "local:smollm2-135m-instruct"
    assert json.loads(workers[0].text)["workers"] == []
    assert "one question of an interview" in prompt.messages[0].content.text


def test_stdout_carries_only_json_rpc_even_at_debug_logging() -> None:
    requests = [
        *initialize_requests(),
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "get_worker_profile", "arguments": {"worker_id": "no:such"}},
        },
    ]
    process = subprocess.Popen(
        [*ao_command(), "mcp", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(),
    )
    assert process.stdin is not None and process.stdout is not None
    killer = threading.Timer(60, process.kill)
    killer.start()
    try:
        for request in requests:
            process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        messages: list[dict[str, object]] = []
        while not any(message.get("id") == 3 for message in messages):
            line = process.stdout.readline()
            assert line, "server closed stdout before answering"
            messages.append(json.loads(line))  # a non-JSON line on stdout fails here
        process.stdin.close()
        process.wait(timeout=30)
        messages += [json.loads(line) for line in process.stdout.read().splitlines() if line.strip()]
    finally:
        killer.cancel()
        process.kill()
    assert all(message.get("jsonrpc") == "2.0" for message in messages)
    error = next(message for message in messages if message.get("id") == 3)
    assert error["result"]["isError"] is True  # type: ignore[index]
