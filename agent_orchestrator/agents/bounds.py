"""How long and how hard one model call may try: the retry policy and the call's bounds.

Plain data (no pydantic-ai), so the run recorder can hand bounds to calls without loading the
agent stack; `resilience` and `calls` apply them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries: attempts, backoff and the deadline over all of them (waits included)."""

    max_retries: int = 6
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0

    def wait_s(self, retry: int, retry_after: float | None) -> float:
        """The wait before retry `retry` (1-based): the server's Retry-After, else capped exponential
        backoff with jitter (a random point in [backoff/2, backoff])."""
        if retry_after is not None and retry_after >= 0:
            return retry_after
        ceiling = min(self.max_backoff_s, self.backoff_s * 2 ** (retry - 1))
        return ceiling / 2 + random.random() * ceiling / 2


@dataclass(frozen=True)
class CallBounds:
    """How long and how hard one call may try, and what it may spend."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float | None = None  # the call's own deadline, over every attempt and wait
    run_deadline: float | None = None  # monotonic: the run's deadline, shared by its calls
    run_deadline_name: str = "the run's deadline (AO_RUN_TIMEOUT)"  # what a call it cuts says
    gate: Callable[[], None] | None = None  # raises before an attempt the run's budget does not allow
    provider_limits: Mapping[str, int] = field(default_factory=dict[str, int])  # AO_PROVIDER_CONCURRENCY

    def deadline(self) -> tuple[float | None, str]:
        """The earlier of the call's and the run's deadlines (monotonic), and which one it is."""
        own = None if self.timeout_s is None else time.monotonic() + self.timeout_s
        if self.run_deadline is not None and (own is None or self.run_deadline < own):
            return self.run_deadline, self.run_deadline_name
        return own, f"the call's deadline of {self.timeout_s or 0:g} s (AO_MODEL_CALL_TIMEOUT)"
