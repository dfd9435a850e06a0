"""A run's budget: requests, tokens and cost per run, and spending caps per UTC day and month.

`RunBudget.check` runs before every attempt of every model call of the run (the `CallBounds.gate`),
so parallel steps share one budget. Requests are counted when an attempt starts, so the request
limit is exact however many calls run at once; tokens and cost are known only when a call ends,
so calls already in flight when a limit is reached may pass it by what they spend. The day and
month caps add what earlier runs and interviews spent (the call ledger, read when the run starts)
to this run's spend; runs started in parallel elsewhere are not seen until they finish a call.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_orchestrator.agents.usage import Usage
from agent_orchestrator.errors import AOError


class BudgetExceeded(AOError):
    """A run's budget or a spending cap would be exceeded by another model request."""


@dataclass(frozen=True)
class BudgetLimits:
    """Per-run limits and the spending caps; None: no limit."""

    max_requests: int | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    daily_cost_usd: float | None = None
    monthly_cost_usd: float | None = None

    @property
    def unlimited(self) -> bool:
        return all(
            limit is None
            for limit in (
                self.max_requests,
                self.max_tokens,
                self.max_cost_usd,
                self.daily_cost_usd,
                self.monthly_cost_usd,
            )
        )


@dataclass
class RunBudget:
    """One run's budget against its own `Usage`, plus what the ledger says was spent before it."""

    limits: BudgetLimits
    usage: Usage
    spent_today_usd: float = 0.0
    spent_this_month_usd: float = 0.0
    attempts_started: int = 0

    def check(self) -> None:
        """Allow one more model request, or raise `BudgetExceeded` naming the limit and the setting."""
        if problem := self.problem():
            raise BudgetExceeded(problem)
        self.attempts_started += 1

    def problem(self) -> str | None:
        limits, usage = self.limits, self.usage
        if limits.max_requests is not None and self.attempts_started >= limits.max_requests:
            return f"the run's request budget is spent ({self.attempts_started} of AO_RUN_MAX_REQUESTS)"
        if limits.max_tokens is not None and usage.total_tokens >= limits.max_tokens:
            return f"the run's token budget is spent ({usage.total_tokens} tokens, AO_RUN_MAX_TOKENS)"
        if limits.max_cost_usd is not None and usage.cost_usd >= limits.max_cost_usd:
            return f"the run's cost budget is spent (${usage.cost_usd:.4f}, AO_RUN_MAX_COST_USD)"
        caps = (
            (self.spent_today_usd, limits.daily_cost_usd, "today's spending cap (AO_DAILY_MAX_COST_USD)"),
            (self.spent_this_month_usd, limits.monthly_cost_usd, "the month's cap (AO_MONTHLY_MAX_COST_USD)"),
        )
        for spent_before, cap, what in caps:
            if cap is not None and spent_before + usage.cost_usd >= cap:
                return f"{what} is reached (${spent_before + usage.cost_usd:.4f} of ${cap:g})"
        return None
