"""Write docs/workflows.md: every workflow's graph as a mermaid diagram, generated from the code.

Usage: python scripts/render_workflow_docs.py [--check]   (--check fails when the file is stale)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent_orchestrator.workflows.catalog import list_workflows

TARGET = Path(__file__).resolve().parents[1] / "docs" / "workflows.md"


def render() -> str:
    parts = [
        "# Workflows\n",
        "Each workflow is an explicit pydantic-graph graph; these diagrams are generated from the code by",
        "`scripts/render_workflow_docs.py` (a test fails when they are out of date). `list_workflows`",
        "returns the same nodes and edges over MCP.\n",
    ]
    for info in list_workflows().workflows:
        parts += [
            f"## {info.name}\n",
            f"{info.description}  ",
            f"MCP tool `{info.tool}`, CLI `{info.command}`.\n",
            "```mermaid",
            info.mermaid.rstrip(),
            "```\n",
        ]
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    text = render()
    if parser.parse_args().check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run python scripts/render_workflow_docs.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
