"""The workflows, each an explicit pydantic-graph graph: `interview`, `planning`, `leader_worker/`,
`review/`, `fix_error/`; plus `validate` (no model), `recorder` (run records, progress, usage) and
`catalog` (the graphs for `list_workflows` and the docs). A workflow with helpers is a subpackage.
"""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above
