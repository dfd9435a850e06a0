"""One model call as recorded: who served it, what it spent, how it went.

Shared by the agents (which make the record), the run recorder (which keeps it with the run),
the call ledger in the store (`ao usage`) and the run views (`get_run`, `ao runs show`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent_orchestrator.domain.profile import ErrorKind


class CallRecord(BaseModel):
    """One model call (all its attempts); `error` is one redacted line a user can act on."""

    role: str
    model_id: str
    started: float = Field(description="epoch seconds")
    latency_ms: int
    attempts: int
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    error_kind: ErrorKind | None = None
    error: str | None = None
    fallback_from: str | None = Field(default=None, description="the model this call replaced")
    fallback_reason: str | None = Field(default=None, description="why that model was replaced")
    call_id: str | None = Field(
        default=None, description="unique per call: a replayed run records the same call once, not twice"
    )

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)

    @property
    def succeeded(self) -> bool:
        return self.error is None


class CallTotals(BaseModel):
    """Model calls summed (a run's model, a period's model, role or workflow), failed calls included."""

    calls: int
    failed_calls: int
    retries: int
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="None when no call could be priced")
