"""The one way to call an agent: render the prompt (redacted, untrusted data fenced), run, record.

Every model call of every workflow and of the interview goes through `call_agent`:
- its model is wrapped in `ResilientModel` (transient failures retried inside the call's deadline);
- the call's deadline is the earlier of its own (`CallBounds.timeout_s`) and the run's;
- a budget gate is checked before every attempt (`CallBounds.gate`, the run's budget);
- when the model fails in a way a fallback may answer (quota, rate limits and outages after the
  retries), the next agent in `fallbacks` is asked, and its record says whom it replaced and why;
- one `CallRecord` per agent asked goes to the caller's `UsageSink`, failed calls too: tokens,
  cost, latency, attempts, and the failure in one line. pydantic-ai accumulates into the
  `RunUsage` passed in, so a leader that never produced valid output is still counted;
- in a durable run the whole call (fallbacks included) is one recorded step (`recorded_step`):
  a run resumed after a crash gets its answer back instead of paying for it again.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from contextlib import nullcontext
from typing import TypeVar

import anyio
from pydantic_ai import Agent
from pydantic_ai.usage import RunUsage, UsageLimits

from agent_orchestrator.agents.bounds import CallBounds
from agent_orchestrator.agents.build import DEFAULT_LIMITS
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.agents.provider_limits import provider_limiter
from agent_orchestrator.agents.resilience import (
    CallTrace,
    Cancelled,
    DeadlineExceeded,
    ResilientModel,
    classify,
    describe_failure,
    fallback_warranted,
)
from agent_orchestrator.agents.usage import UsageSink
from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.domain.steps import recorded_step
from agent_orchestrator.policies.redaction import Redactor

OutputT = TypeVar("OutputT")


def agent_role_and_model(agent: Agent[None, object]) -> tuple[str, str]:
    """The role and model id an agent was built for (`build_agent` names agents `role:provider:model`)."""
    role, _, model_id = (agent.name or "").partition(":")
    if role and model_id:
        return role, model_id
    model = agent.model
    return "unknown", getattr(model, "model_id", None) or str(model)


async def call_agent(
    agent: Agent[None, OutputT],
    prompt: Prompt,
    *,
    usage: UsageSink,
    redact: Redactor,
    bounds: CallBounds | None = None,
    limits: UsageLimits | None = DEFAULT_LIMITS,
    limiter: anyio.CapacityLimiter | None = None,
    fallbacks: Sequence[Agent[None, OutputT]] = (),
) -> OutputT:
    """Ask `agent` (then each of `fallbacks`, when a failure warrants it); the first valid output, or
    the last failure after every call's record went to `usage`.

    `limiter` caps concurrent calls (waiting for it does not count against the deadline); `limits`
    is pydantic-ai's own per-call budget (requests and output tokens; None: its default).
    """
    text = prompt.render(redact)
    chosen = bounds or CallBounds()

    async def ask() -> OutputT:
        return await _call_with_fallbacks(agent, text, usage, redact, chosen, limits, limiter, fallbacks)

    return await recorded_step(f"call {agent_role_and_model(agent)[0]}", ask)


async def _call_with_fallbacks(
    agent: Agent[None, OutputT],
    text: str,
    usage: UsageSink,
    redact: Redactor,
    chosen: CallBounds,
    limits: UsageLimits | None,
    limiter: anyio.CapacityLimiter | None,
    fallbacks: Sequence[Agent[None, OutputT]],
) -> OutputT:
    replaced: tuple[str, str] | None = None
    for index, current in enumerate((agent, *fallbacks)):
        try:
            return await _call_once(current, text, usage, redact, chosen, limits, limiter, replaced)
        except Exception as exc:
            if index == len(fallbacks) or not fallback_warranted(exc):
                raise
            replaced = (agent_role_and_model(current)[1], describe_failure(exc))
    raise AssertionError("unreachable: the last agent's failure is raised")  # pragma: no cover


async def _call_once(
    agent: Agent[None, OutputT],
    text: str,
    usage: UsageSink,
    redact: Redactor,
    bounds: CallBounds,
    limits: UsageLimits | None,
    limiter: anyio.CapacityLimiter | None,
    replaced: tuple[str, str] | None,
) -> OutputT:
    role, model_id = agent_role_and_model(agent)
    spent = RunUsage()
    provider_cap = provider_limiter(model_id, bounds.provider_limits)
    async with limiter or nullcontext(), provider_cap or nullcontext():
        deadline, which = bounds.deadline()
        trace = CallTrace(deadline=deadline, gate=bounds.gate)
        model = ResilientModel(agent.model, bounds.policy, trace)
        started, begun = time.time(), time.perf_counter()
        error: BaseException | None = None
        try:
            with anyio.fail_after(None if deadline is None else max(0.0, deadline - time.monotonic())):
                result = await agent.run(text, model=model, usage_limits=limits, usage=spent)
            return result.output
        except TimeoutError as exc:
            error = DeadlineExceeded(f"no answer before {which}")
            raise error from exc
        except Exception as exc:
            error = exc
            raise
        except BaseException:  # cancelled from outside (the run stopped): spent, but never answered
            error = Cancelled("the call was cancelled before it answered")
            raise
        finally:
            kind = classify(error)[0] if error is not None else None
            usage.record_call(
                CallRecord(
                    call_id=secrets.token_hex(8),
                    role=role,
                    model_id=model_id,
                    started=started,
                    latency_ms=int((time.perf_counter() - begun) * 1000),
                    attempts=len(trace.attempts),
                    requests=spent.requests,
                    input_tokens=spent.input_tokens,
                    output_tokens=spent.output_tokens,
                    cost_usd=None if spent.cost is None else float(spent.cost),
                    error_kind=kind,
                    error=None if error is None else redact(describe_failure(error)),
                    fallback_from=replaced[0] if replaced else None,
                    fallback_reason=redact(replaced[1]) if replaced else None,
                )
            )
