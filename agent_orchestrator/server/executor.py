"""`ao executor`: this process runs the state dir's background runs (the CLI reaches it through here)."""

from __future__ import annotations

from agent_orchestrator.config import Settings
from agent_orchestrator.providers import ModelFactory
from agent_orchestrator.runtime import Runtime


async def serve_executor(
    settings: Settings, idle_s: float | None, model_factory: ModelFactory | None = None
) -> int:
    """Run the queue until stopped (or `idle_s` without work); exits at once when another process is the
    executor. Models come from `model_factory` (None: the configured providers)."""
    from agent_orchestrator.durable.executor import serve

    return await serve(Runtime.create(settings, model_factory), idle_s)
