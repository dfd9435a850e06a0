"""Generated docs stay in step with the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
        "planning",
        "leader-worker-basic",
        "review",
        "fix-error",
    ]
    assert all(w.nodes and w.edges and w.mermaid.startswith("stateDiagram") for w in catalog.workflows)
