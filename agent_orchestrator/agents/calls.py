"""The one way to call an agent: render the prompt (redacted, untrusted data fenced), run, record usage.

Every model call of every workflow and of the interview goes through `call_agent`. Usage and the
price of every response are recorded into the caller's `UsageSink` when the call succeeds and
when it fails: pydantic-ai accumulates into the `RunUsage` passed in and `capture_run_messages`
keeps the responses of a run that raised, so a leader that never produced valid output is still
counted (requests, tokens, cost).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import TypeVar

import anyio
from pydantic_ai import Agent, capture_run_messages
from pydantic_ai.usage import RunUsage, UsageLimits

from agent_orchestrator.agents.build import DEFAULT_LIMITS
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.agents.usage import UsageSink
from agent_orchestrator.policies.redaction import Redactor

OutputT = TypeVar("OutputT")


async def call_agent(
    agent: Agent[None, OutputT],
    prompt: Prompt,
    *,
    usage: UsageSink,
    redact: Redactor,
    limits: UsageLimits | None = DEFAULT_LIMITS,
    limiter: anyio.CapacityLimiter | None = None,
    timeout_s: float | None = None,
) -> OutputT:
    """Ask `agent` once; its validated output, or the call's exception after its usage was recorded.

    `limiter` caps concurrent calls (waiting for it does not count against `timeout_s`, the deadline
    of the call itself); `limits` is the call's budget (None: pydantic-ai's default).
    """
    text = prompt.render(redact)
    spent = RunUsage()
    with capture_run_messages() as messages:
        try:
            async with limiter or nullcontext():
                with anyio.fail_after(timeout_s):
                    result = await agent.run(text, usage_limits=limits, usage=spent)
        finally:
            usage.record(spent, messages)
    return result.output


def failure_reason(exc: BaseException) -> str:
    """Why a model call failed, in words: invalid output, a dead endpoint, a budget, a deadline."""
    if isinstance(exc, TimeoutError):
        return "the call timed out"
    from pydantic_ai.exceptions import ModelAPIError, UnexpectedModelBehavior, UsageLimitExceeded

    if isinstance(exc, UnexpectedModelBehavior):
        return f"invalid output after its retries ({exc})"
    if isinstance(exc, ModelAPIError):
        return f"the endpoint failed ({type(exc).__name__}: {exc})"
    if isinstance(exc, UsageLimitExceeded):
        return f"budget exceeded ({exc})"
    return f"{type(exc).__name__}: {exc}"
