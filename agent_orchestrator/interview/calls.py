"""One interview question: `call_agent` (deadlines, retries), its failure as data, a circuit breaker.

Everything that can go wrong with an endpoint becomes a `WorkerReply` with an error kind, so the
interview can tell a worker that answered badly from an endpoint that did not answer at all, and
both from a worker too slow for the interview's deadline (`deadline`). Only a spent budget is
raised: it is the run's limit, not the worker's fault, and ends the interview.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent_orchestrator.agents.bounds import CallBounds
from agent_orchestrator.agents.budget import BudgetExceeded
from agent_orchestrator.agents.calls import call_agent
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.agents.resilience import classify, describe_failure
from agent_orchestrator.agents.usage import UsageSink
from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.domain.profile import CaseError, ErrorKind
from agent_orchestrator.policies.redaction import Redactor

if TYPE_CHECKING:
    from pydantic_ai import Agent

TRANSPORT_ERRORS: frozenset[ErrorKind] = frozenset(
    {"timeout", "unreachable", "server_error", "rate_limited", "auth_failed", "not_found", "skipped"}
)
MAX_ANSWER_CHARS = 65_536


BREAKER_THRESHOLD = 3  # transport failures in a row before the interview stops calling the endpoint
# The interview's calls stop this share of its deadline early (at most `MAX_RESERVE_S`), so that
# grading the last answers, scoring and saving fit inside the deadline too.
RESERVE_SHARE = 0.05
MAX_RESERVE_S = 2.0


@dataclass(frozen=True)
class InterviewDeadline:
    """When the interview's calls must stop (monotonic seconds), and the deadline's length for messages."""

    at: float
    seconds: float

    @classmethod
    def ending(cls, run_deadline: float, seconds: float) -> InterviewDeadline:
        """The calls' deadline for an interview whose run ends at `run_deadline` (`seconds` long)."""
        return cls(run_deadline - min(MAX_RESERVE_S, RESERVE_SHARE * seconds), seconds)

    @property
    def name(self) -> str:
        return f"the interview's deadline of {self.seconds:g} s (AO_INTERVIEW_TIMEOUT)"

    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def binds(self, bounds: CallBounds) -> bool:
        """Whether a call starting now with `bounds` would be stopped by this deadline before its own."""
        return bounds.timeout_s is None or self.at <= time.monotonic() + bounds.timeout_s


@dataclass(frozen=True)
class WorkerReply:
    """What came back from one case: the text (capped), or the error that prevented it."""

    text: str | None
    answer_chars: int
    error: CaseError | None
    error_detail: str | None
    attempts: int
    latency_ms: int

    @property
    def transport_failed(self) -> bool:
        return self.error in TRANSPORT_ERRORS


class EndpointBreaker:
    """Opens after `threshold` transport failures in a row; later calls are skipped, not attempted."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.consecutive = 0
        self.last_error: str | None = None

    @property
    def open(self) -> bool:
        return self.consecutive >= self.threshold

    def record(self, reply: WorkerReply) -> None:
        if reply.transport_failed:
            self.consecutive += 1
            self.last_error = reply.error_detail
        elif reply.error is None:
            self.consecutive = 0


class _LastCall:
    """Passes call records on to the interview's sink and keeps the last one (attempts, latency)."""

    def __init__(self, sink: UsageSink) -> None:
        self.sink = sink
        self.call: CallRecord | None = None

    def record_call(self, call: CallRecord) -> None:
        self.call = call
        self.sink.record_call(call)


async def ask(
    agent: Agent[None, str],
    prompt: str,
    bounds: CallBounds,
    breaker: EndpointBreaker,
    redact: Redactor,
    usage: UsageSink,
    deadline: InterviewDeadline | None = None,
) -> WorkerReply:
    """Ask the worker one question through `call_agent` (its deadlines and retries); provider trouble
    becomes an error kind in the reply, never an exception (but a spent budget, `BudgetExceeded`).

    Once `deadline` has passed, no call is made: the case is left unanswered (`deadline`).
    """
    if breaker.open:
        detail = f"not attempted: the endpoint failed {breaker.consecutive} calls in a row"
        return WorkerReply(None, 0, "skipped", detail, 0, 0)
    if deadline is not None and deadline.passed():
        return WorkerReply(None, 0, "deadline", f"not asked: {deadline.name} had passed", 0, 0)
    # The interview's deadline (not the call's own) will be what stops this call, if anything does.
    binding = deadline if deadline is not None and deadline.binds(bounds) else None
    last = _LastCall(usage)
    try:
        text = await call_agent(agent, Prompt.of(prompt), usage=last, redact=redact, limits=None, bounds=bounds)
    except BudgetExceeded:
        raise
    except Exception as exc:  # every provider failure becomes data, not a crash
        call = last.call
        if binding is not None and binding.passed() and call is not None and call.error_kind == "timeout":
            reply = WorkerReply(None, 0, "deadline", call.error, *_measured(call))
        else:
            kind, _ = classify(exc)
            reply = WorkerReply(None, 0, kind, redact(describe_failure(exc))[:500], *_measured(last.call))
    else:
        reply = WorkerReply(text[:MAX_ANSWER_CHARS], len(text), None, None, *_measured(last.call))
    breaker.record(reply)
    return reply


def _measured(call: CallRecord | None) -> tuple[int, int]:
    return (call.attempts, call.latency_ms) if call is not None else (0, 0)
