"""A failed model step: whether the run may keep what it has, and how the failure is told.

A model step (the reviewer, the fixer, the planner) can fail in ways that leave the deterministic
steps' work intact: an endpoint still failing after its retries, a deadline, a spent budget, output
that never validated. The workflows then degrade rather than discard: review returns its analysis
(`partial`), fix-error its parsed errors and context (`failed`), and every failed run's record keeps
a `StepFailure` (the cause in one line, the rejected output's validation errors). A policy refusal,
bad usage or a store failure is not a model failure: it ends the run as before.

Light on purpose (pydantic only): the result modules the server loads at start import `StepFailure`;
the agent stack is imported only to judge a failure, once a model call has failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field, ValidationError

from agent_orchestrator.agents.budget import BudgetExceeded
from agent_orchestrator.errors import AOError

MAX_SHOWN_ERRORS = 5
MAX_ERROR_CHARS = 200
Redact = Callable[[str], str]


class StepFailure(BaseModel):
    """Why a model step failed: one line to act on, and what was wrong with a rejected output."""

    step: str | None = Field(default=None, description="the graph node that failed, when known")
    cause: str = Field(description="the failure in one line a user can act on (redacted)")
    validation_errors: list[str] = Field(
        default=[], description="what was wrong with the rejected output, summarised and redacted"
    )


class OutputRejected(AOError):
    """A model's output passed validation but failed our own checks on every attempt (e.g. a plan's)."""

    def __init__(self, message: str, problems: Sequence[str]) -> None:
        super().__init__(f"{message}: {summarise(problems)}")
        self.problems = list(problems)


def model_failed(exc: BaseException) -> bool:
    """Whether `exc` is a model step's own failure (the run may degrade), not a refusal, bad usage or a bug
    of ours."""
    if isinstance(exc, BudgetExceeded | TimeoutError | OutputRejected):
        return True
    if isinstance(exc, AOError):
        from agent_orchestrator.agents.resilience import DeadlineExceeded

        return isinstance(exc, DeadlineExceeded)
    from pydantic_ai.exceptions import AgentRunError  # a model call failed: the stack is loaded

    return isinstance(exc, AgentRunError | OSError)


def cause_of(exc: BaseException) -> str:
    """The failure in one line a user can act on (not yet redacted)."""
    if isinstance(exc, AOError) and not isinstance(exc, OutputRejected):
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        return f"budget exceeded: {first}" if isinstance(exc, BudgetExceeded) else first
    if isinstance(exc, OutputRejected):
        return str(exc).splitlines()[0]
    from agent_orchestrator.agents.resilience import describe_failure

    return describe_failure(exc)


def rejected_output_errors(exc: BaseException) -> list[str]:
    """What was wrong with the output a model step rejected: our checks' problems, else pydantic's
    validation errors found in the exception's chain (`field: message`, without the input)."""
    if isinstance(exc, OutputRejected):
        return exc.problems
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ValidationError):
            return [_validation_line(error["loc"], error["msg"]) for error in current.errors(include_url=False)]
        feedback = getattr(getattr(current, "tool_retry", None), "content", None)
        if isinstance(feedback, str) and feedback.strip():
            return [feedback.strip().splitlines()[0]]
        current = current.__cause__ or current.__context__
    return []


def step_failure(exc: BaseException, redact: Redact, step: str | None = None) -> StepFailure:
    """The failure as kept in results and run records: redacted, each line bounded, at most a few errors."""
    errors = rejected_output_errors(exc)
    shown = [_bounded(redact(line)) for line in errors[:MAX_SHOWN_ERRORS]]
    if len(errors) > MAX_SHOWN_ERRORS:
        shown.append(f"... and {len(errors) - MAX_SHOWN_ERRORS} more")
    return StepFailure(step=step, cause=_bounded(redact(cause_of(exc)), 400), validation_errors=shown)


def with_rejected_output(reason: str, failure: StepFailure) -> str:
    """A run's reason, followed by the rejected output's validation errors unless it already names them."""
    errors = failure.validation_errors
    if not errors or errors[0] in reason:
        return reason
    return f"{reason}; the rejected output: {'; '.join(errors)}"


def summarise(problems: Sequence[str], shown: int = MAX_SHOWN_ERRORS) -> str:
    """`a; b; c and 4 more`, each item bounded."""
    more = f" and {len(problems) - shown} more" if len(problems) > shown else ""
    return "; ".join(_bounded(problem) for problem in problems[:shown]) + more


def _validation_line(loc: tuple[int | str, ...], message: str) -> str:
    where = ".".join(str(part) for part in loc)
    return f"{where}: {message}" if where else message


def _bounded(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
