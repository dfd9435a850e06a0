"""Talking to models: the leader's and workers' output models, their instructions and the agent builder."""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above
