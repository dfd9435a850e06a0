"""How a long call reports progress: `(done, total, message)`, awaited (MCP progress notifications)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

ProgressCallback = Callable[[int, int, str], Awaitable[None]]
