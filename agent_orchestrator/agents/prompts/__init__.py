"""Everything a model is told, in one place: `instructions` (the agents' system instructions, also
served as MCP prompts), `prompt` (a prompt as our text plus untrusted data, redacted and fenced only
when rendered) and one module of prompt builders per workflow: `planning`, `steps` (leader-worker),
`review`, `fix`.
"""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above
