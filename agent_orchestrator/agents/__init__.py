"""Talking to models: `build` (agents), `calls` (the one way to call one: prompt rendered, usage
recorded, failed calls too), `usage` (usage and cost), `models` (output types) and `prompts/`
(instructions and every prompt builder)."""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above
