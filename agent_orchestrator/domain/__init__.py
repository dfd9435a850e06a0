"""Data models several layers share: the worker profile, task types and their risk, interview results.

Low in the dependency order so the store, the agents' output models, the interview and the workflows
can all use them without importing each other.
"""

from __future__ import annotations

__all__: list[str] = []  # nothing at package level: import the modules named above
