"""The workflows this server runs, each an explicit pydantic-graph graph: names, nodes, edges, diagram."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel

if TYPE_CHECKING:
    from pydantic_graph import Graph


@dataclass(frozen=True)
class WorkflowEntry:
    """A workflow and the module defining its `GRAPH` (dotted path), imported only when it is asked for."""

    name: str
    module: str
    tool: str
    command: str
    description: str

    @property
    def graph(self) -> Graph[Any, Any, Any, Any]:
        module = importlib.import_module(self.module)
        return cast("Graph[Any, Any, Any, Any]", module.GRAPH)


ENTRIES: tuple[WorkflowEntry, ...] = (
    WorkflowEntry(
        "worker-interview",
        "agent_orchestrator.workflows.interview",
        "interview_worker",
        "ao worker interview",
        "Interview a worker model and decide what it may be given.",
    ),
    WorkflowEntry(
        "leader-interview",
        "agent_orchestrator.workflows.leader_interview",
        "interview_leader",
        "ao leader interview",
        "Interview the leader: planning, review with planted defects, verdicts, fixing; a profile per role.",
    ),
    WorkflowEntry(
        "planning",
        "agent_orchestrator.workflows.planning",
        "plan",
        "ao plan",
        "Plan a goal: steps with task types and dependencies, assignments, risks, validation; optionally a "
        "second model's draft to mark the risks both name.",
    ),
    WorkflowEntry(
        "leader-worker-basic",
        "agent_orchestrator.workflows.leader_worker.graph",
        "run_leader_worker",
        "ao run leader-worker-basic",
        "Plan, route steps to qualified workers, validate, leader review.",
    ),
    WorkflowEntry(
        "review",
        "agent_orchestrator.workflows.review.graph",
        "review",
        "ao review",
        "Review a diff: deterministic analysis, then findings that cite lines of the diff; optionally a second "
        "model reviews too and findings both cite are confirmed.",
    ),
    WorkflowEntry(
        "fix-error",
        "agent_orchestrator.workflows.fix_error.graph",
        "fix_error",
        "ao fix",
        "Parse an error log, propose a checked patch, apply and validate it when writes are allowed.",
    ),
)
_EDGE = re.compile(r"^\s*(\S+) --> (\S+)\s*$")


class WorkflowInfo(BaseModel):
    """One workflow: how to call it and its graph."""

    name: str
    description: str
    tool: str
    command: str
    nodes: list[str]
    edges: list[tuple[str, str]]
    mermaid: str


class WorkflowCatalog(BaseModel):
    workflows: list[WorkflowInfo]


def workflow_info(entry: WorkflowEntry) -> WorkflowInfo:
    """The workflow's graph as nodes, edges and a mermaid state diagram."""
    graph = entry.graph
    mermaid: str = graph.render()
    nodes = [str(node) for node in graph.nodes if not str(node).startswith("__")]
    edges = [(m.group(1), m.group(2)) for line in mermaid.splitlines() if (m := _EDGE.match(line))]
    return WorkflowInfo(
        name=entry.name,
        description=entry.description,
        tool=entry.tool,
        command=entry.command,
        nodes=nodes,
        edges=edges,
        mermaid=mermaid,
    )


def list_workflows() -> WorkflowCatalog:
    return WorkflowCatalog(workflows=[workflow_info(entry) for entry in ENTRIES])
