"""The leader-worker workflow: plan, route each step to a qualified worker, validate, leader review.

`graph` holds the graph and `leader_worker()`; `steps` runs one step (worker call, checks, review
rounds); `output_checks` checks step outputs deterministically.
"""

from __future__ import annotations

from agent_orchestrator.workflows.leader_worker.graph import GRAPH, WORKFLOW, LeaderWorkerResult, leader_worker

__all__ = ["GRAPH", "WORKFLOW", "LeaderWorkerResult", "leader_worker"]
