"""What model calls cost: one `CallRecord` per call (failed ones too), and their sum over a run.

`call_agent` records every call into a `UsageSink`: the run (which also keeps each record in the
call ledger, the source of `ao usage`), or any accumulator with the same method. Cost comes from
pydantic-ai's price lookup (genai-prices); a model it cannot price (local, scripted, self-hosted)
counts as unpriced, never as free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from agent_orchestrator.domain.calls import CallRecord


class UsageSink(Protocol):
    """Where a call's record goes: the run, or any accumulator with the same method."""

    def record_call(self, call: CallRecord) -> None: ...


@dataclass
class Usage:
    """Model usage and cost summed over a run; cost only counts calls genai-prices could price."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_responses: int = 0
    calls: int = 0
    failed_calls: int = 0
    retries: int = 0
    records: list[CallRecord] = field(default_factory=list[CallRecord])

    def record_call(self, call: CallRecord) -> None:
        self.records.append(call)
        self.calls += 1
        self.failed_calls += 0 if call.succeeded else 1
        self.retries += call.retries
        self.requests += call.requests
        self.input_tokens += call.input_tokens
        self.output_tokens += call.output_tokens
        if call.cost_usd is not None:
            self.cost_usd += call.cost_usd
        elif call.requests:
            self.unpriced_responses += call.requests

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def as_dict(self) -> dict[str, int | float | None]:
        """The run record's and results' `usage`; `cost_usd` is None when no response could be priced."""
        priced = self.requests > self.unpriced_responses
        return {
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6) if priced else None,
            "unpriced_responses": self.unpriced_responses,
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "retries": self.retries,
        }
