"""Resilient model requests: transient failures retried with backoff and jitter, inside a deadline.

Every model request of every call (workflows and the interview, leader and workers) goes through
`ResilientModel`, a pydantic-ai `WrapperModel` that `call_agent` puts around the agent's model.
Transient failures (429, 408, 409, 425, 5xx, a reset connection, a read timeout, a cut body) are
retried with exponential backoff and jitter, honouring `Retry-After` (`retry-after-ms`);
a wait that would pass the call's deadline is not started: the call fails at once and says so.
Everything else (401, 403, 404, 400, 422, quota) fails on the first attempt with what to do.
Vendor SDK retries are off (`providers.registry`), so this is the one retry layer, and each
attempt is counted in the call's `CallTrace`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
    ModelTimeoutError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
    UsageLimitExceeded,
)
from pydantic_ai.models.wrapper import WrapperModel
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from agent_orchestrator.agents.bounds import RetryPolicy
from agent_orchestrator.domain.profile import ErrorKind
from agent_orchestrator.errors import AOError

if TYPE_CHECKING:
    from pydantic_ai.messages import ModelMessage, ModelResponse
    from pydantic_ai.models import ModelRequestParameters
    from pydantic_ai.settings import ModelSettings

# HTTP statuses worth another attempt besides 5xx: request timeout, conflict, too early, rate limit.
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})


class Cancelled(Exception):
    """Stands for a cancellation in a call's record (the cancellation itself propagates)."""


class DeadlineExceeded(AOError):
    """The call's (or the run's) deadline passed before the model answered."""


@dataclass
class Attempt:
    """One request to the model: how long it took and how it ended (None: it answered)."""

    latency_ms: int
    error_kind: ErrorKind | None = None
    error: str | None = None


@dataclass
class CallTrace:
    """Every attempt of one call, and the deadline they share (monotonic seconds; None: no deadline)."""

    deadline: float | None = None
    attempts: list[Attempt] = field(default_factory=list[Attempt])
    gate: Callable[[], None] | None = None  # checked before each attempt (a budget); raises to stop

    @property
    def retries(self) -> int:
        return max(0, len(self.attempts) - 1)

    def remaining_s(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


def classify(exc: BaseException) -> tuple[ErrorKind, bool]:
    """An exception's error kind and whether another attempt could help."""
    kinds: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], ErrorKind, bool], ...] = (
        ((DeadlineExceeded, TimeoutError), "timeout", False),
        (Cancelled, "cancelled", False),
        (ModelAuthenticationError, "auth_failed", False),
        (ModelNotFoundError, "not_found", False),
        (ModelQuotaExceededError, "rate_limited", False),  # waiting won't help: a fallback might
        (ModelRequestRejectedError, "model_error", False),
        (ModelRateLimitError, "rate_limited", True),
        ((ModelTimeoutError, ModelRequestTimeout), "timeout", True),
        (ModelConnectionError, "unreachable", True),
        (ModelUnavailableError, "server_error", True),
    )
    for exc_type, kind, transient in kinds:
        if isinstance(exc, exc_type):
            return kind, transient
    if isinstance(exc, ModelHTTPError):
        if exc.status_code == 429:
            return "rate_limited", True
        if exc.status_code in TRANSIENT_STATUSES or exc.status_code >= 500:
            return "server_error", True
        return "model_error", False
    if isinstance(exc, ModelAPIError):  # e.g. an error object inside a 200 stream
        return "server_error", True
    if isinstance(exc, OSError):
        return "unreachable", True
    return "model_error", False


def transient(exc: BaseException) -> bool:
    return classify(exc)[1]


def fallback_warranted(exc: BaseException) -> bool:
    """Failures a fallback model may answer instead: quota, rate limits and outages after the retries.

    Not a bad key, an unknown model, a rejected request or invalid output: those are the caller's
    to fix, and another model would hide them.
    """
    return isinstance(exc, ModelQuotaExceededError) or transient(exc)


