"""Deterministic tools over a repository, no model: git reads, unified-diff parsing, error-log parsing,
scoped file context and the patch applier.
"""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above
