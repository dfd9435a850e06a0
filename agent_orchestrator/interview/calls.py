"""One worker call: a deadline, retries with backoff for transient provider errors, a circuit breaker.

Everything that can go wrong with an endpoint becomes a `WorkerReply` with an error kind, so the
interview can tell a worker that answered badly from an endpoint that did not answer at all.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from agent_orchestrator.agents.calls import call_agent
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.agents.usage import UsageSink
from agent_orchestrator.domain.profile import ErrorKind
from agent_orchestrator.policies.redaction import Redactor

if TYPE_CHECKING:
    from pydantic_ai import Agent

TRANSPORT_ERRORS: frozenset[ErrorKind] = frozenset(
    {"timeout", "unreachable", "server_error", "rate_limited", "auth_failed", "not_found", "skipped"}
)
MAX_ANSWER_CHARS = 65_536


@dataclass(frozen=True)
class CallPolicy:
    """Deadline per attempt, retry budget and when to stop calling a dead endpoint."""

    timeout_s: float = 120.0
    max_retries: int = 2
    backoff_s: float = 0.5
    breaker_threshold: int = 3


@dataclass(frozen=True)
class WorkerReply:
    """What came back from one case: the text (capped), or the error that prevented it."""

    text: str | None
    answer_chars: int
    error: ErrorKind | None
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


def classify(exc: BaseException) -> tuple[ErrorKind, bool]:
    """Map an exception to an error kind and whether retrying could help."""
    from pydantic_ai import exceptions as e

    kinds: tuple[tuple[type[BaseException], ErrorKind, bool], ...] = (
        (TimeoutError, "timeout", False),
        (e.ModelAuthenticationError, "auth_failed", False),
        (e.ModelNotFoundError, "not_found", False),
        (e.ModelRateLimitError, "rate_limited", True),
        (e.ModelTimeoutError, "timeout", True),
        (e.ModelRequestTimeout, "timeout", True),
        (e.ModelConnectionError, "unreachable", True),
        (e.ModelServerError, "server_error", True),
        (e.ModelUnavailableError, "server_error", True),
    )
    for exc_type, kind, transient in kinds:
        if isinstance(exc, exc_type):
            return kind, transient
    if isinstance(exc, e.ModelHTTPError) and exc.status_code >= 500:
        return "server_error", True
    if isinstance(exc, OSError):
        return "unreachable", True
    return "model_error", False


async def ask(
    agent: Agent[None, str],
    prompt: str,
    policy: CallPolicy,
    breaker: EndpointBreaker,
    redact: Redactor,
    usage: UsageSink,
) -> WorkerReply:
    """Ask the worker one question under the call policy, via `call_agent`; never raises for provider trouble."""
    started = time.perf_counter()
    attempts = 0
    while True:
        if breaker.open:
            detail = f"not attempted: the endpoint failed {breaker.consecutive} calls in a row"
            return _reply(None, "skipped", detail, attempts, started)
        attempts += 1
        try:
            text = await call_agent(
                agent, Prompt.of(prompt), usage=usage, redact=redact, limits=None, timeout_s=policy.timeout_s
            )
        except Exception as exc:  # every provider failure becomes data, not a crash
            kind, transient = classify(exc)
            detail = _describe(exc, kind, policy, redact)
            if transient and attempts <= policy.max_retries and not breaker.open:
                await anyio.sleep(policy.backoff_s * 2 ** (attempts - 1) * (1 + random.random() / 4))
                continue
            reply = _reply(None, kind, detail, attempts, started)
            breaker.record(reply)
            return reply
        reply = _reply(text[:MAX_ANSWER_CHARS], None, None, attempts, started, answer_chars=len(text))
        breaker.record(reply)
        return reply


def _describe(exc: BaseException, kind: ErrorKind, policy: CallPolicy, redact: Redactor) -> str:
    if kind == "timeout" and isinstance(exc, TimeoutError):
        return f"no answer within the {policy.timeout_s:g} s deadline"
    message = str(exc).strip() or type(exc).__name__
    return redact(f"{type(exc).__name__}: {message}")[:500]


def _reply(
    text: str | None,
    error: ErrorKind | None,
    detail: str | None,
    attempts: int,
    started: float,
    answer_chars: int = 0,
) -> WorkerReply:
    latency = int((time.perf_counter() - started) * 1000)
    return WorkerReply(text, answer_chars, error, detail, attempts, latency)