def describe_failure(exc: BaseException) -> str:
    """Why a model call failed, in one line a user can act on (redact before showing it)."""
    message = _short_message(exc)
    if isinstance(exc, DeadlineExceeded):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "no answer within the call's deadline (AO_MODEL_CALL_TIMEOUT)"
    if isinstance(exc, ModelAuthenticationError):
        return f"the endpoint refused the key ({message}): check the key `ao models list` names for this role"
    if isinstance(exc, ModelNotFoundError):
        return f"the endpoint does not know this model ({message}): check the model name and base URL"
    if isinstance(exc, ModelQuotaExceededError):
        return f"the account's quota is used up ({message}): add credit, or configure a fallback model"
    if isinstance(exc, UsageLimitExceeded):
        return f"the call's budget was exceeded ({message})"
    if isinstance(exc, UnexpectedModelBehavior):
        return f"invalid output after its retries ({message})"
    kind, is_transient = classify(exc)
    if is_transient:
        return f"the endpoint kept failing ({kind}: {message}) after its retries (AO_MODEL_MAX_RETRIES)"
    if isinstance(exc, ModelHTTPError):
        return f"the endpoint rejected the request (HTTP {exc.status_code}: {message})"
    return f"{type(exc).__name__}: {message}"


def _short_message(exc: BaseException) -> str:
    """An error's gist: an HTTP error's status and the provider's own message, not the whole body."""
    if isinstance(exc, ModelHTTPError):
        said = _provider_message(exc.body)
        return f"status {exc.status_code}" + (f": {said[:200]}" if said else "")
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _provider_message(body: object) -> str | None:
    """The message in an OpenAI-style error body (`{"error": {"message": ...}}` or `{"error": "..."}`)."""
    error: object = cast("dict[str, object]", body).get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        error = cast("dict[str, object]", error).get("message")
    return error if isinstance(error, str) and error.strip() else None


class ResilientModel(WrapperModel):
    """The wrapped model, with transient failures retried inside the call's deadline (see the module).

    Only `request` is retried: the workflows do not stream (a stream passes through unretried).
    """

    def __init__(self, wrapped: Any, policy: RetryPolicy, trace: CallTrace) -> None:
        super().__init__(wrapped)
        self.policy = policy
        self.trace = trace

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        async for attempt in self._attempts():
            with attempt:
                return await self._attempt(messages, model_settings, model_request_parameters)
        raise AssertionError("unreachable: tenacity re-raises the last failure")  # pragma: no cover

    def _attempts(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.policy.max_retries + 1),
            retry=retry_if_exception(transient),
            wait=self._wait,
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        """The backoff before the next attempt; a wait past the deadline ends the call now instead."""
        exc = state.outcome.exception() if state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, ModelAPIError) else None
        wait = self.policy.wait_s(state.attempt_number, retry_after)
        remaining = self.trace.remaining_s()
        if remaining is not None and wait >= remaining:
            said = "the server asked to wait" if retry_after is not None else "the next retry would wait"
            raise DeadlineExceeded(
                f"{said} {wait:.1f} s, past the call's deadline ({max(remaining, 0):.1f} s left); "
                f"last failure: {describe_failure(exc) if exc else 'none'}"
            ) from exc
        return wait

    async def _attempt(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        if self.trace.gate is not None:
            self.trace.gate()  # a budget refuses before the request is sent
        started = time.perf_counter()
        try:
            response = await self.wrapped.request(messages, model_settings, model_request_parameters)
        except Exception as exc:
            kind, _ = classify(exc)
            self.trace.attempts.append(Attempt(_ms(started), kind, describe_failure(exc)))
            raise
        except BaseException:  # cancelled: the call's deadline passed while this attempt was waiting
            self.trace.attempts.append(Attempt(_ms(started), "timeout", "cancelled at the deadline"))
            raise
        self.trace.attempts.append(Attempt(_ms(started)))
        return response


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
