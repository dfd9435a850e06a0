"""Caps on the model calls in flight per provider, shared by every run of the process
(AO_PROVIDER_CONCURRENCY): an executor running many runs must not open more connections to one
provider than its rate limits allow, whatever each run's own per-role caps say.

A limiter belongs to an event loop; each loop (a process has one in practice) gets its own.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Mapping

import anyio

_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, int], anyio.CapacityLimiter]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def provider_limiter(model_id: str, limits: Mapping[str, int]) -> anyio.CapacityLimiter | None:
    """The process-wide cap for `model_id`'s provider (`provider:model`), or None when it has none."""
    provider = model_id.partition(":")[0].lower()
    limit = limits.get(provider)
    if limit is None:
        return None
    loop = asyncio.get_running_loop()
    with _LOCK:
        limiters = _LIMITERS.setdefault(loop, {})
        if (provider, limit) not in limiters:
            limiters[(provider, limit)] = anyio.CapacityLimiter(limit)
        return limiters[(provider, limit)]
