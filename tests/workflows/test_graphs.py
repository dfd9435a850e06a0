"""Graphs are built one way (structure validated) and their nodes name themselves after their classes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic_graph import BaseNode, End, GraphRunContext
from pydantic_graph.exceptions import GraphValidationError

from agent_orchestrator.workflows import catalog
from agent_orchestrator.workflows.graphs import build_graph, node_names

PACKAGE = Path(__file__).resolve().parents[2] / "agent_orchestrator"


@pytest.mark.parametrize("entry", catalog.ENTRIES, ids=lambda entry: entry.name)
def test_every_workflow_graph_lists_its_node_classes(entry: catalog.WorkflowEntry) -> None:
    described = catalog.workflow_info(entry).nodes
    assert node_names(entry.graph) == tuple(name for name in described if not name.startswith("decision"))


def test_no_workflow_names_a_graph_node_with_a_string() -> None:
    """Graph nodes record themselves with `run.recorded(self)`; a `run.node("Literal")` could go stale."""
    literal = re.compile(r"\.node\(\s*[\"'][A-Z]")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in (PACKAGE / "workflows").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if literal.search(line)
    ]
    assert offenders == []


@dataclass
class Start(BaseNode[None, None, str]):
    async def run(self, ctx: GraphRunContext[None, None]) -> End[str]:
        return End("done")


@dataclass
class Orphan(BaseNode[None, None, str]):
    """Nothing leads here: the structure check refuses the graph."""

    async def run(self, ctx: GraphRunContext[None, None]) -> End[str]:
        return End("never")


def test_structure_validation_is_on() -> None:
    graph = build_graph("ok", state_type=type(None), deps_type=type(None), output_type=str, start=Start, nodes=[])
    assert node_names(graph) == ("Start",)
    with pytest.raises(GraphValidationError, match="reachable"):
        build_graph(
            "bad", state_type=type(None), deps_type=type(None), output_type=str, start=Start, nodes=[Orphan]
        )
