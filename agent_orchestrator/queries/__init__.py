"""Read-side queries the server answers without running a workflow: saved workers, models, runs."""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above
