"""Model usage and cost of a run's agent calls, summed; cost only where genai-prices knows the model.

`call_agent` records into a `UsageSink` whether the call succeeds or not, so the requests and
tokens a failed call spent (invalid output after its retries, an exhausted budget) still count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the run recorder (and with it the CLI) must not load the agent stack to count usage
    from pydantic_ai.messages import ModelMessage, ModelResponse
    from pydantic_ai.usage import RunUsage


class UsageSink(Protocol):
    """Where a call's usage goes: the run's `Usage`, or any accumulator with the same method."""

    def record(self, usage: RunUsage, messages: Sequence[ModelMessage]) -> None: ...


@dataclass
class Usage:
    """Model usage and cost summed over a run; cost only counts responses genai-prices can price."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_responses: int = 0

    def record(self, usage: RunUsage, messages: Sequence[ModelMessage]) -> None:
        """Add one agent call's usage and the price of each response it received (failed calls too)."""
        self.requests += usage.requests
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        for message in messages:
            if message.kind == "response":
                self._price(message)

    def _price(self, response: ModelResponse) -> None:
        try:
            self.cost_usd += float(response.cost().total_price)
        except Exception:  # unknown model or provider (local, scripted, self-hosted): no price exists
            self.unpriced_responses += 1

    def as_dict(self) -> dict[str, int | float | None]:
        """The run record's and results' `usage`; `cost_usd` is None when no response could be priced."""
        priced = self.requests > self.unpriced_responses
        return {
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6) if priced else None,
            "unpriced_responses": self.unpriced_responses,
        }
