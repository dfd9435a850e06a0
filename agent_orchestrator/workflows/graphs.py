"""The one way a workflow builds its graph: nodes in order, the first one the start, structure validated.

pydantic-graph's structure validation (an edge from the start, an edge to the end, no dead ends,
every node reachable) is on for every graph, so a node that can no longer be reached, or one that
can neither end nor go on, fails at import rather than at run time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic_graph import BaseNode, Graph, GraphBuilder
from pydantic_graph.step import NodeStep

StateT = TypeVar("StateT")
DepsT = TypeVar("DepsT")
StartT = TypeVar("StartT", bound=BaseNode[Any, Any, Any])
OutputT = TypeVar("OutputT")


def build_graph(
    name: str,
    *,
    state_type: type[StateT],
    deps_type: type[DepsT],
    output_type: type[OutputT],
    start: type[StartT],
    nodes: Sequence[type[BaseNode[StateT, DepsT, OutputT]]],
    auto_instrument: bool = True,
) -> Graph[StateT, DepsT, StartT, OutputT]:
    """A graph entered at `start` (the graph's input is that node) over `start` and `nodes`, validated."""
    builder = GraphBuilder(
        name=name,
        state_type=state_type,
        deps_type=deps_type,
        input_type=start,
        output_type=output_type,
        auto_instrument=auto_instrument,
    )
    builder.add(
        builder.edge_from(builder.start_node).to(start),
        *(builder.node(node) for node in dict.fromkeys([start, *nodes])),
    )
    return builder.build(validate_graph_structure=True)


def node_names(graph: Graph[Any, Any, Any, Any]) -> tuple[str, ...]:
    """The ids of the graph's `BaseNode` nodes in the order added (its start, end and decisions left out).

    These are the names the nodes record themselves under (`RunContext.recorded`).
    """
    return tuple(node.node_type.get_node_id() for node in graph.nodes.values() if isinstance(node, NodeStep))
