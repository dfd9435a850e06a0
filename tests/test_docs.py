"""Generated docs stay in step with the code."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from fastmcp import Client

from agent_orchestrator.runtime import Runtime
from agent_orchestrator.server.app import create_server

ROOT = Path(__file__).resolve().parents[1]


def test_workflow_diagrams_are_current() -> None:
    spec = importlib.util.spec_from_file_location("render_workflow_docs", ROOT / "scripts/render_workflow_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs/workflows.md").read_text(encoding="utf-8") == module.render(), (
        "docs/workflows.md is stale: run python scripts/render_workflow_docs.py"
    )


def test_every_workflow_has_a_graph_with_nodes() -> None:
    from agent_orchestrator.workflows.catalog import list_workflows

    catalog = list_workflows()
    assert [w.name for w in catalog.workflows] == [
        "worker-interview",
        "leader-interview",
        "planning",
        "leader-worker-basic",
        "review",
        "fix-error",
    ]
    assert all(w.nodes and w.edges and w.mermaid.startswith("stateDiagram") for w in catalog.workflows)


def readme_tools(readme: str) -> list[str]:
    """The tool names the README's "## MCP server" section lists in backticks after "Tools (...):"."""
    section = readme.split("\n## MCP server\n", 1)[1].split("\n## ", 1)[0]
    listing = re.search(r"Tools \([^)]*\):(.*?`)\.\s", section, re.DOTALL)
    assert listing is not None, "the MCP server section no longer lists its tools after 'Tools (...):'"
    without_remarks = re.sub(r"\([^)]*\)", "", listing.group(1))  # `tool` (a remark naming `other`)
    return re.findall(r"`([a-z_]+)`", without_remarks)


def test_readme_tools_are_parsed() -> None:
    text = (
        "# x\n\n## MCP server\n\nTools (with schemas): `a_tool` (see `ao x`), `b`,\n`c`. Then `d`.\n\n## Next\n`e`"
    )
    assert readme_tools(text) == ["a_tool", "b", "c"]


@pytest.mark.anyio
async def test_readme_lists_exactly_the_servers_tools(runtime: Runtime) -> None:
    listed = readme_tools((ROOT / "README.md").read_text(encoding="utf-8"))
    async with Client(create_server(runtime)) as client:
        served = [tool.name for tool in await client.list_tools()]
    assert len(listed) == len(set(listed)), "the README names a tool twice"
    assert sorted(listed) == sorted(served), (
        f"README's MCP tool list is off: missing {sorted(set(served) - set(listed))}, "
        f"not served {sorted(set(listed) - set(served))}"
    )
