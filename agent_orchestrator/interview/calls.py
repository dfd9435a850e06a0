"""One interview question: `call_agent` (deadlines, retries), its failure as data, a circuit breaker.

The worker answers with a step's output (`StepResult`), as it would in a workflow; the reply keeps
its `content`. Everything that can go wrong becomes a `WorkerReply` with an error kind, so the
interview can tell a worker that answered badly (`model_error`: among others, no schema-valid
structured output after the retries) from an endpoint that did not answer at all, and both from a
worker too slow for the interview's deadline (`deadline`). Only a spent budget is raised: it is the
run's limit, not the worker's fault, and ends the interview.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.exceptions import UnexpectedModelBehavior
from pydantic_ai.messages import ModelResponse

from agent_orchestrator.agents.bounds import CallBounds
from agent_orchestrator.agents.budget import BudgetExceeded
from agent_orchestrator.agents.calls import call_agent
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.agents.resilience import classify, describe_failure
from agent_orchestrator.agents.usage import UsageSink
from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.domain.profile import CaseError, ErrorKind
from agent_orchestrator.errors import AOError
from agent_orchestrator.policies.redaction import Redactor

if TYPE_CHECKING:
    from pydantic_ai import Agent, RunContext
    from pydantic_ai.models import ModelRequestContext

    from agent_orchestrator.agents.models import StepResult

TRANSPORT_ERRORS: frozenset[ErrorKind] = frozenset(
    {"timeout", "unreachable", "server_error", "rate_limited", "auth_failed", "not_found", "skipped"}
)
# A case these errors ended got no answer (the endpoint failed, or the interview's deadline came first):
# it says nothing about what the worker would have answered.
UNANSWERED_ERRORS: frozenset[CaseError] = frozenset({*TRANSPORT_ERRORS, "deadline"})
MAX_ANSWER_CHARS = 65_536
_VALIDATION_HEADER = re.compile(r"\d+ validation errors?\b")
_ERROR_TAIL = re.compile(r"\s*\[type=.*$")  # pydantic's error type and the (worker's) input value


BREAKER_THRESHOLD = 3  # transport failures in a row before the interview stops calling the endpoint
# The interview's calls stop this share of its deadline early (at most `MAX_RESERVE_S`), so that
# grading the last answers, scoring and saving fit inside the deadline too.
RESERVE_SHARE = 0.05
MAX_RESERVE_S = 2.0
CUT_DETAIL = "the answer was cut at the interview's cap"  # how a cut answer's error detail starts


class AnswerCut(AOError):
    """The worker's answer was cut at the interview's token cap (a `model_error`, not asked again)."""


@dataclass
class StopWhenCut(AbstractCapability[None]):
    """Ends a question once an answer came back cut at the interview's token cap (finish reason `length`),
    instead of letting the output retries ask again.

    The cap is the interview's own (not the workflows'), and under it a rambling model rambles again:
    three cut answers take three times as long (a small local model would spend the interview's deadline
    on a few cases) and show nothing the first did not. The cut answer is the evidence; its usage is
    already counted, and no request is sent after it.
    """

    max_tokens: int

    async def before_model_request(
        self, ctx: RunContext[None], request_context: ModelRequestContext
    ) -> ModelRequestContext:
        last = next((m for m in reversed(request_context.messages) if isinstance(m, ModelResponse)), None)
        if last is not None and last.finish_reason == "length":
            raise AnswerCut(f"{CUT_DETAIL} of {self.max_tokens} tokens: too long (not asked again)")
        return request_context


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
    """What came back from one case: the output's content (capped), or the error that prevented it."""

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
    agent: Agent[None, StepResult],
    prompt: str,
    bounds: CallBounds,
    breaker: EndpointBreaker,
    redact: Redactor,
    usage: UsageSink,
    deadline: InterviewDeadline | None = None,
) -> WorkerReply:
    """Ask the worker one question through `call_agent` (its deadlines and retries); the reply's text is
    the output's `content`. Provider trouble, and output that never validated, become an error kind in
    the reply, never an exception (but a spent budget, `BudgetExceeded`).

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
        output = await call_agent(agent, Prompt.of(prompt), usage=last, redact=redact, limits=None, bounds=bounds)
    except BudgetExceeded:
        raise
    except Exception as exc:  # every provider failure becomes data, not a crash
        call = last.call
        if binding is not None and binding.passed() and call is not None and call.error_kind == "timeout":
            reply = WorkerReply(None, 0, "deadline", call.error, *_measured(call))
        else:
            kind, _ = classify(exc)
            reply = WorkerReply(None, 0, kind, redact(_failure(exc))[:500], *_measured(last.call))
    else:
        text = output.content
        reply = WorkerReply(text[:MAX_ANSWER_CHARS], len(text), None, None, *_measured(last.call))
    breaker.record(reply)
    return reply


def _failure(exc: BaseException) -> str:
    """Why the call failed; for output that never validated, also what was wrong with the last try (no
    tool call, not JSON, a field missing or too long): the interview's evidence on its output mode."""
    if isinstance(exc, AnswerCut):
        return str(exc)
    if isinstance(exc, UnexpectedModelBehavior) and exc.__cause__ is not None:
        lines = [line.strip() for line in str(exc.__cause__).splitlines() if line.strip()]
        if lines and _VALIDATION_HEADER.match(lines[0]):  # pydantic's: the fields and messages, not the input
            lines = [_ERROR_TAIL.sub("", line) for line in lines[1:] if not line.startswith("For further")]
        if gist := ": ".join(lines):
            return f"invalid output after its retries: {gist[:300]}"
    return describe_failure(exc)


def _measured(call: CallRecord | None) -> tuple[int, int]:
    return (call.attempts, call.latency_ms) if call is not None else (0, 0)
