"""Resilient calls against a real socket: retries, Retry-After, deadlines, budgets and fallbacks.

Every agent talks to the fault server on 127.0.0.1 through the model the registry builds (SDK
retries off), so the attempts the server counts are `ResilientModel`'s own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
import pytest
from fault_server import CallOutputTool, FaultServer, Hang, HTTPError, Huge, Reply, Reset, Truncated
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelAuthenticationError, ModelRateLimitError
from pydantic_ai.models import Model
from real_models import MODEL, PROVIDER, RealModels

from agent_orchestrator.agents.bounds import CallBounds, RetryPolicy
from agent_orchestrator.agents.budget import BudgetExceeded, BudgetLimits, RunBudget
from agent_orchestrator.agents.build import agent_for
from agent_orchestrator.agents.calls import call_agent
from agent_orchestrator.agents.prompts.prompt import Prompt
from agent_orchestrator.agents.resilience import DeadlineExceeded
from agent_orchestrator.agents.usage import Usage
from agent_orchestrator.config import Settings
from agent_orchestrator.policies.redaction import Redactor

pytestmark = pytest.mark.anyio
FAST = RetryPolicy(max_retries=3, backoff_s=0.01, max_backoff_s=0.05)
ANSWER = {"value": 7}


class Answer(BaseModel):
    value: int


AgentAt = Callable[..., Agent[None, Answer]]


@pytest.fixture
def agent_at(real_models: RealModels, settings: Settings) -> AgentAt:
    """`agent_at(server, model="fault-model")`: an agent on the registry's model at `server`."""

    def at(server: FaultServer, model: str = MODEL) -> Agent[None, Answer]:
        return agent_for(
            real_models.at(server, settings, model), Answer, "answer", name=f"leader:{PROVIDER}:{model}"
        )

    return at


async def ask(
    agent: Agent[None, Answer], usage: Usage, bounds: CallBounds | None = None, **kwargs: object
) -> Answer:
    chosen = bounds or CallBounds(policy=FAST, timeout_s=10)
    return await call_agent(agent, Prompt.of("q"), usage=usage, redact=Redactor(), bounds=chosen, **kwargs)  # type: ignore[arg-type]


async def ask_text(model: Model) -> str:
    """One call to a plain-text agent on `model`, under the fast retry policy and no deadline."""
    agent = agent_for(model, str, "answer")
    return await call_agent(agent, Prompt.of("q"), usage=Usage(), redact=Redactor(), bounds=CallBounds(FAST))


@pytest.mark.parametrize(
    "fault",
    [
        HTTPError(429),
        HTTPError(500),
        HTTPError(502),
        HTTPError(503),
        HTTPError(408),
        Reset(),
        Truncated(),
        Hang(0.2),  # closes without a response
    ],
    ids=["429", "500", "502", "503", "408", "reset", "truncated", "closed"],
)
async def test_transient_failures_are_retried_until_the_model_answers(fault: object, agent_at: AgentAt) -> None:
    with FaultServer([fault, fault], default=CallOutputTool(ANSWER)) as server:  # type: ignore[list-item]
        usage = Usage()
        assert await ask(agent_at(server), usage) == Answer(value=7)
        assert server.count == 3
    [call] = usage.records
    assert call.attempts == 3 and call.retries == 2 and call.succeeded and usage.failed_calls == 0


async def test_retry_after_is_honoured(agent_at: AgentAt) -> None:
    with FaultServer([HTTPError(429, retry_after=1)], default=CallOutputTool(ANSWER)) as server:
        started = time.monotonic()
        await ask(agent_at(server), Usage())
        waited = time.monotonic() - started
    assert server.count == 2 and 1.0 <= waited < 3.0


async def test_a_retry_after_past_the_deadline_fails_at_once_and_says_why(agent_at: AgentAt) -> None:
    with FaultServer([HTTPError(429, retry_after=30)], default=CallOutputTool(ANSWER)) as server:
        usage = Usage()
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as failed:
            await ask(agent_at(server), usage, CallBounds(policy=FAST, timeout_s=5))
        assert time.monotonic() - started < 2 and server.count == 1
    assert "the server asked to wait 30.0 s, past the call's deadline" in str(failed.value)
    assert usage.records[0].error_kind == "timeout"


@pytest.mark.parametrize("header", ["soon", "-5", "1e309", "Thu, 01 Jan 2099 00:00:00 GMT"])
async def test_a_hostile_retry_after_neither_hangs_nor_crashes_the_call(header: str, agent_at: AgentAt) -> None:
    """A header that is garbage or negative falls back to the backoff; one far in the future ends the call
    at once (past the deadline); either way the call ends within its deadline with a clear outcome."""
    with FaultServer([HTTPError(429, retry_after=header)], default=CallOutputTool(ANSWER)) as server:
        usage = Usage()
        started = time.monotonic()
        try:
            outcome: object = await ask(agent_at(server), usage, CallBounds(policy=FAST, timeout_s=5))
        except DeadlineExceeded as exc:
            outcome = exc
        assert time.monotonic() - started < 3
    if isinstance(outcome, DeadlineExceeded):
        assert "past the call's deadline" in str(outcome) and server.count == 1
    else:
        assert outcome == Answer(value=7) and server.count == 2
    assert len(usage.records) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_not_retried_and_say_what_to_do(status: int, agent_at: AgentAt) -> None:
    with FaultServer(default=HTTPError(status)) as server:
        usage = Usage()
        with pytest.raises(Exception) as failed:
            await ask(agent_at(server), usage)
        assert server.count == 1
    [call] = usage.records
    assert call.attempts == 1 and call.error is not None
    expected = {400: "rejected the request", 401: "refused the key", 403: "refused the key", 404: "does not know"}
    assert expected[status] in call.error, call.error
    assert not isinstance(failed.value, ModelRateLimitError)


