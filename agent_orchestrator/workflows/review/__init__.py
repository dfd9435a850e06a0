"""The review workflow: deterministic analysis of a diff, then findings that cite lines of it.

`graph` holds the graph and `review()`; `analysis` the deterministic part (files, sizes, secrets,
withheld files); `parts` splits the diff and asks the reviewer about each part.
"""

from __future__ import annotations

from agent_orchestrator.workflows.review.graph import GRAPH, REVIEW_NODES, ReviewResult, review

__all__ = ["GRAPH", "REVIEW_NODES", "ReviewResult", "review"]
