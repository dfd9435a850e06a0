"""The leader-worker workflow: plan, route each step to a qualified worker, validate, leader review.

`graph` holds the graph and `leader_worker()`; `result` what it returns; `steps` runs one step
(worker call, checks, review rounds); `output_checks` checks step outputs deterministically.
Nothing is imported here, so importing `result` stays light.
"""

from __future__ import annotations
