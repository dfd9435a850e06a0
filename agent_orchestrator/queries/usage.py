"""Spend over a period (`ao usage`, `get_usage`): the call ledger grouped by model, role or workflow.

Read-only and model-free: every model call of every run and interview, failed ones too, is already
a ledger row. Periods are UTC, like the daily and monthly spending caps, so `--since today` and
`--since month` show what those caps count.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import get_args

from agent_orchestrator.errors import UsageError
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.calls import UsageGrouping, UsageReport, period_start

DEFAULT_SINCE = "7d"
MAX_DAYS = 3660
GROUPINGS: tuple[str, ...] = get_args(UsageGrouping)
_DAYS = re.compile(r"(\d{1,4})d")
_FORMS = "a number of days (7d, 30d), today, month, or a date YYYY-MM-DD (UTC)"


def period_bound(text: str, now: datetime, *, end: bool) -> datetime:
    """One end of a period: `Nd` (N days before now), `today`, `month`, or a UTC date (its start for
    `since`; for `until` its end, so the day is included). A `UsageError` names the argument."""
    name = "until" if end else "since"
    value = text.strip().lower()
    if value in ("today", "month"):
        start = period_start(now, "day" if value == "today" else "month")
        return now if end else start
    if match := _DAYS.fullmatch(value):
        days = int(match[1])
        if not 0 < days <= MAX_DAYS:
            raise UsageError(f"`{name}` {text!r}: give between 1d and {MAX_DAYS}d")
        return now - timedelta(days=days)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"`{name}` {text!r} is not a period: give {_FORMS}") from None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def get_usage(
    runtime: Runtime,
    since: str = DEFAULT_SINCE,
    until: str | None = None,
    by: str = "model",
    *,
    now: datetime | None = None,
) -> UsageReport:
    """Calls, failures, retries, tokens and cost from `since` up to `until` (default now), grouped `by`."""
    if by not in GROUPINGS:
        raise UsageError(f"`by` {by!r}: give one of {', '.join(GROUPINGS)}")
    current = now or datetime.now(UTC)
    start = period_bound(since, current, end=False)
    stop = current if until is None else period_bound(until, current, end=True)
    if start >= stop:
        end = "now" if until is None else f"`until` {until!r}"
        raise UsageError(
            f"`since` {since!r} ({start:%Y-%m-%d %H:%M} UTC) is not before {end} ({stop:%Y-%m-%d %H:%M} UTC)"
        )
    grouping: UsageGrouping = "model" if by == "model" else "role" if by == "role" else "workflow"
    return runtime.ledger.report(start, stop, grouping)