async def test_a_failing_endpoint_stops_after_its_retries(agent_at: AgentAt) -> None:
    with FaultServer(default=HTTPError(503)) as server:
        usage = Usage()
        with pytest.raises(Exception):  # noqa: B017 - the model error itself, after 1 + 3 attempts
            await ask(agent_at(server), usage)
        assert server.count == 4
    [call] = usage.records
    assert call.attempts == 4 and "kept failing" in (call.error or "")


async def test_a_hanging_endpoint_ends_at_the_call_deadline(agent_at: AgentAt) -> None:
    with FaultServer(default=Hang(20)) as server:
        usage = Usage()
        started = time.monotonic()
        with anyio.fail_after(5), pytest.raises(DeadlineExceeded):
            await ask(agent_at(server), usage, CallBounds(policy=FAST, timeout_s=0.5))
        assert 0.5 <= time.monotonic() - started < 2
    assert usage.records[0].error_kind == "timeout" and usage.records[0].attempts == 1


async def test_the_run_deadline_bounds_every_call(agent_at: AgentAt) -> None:
    with FaultServer(default=Hang(20)) as server:
        bounds = CallBounds(policy=FAST, timeout_s=60, run_deadline=time.monotonic() + 0.3)
        with anyio.fail_after(5), pytest.raises(DeadlineExceeded) as failed:
            await ask(agent_at(server), Usage(), bounds)
    assert "the run's deadline (AO_RUN_TIMEOUT)" in str(failed.value)


async def test_a_huge_answer_is_read_whole(real_models: RealModels, settings: Settings) -> None:
    with FaultServer([Huge()], default=CallOutputTool(ANSWER)) as server:
        text = await ask_text(real_models.at(server, settings, "m"))
    assert len(text) >= 4_000_000


async def test_a_priced_model_records_its_cost(agent_at: AgentAt) -> None:
    with FaultServer(default=CallOutputTool(ANSWER, prompt_tokens=1000, completion_tokens=100)) as server:
        usage = Usage()
        await ask(agent_at(server, model="gpt-4o"), usage)
    assert usage.records[0].cost_usd is not None and usage.records[0].cost_usd > 0
    assert usage.as_dict()["cost_usd"] == usage.records[0].cost_usd


async def test_a_budget_refuses_requests_across_parallel_calls(agent_at: AgentAt) -> None:
    with FaultServer(default=CallOutputTool(ANSWER, prompt_tokens=10, completion_tokens=10)) as server:
        usage = Usage()
        budget = RunBudget(BudgetLimits(max_requests=3), usage)
        bounds = CallBounds(policy=FAST, timeout_s=10, gate=budget.check)
        agent = agent_at(server)
        outcomes: list[str] = []

        async def one() -> None:
            try:
                await ask(agent, usage, bounds)
                outcomes.append("ok")
            except BudgetExceeded as exc:
                outcomes.append(str(exc))

        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(one)
        assert server.count == 3
    assert outcomes.count("ok") == 3 and all("AO_RUN_MAX_REQUESTS" in o for o in outcomes if o != "ok")


async def test_a_fallback_answers_when_the_primary_is_rate_limited_for_good(agent_at: AgentAt) -> None:
    with (
        FaultServer(default=HTTPError(429)) as primary,
        FaultServer(default=CallOutputTool(ANSWER)) as fallback,
    ):
        usage = Usage()
        output = await ask(agent_at(primary), usage, fallbacks=[agent_at(fallback, "backup")])
        assert output == Answer(value=7) and primary.count == 4 and fallback.count == 1
    failed, served = usage.records
    assert failed.error_kind == "rate_limited" and served.succeeded
    assert (
        served.model_id == "openai-compatible:backup" and served.fallback_from == "openai-compatible:fault-model"
    )
    assert served.fallback_reason is not None and "rate_limited" in served.fallback_reason


async def test_no_fallback_for_a_bad_key(agent_at: AgentAt) -> None:
    with FaultServer(default=HTTPError(401)) as primary, FaultServer(default=CallOutputTool(ANSWER)) as fallback:
        with pytest.raises(ModelAuthenticationError):
            await ask(agent_at(primary), Usage(), fallbacks=[agent_at(fallback, "backup")])
        assert fallback.count == 0


async def test_an_answer_that_arrives_is_not_retried(real_models: RealModels, settings: Settings) -> None:
    with FaultServer(default=Reply('{"value": 1}')) as server:
        await ask_text(real_models.at(server, settings, "m"))
        assert server.count == 1
