"""The fault server, and what a pydantic-ai agent on `OpenAIChatModel` raises for each fault it injects.

Every agent here talks to the fault server on 127.0.0.1 through an `AsyncOpenAI` client with
`max_retries=0`, so the attempt count the server sees is pydantic-ai's own, not the SDK's retries
(except in the tests that document those retries).
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import openai
import pytest
from fault_server import (
    CHAT_PATH,
    HUGE_SIZE,
    MODELS_PATH,
    Action,
    CallOutputTool,
    FaultServer,
    Hang,
    HTTPError,
    Huge,
    Reply,
    Reset,
    ToolCall,
    Truncated,
    answer_with,
)
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
)
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.settings import ModelSettings

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("allow_model_requests")]  # models reach 127.0.0.1 only
MODEL = "fault-model"
KEY = "sk-fault-test"


class Step(BaseModel):
    title: str
    done: bool


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault_server:
        yield fault_server


@pytest.fixture
async def client(server: FaultServer) -> AsyncIterator[openai.AsyncOpenAI]:
    """An SDK client that never retries by itself and never waits longer than 5 s."""
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, timeout=5.0) as sdk:
        yield sdk


def chat_model(client: openai.AsyncOpenAI, model_name: str = MODEL) -> OpenAIChatModel:
    return OpenAIChatModel(model_name, provider=OpenAIProvider(openai_client=client))


async def fault_of(
    client: openai.AsyncOpenAI, server: FaultServer, action: Action, settings: ModelSettings | None = None
) -> ModelAPIError:
    """The exception `agent.run` raises when the server answers with `action`."""
    server.push(action)
    agent = Agent(chat_model(client), model_settings=settings)
    with pytest.raises(ModelAPIError) as caught:
        await agent.run("hi")
    return caught.value


def causes(error: BaseException) -> list[BaseException]:
    """The exceptions along the `__cause__` chain below `error`."""
    chain: list[BaseException] = []
    while error.__cause__ is not None and len(chain) < 10:
        error = error.__cause__
        chain.append(error)
    return chain


def caused_by(error: BaseException, *expected: type[BaseException]) -> bool:
    """Whether the first links of the `__cause__` chain below `error` are instances of `expected`, in order."""
    chain = causes(error)
    return len(chain) >= len(expected) and all(map(isinstance, chain, expected))


# -- replies -----------------------------------------------------------------------------------------------


async def test_text_reply_is_the_output_and_its_usage_is_counted(
    server: FaultServer, client: openai.AsyncOpenAI
) -> None:
    server.push(Reply("hello", prompt_tokens=7, completion_tokens=3))
    result = await Agent(chat_model(client)).run("hi")
    assert result.output == "hello"
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.requests) == (7, 3, 1)
    [attempt] = server.attempts
    assert (attempt.method, attempt.path, attempt.model, attempt.authorization) == (
        "POST",
        CHAT_PATH,
        MODEL,
        f"Bearer {KEY}",
    )
    assert attempt.body is not None and attempt.body["messages"][-1] == {"role": "user", "content": "hi"}


async def test_output_tool_call_is_parsed_into_the_output_model(
    server: FaultServer, client: openai.AsyncOpenAI
) -> None:
    server.push(CallOutputTool({"title": "write docs", "done": True}))
    result = await Agent(chat_model(client), output_type=Step).run("hi")
    assert result.output == Step(title="write docs", done=True)
    [attempt] = server.attempts
    assert attempt.body is not None
    assert [tool["function"]["name"] for tool in attempt.body["tools"]] == ["final_result"]
    assert attempt.body["tool_choice"] == "required"


async def test_a_responder_answers_by_the_request(server: FaultServer, client: openai.AsyncOpenAI) -> None:
    """First a function tool call; once its result is in the messages, the output tool."""

    def respond(request: dict[str, Any]) -> Action:
        if any(message["role"] == "tool" for message in request["messages"]):
            return answer_with({"title": "sum is 5", "done": True})(request)
        return ToolCall("add", {"a": 2, "b": 3})

    server.set_default(respond)
    agent = Agent(chat_model(client), output_type=Step)

    @agent.tool_plain
    def add(a: int, b: int) -> int:
        return a + b

    result = await agent.run("add 2 and 3")
    assert result.output == Step(title="sum is 5", done=True)
    assert server.count == 2
    last = server.attempts[-1].body
    assert last is not None and last["messages"][-1]["role"] == "tool" and last["messages"][-1]["content"] == "5"


async def test_a_streamed_request_gets_server_sent_events(server: FaultServer, client: openai.AsyncOpenAI) -> None:
    server.push(Reply("streamed", prompt_tokens=3, completion_tokens=2))
    async with Agent(chat_model(client)).run_stream("hi") as run:
        output = await run.get_output()
    assert output == "streamed"
    assert (run.usage.input_tokens, run.usage.output_tokens) == (3, 2)
    assert server.attempts[0].body is not None and server.attempts[0].body["stream"] is True


async def test_huge_reply_is_parsed_whole(server: FaultServer, client: openai.AsyncOpenAI) -> None:
    server.push(Huge())
    result = await Agent(chat_model(client)).run("hi")
    assert len(result.output) == HUGE_SIZE and set(result.output) == {"x"}
    assert server.count == 1


async def test_latency_delays_the_answer(server: FaultServer, client: openai.AsyncOpenAI) -> None:
    server.push(Reply("late", latency=0.2))
    started = time.monotonic()
    result = await Agent(chat_model(client)).run("hi")
    assert result.output == "late" and time.monotonic() - started >= 0.2


async def test_a_hang_then_a_reply_is_answered_late(server: FaultServer, client: openai.AsyncOpenAI) -> None:
    server.push(Hang(0.2, then=Reply("after the hang")))
    result = await Agent(chat_model(client)).run("hi")
    assert result.output == "after the hang" and server.count == 1


# -- HTTP errors ---------------------------------------------------------------------------------------------


async def test_429_is_a_rate_limit_error_carrying_status_headers_and_retry_after(
    server: FaultServer, client: openai.AsyncOpenAI
) -> None:
    error = await fault_of(client, server, HTTPError(429, retry_after=7, message="slow down"))
    assert isinstance(error, ModelRateLimitError) and isinstance(error, ModelHTTPError)
    assert error.status_code == 429
    assert error.headers is not None and error.headers["retry-after"] == "7"  # keys lowercased
    assert error.retry_after == 7.0
    assert error.body == {"message": "slow down", "type": "requests", "param": None, "code": "rate_limit_exceeded"}
    assert (error.provider_error_code, error.provider_error_type) == ("rate_limit_exceeded", "requests")
    assert error.model_name == MODEL
    assert isinstance(error.__cause__, openai.RateLimitError)
    assert server.count == 1


ERROR_FIELDS: dict[int, dict[str, str | None]] = {
    400: {"type": "invalid_request_error", "param": None, "code": None},
    401: {"type": "invalid_request_error", "param": None, "code": "invalid_api_key"},
    404: {"type": "invalid_request_error", "param": None, "code": "model_not_found"},
    500: {"type": "server_error", "param": None, "code": None},
    502: {"type": "server_error", "param": None, "code": None},
    503: {"type": "server_error", "param": None, "code": None},
}


@pytest.mark.parametrize(
    ("status", "category", "sdk_error"),
    [
        (500, ModelServerError, openai.InternalServerError),
        (502, ModelServerError, openai.InternalServerError),
        (503, ModelUnavailableError, openai.InternalServerError),
        (400, ModelRequestRejectedError, openai.BadRequestError),
        (401, ModelAuthenticationError, openai.AuthenticationError),
        (404, ModelNotFoundError, openai.NotFoundError),
    ],
)
async def test_http_status_maps_to_its_error_category(
    server: FaultServer,
    client: openai.AsyncOpenAI,
    status: int,
    category: type[ModelAPIError],
    sdk_error: type[openai.APIStatusError],
) -> None:
    error = await fault_of(client, server, HTTPError(status))
    assert type(error).__name__ == category.__name__  # the most specific category, not a subclass of it
    assert isinstance(error, category) and isinstance(error, ModelHTTPError)
    assert error.status_code == status
    assert error.headers is not None and error.headers["content-type"] == "application/json"
    assert error.body == {"message": "injected fault", **ERROR_FIELDS[status]}
    assert error.retry_after is None
    assert isinstance(error.__cause__, sdk_error)
    assert server.count == 1


# -- transport faults ------------------------------------------------------------------------------------------


async def test_hang_past_the_timeout_setting_is_a_model_timeout_error(
    server: FaultServer, client: openai.AsyncOpenAI
) -> None:
    started = time.monotonic()
    error = await fault_of(client, server, Hang(5), {"timeout": 0.3})
    assert time.monotonic() - started < 2
    assert isinstance(error, ModelTimeoutError) and isinstance(error, ModelConnectionError)
    assert not isinstance(error, ModelHTTPError)
    assert error.phase == "read"
    assert caused_by(error, openai.APITimeoutError, httpx2.ReadTimeout)
    assert server.count == 1


async def test_hang_past_the_request_timeout_is_a_model_request_timeout(
    server: FaultServer, client: openai.AsyncOpenAI
) -> None:
    error = await fault_of(client, server, Hang(5), {"request_timeout": 0.3})
    assert isinstance(error, ModelRequestTimeout)
    assert not isinstance(error, ModelConnectionError | ModelHTTPError)
    assert error.timeout == 0.3 and error.__cause__ is None
    assert server.count == 1


async def test_hang_then_close_without_a_response_is_a_connection_error(
    server: FaultServer, client: openai.AsyncOpenAI
) -> None:
    error = await fault_of(client, server, Hang(0.05))
    assert type(error) is ModelConnectionError and error.phase == "read"
    assert caused_by(error, openai.APIConnectionError, httpx2.RemoteProtocolError)
    assert "Server disconnected without sending a response" in str(causes(error)[1])
    assert server.count == 1


async def test_reset_is_a_connection_error(server: FaultServer, client: openai.AsyncOpenAI) -> None:
    error = await fault_of(client, server, Reset())
    assert type(error) is ModelConnectionError and error.phase == "read"
    assert caused_by(error, openai.APIConnectionError, httpx2.ReadError)
    assert server.count == 1


async def test_truncated_body_is_a_connection_error(server: FaultServer, client: openai.AsyncOpenAI) -> None:
    error = await fault_of(client, server, Truncated())
    assert type(error) is ModelConnectionError and error.phase == "read"
    assert caused_by(error, openai.APIConnectionError, httpx2.RemoteProtocolError)
    assert "peer closed connection without sending complete message body" in str(causes(error)[1])
    assert server.count == 1


# -- retries outside pydantic-ai: the SDK's, and a FallbackModel ---------------------------------------------


async def test_the_default_provider_client_retries_a_503_twice(server: FaultServer) -> None:
    """`OpenAIProvider(base_url=..., api_key=...)` builds a client with the SDK's 2 retries (≈1.3 s backoff)."""
    server.set_default(HTTPError(503, retry_after=0))
    async with OpenAIProvider(base_url=server.base_url, api_key=KEY) as provider:  # closes its own HTTP client
        agent = Agent(OpenAIChatModel(MODEL, provider=provider))
        with pytest.raises(ModelUnavailableError):
            await agent.run("hi")
        assert server.count == 3
        with pytest.raises(ModelUnavailableError):
            await agent.run("hi", model_settings={"max_retries": 0})
    assert server.count == 4, "the max_retries setting turns the SDK's retries off for one request"


async def test_the_default_provider_client_does_not_retry_a_401(server: FaultServer) -> None:
    server.set_default(HTTPError(401))
    async with OpenAIProvider(base_url=server.base_url, api_key=KEY) as provider:
        with pytest.raises(ModelAuthenticationError):
            await Agent(OpenAIChatModel(MODEL, provider=provider)).run("hi")
    assert server.count == 1


async def test_fallback_model_sends_each_model_its_own_key(server: FaultServer) -> None:
    server.set_default(lambda request: HTTPError(429) if request["model"] == "primary" else Reply("from backup"))
    async with (
        openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-primary", max_retries=0) as primary,
        openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-backup", max_retries=0) as backup,
    ):
        model = FallbackModel(chat_model(primary, "primary"), chat_model(backup, "backup"))
        result = await Agent(model).run("hi")
    assert result.output == "from backup"
    assert [(a.model, a.authorization) for a in server.attempts] == [
        ("primary", "Bearer sk-primary"),
        ("backup", "Bearer sk-backup"),
    ]


# -- the server itself ----------------------------------------------------------------------------------------


def test_script_is_consumed_in_order_then_the_default_answers() -> None:
    with (
        FaultServer([HTTPError(500), Reply("second")], default=Reply("default")) as server,
        http_to(server) as http,
    ):
        statuses = [post_chat(http).status_code for _ in range(3)]
        contents = [a.action.content if isinstance(a.action, Reply) else None for a in server.attempts]
    assert statuses == [500, 200, 200]
    assert contents == [None, "second", "default"]


def test_models_are_listed_and_an_unknown_path_is_a_recorded_404(server: FaultServer) -> None:
    with http_to(server) as http:
        listed = http.get("models").json()
        unknown = http.post("embeddings", json={"model": MODEL})
    assert [model["id"] for model in listed["data"]] == [MODEL]
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert [a.path for a in server.attempts] == [MODELS_PATH, "/v1/embeddings"]
    assert server.count == 0, "count is chat completions only"


def test_fail_fraction_is_seeded() -> None:
    def statuses(seed: int) -> list[int]:
        with FaultServer(fail_fraction=0.5, seed=seed) as server, http_to(server) as http:
            return [post_chat(http).status_code for _ in range(20)]

    first, again, other = statuses(1), statuses(1), statuses(2)
    assert first == again != other
    assert set(first) == {200, 429, 503}
    assert 4 <= sum(status != 200 for status in first) <= 16


def test_stop_is_bounded_while_a_handler_hangs_and_a_client_waits() -> None:
    server = FaultServer([Hang(20)]).start()
    outcome: list[BaseException | httpx2.Response] = []

    def call() -> None:
        with http_to(server, timeout=10) as http:
            try:
                outcome.append(post_chat(http))
            except httpx2.HTTPError as error:
                outcome.append(error)

    waiting = threading.Thread(target=call, daemon=True)
    waiting.start()
    deadline = time.monotonic() + 5
    while server.count == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    server.stop()
    waiting.join(5)
    assert time.monotonic() - started < 1
    assert server.alive_threads == 0
    assert len(outcome) == 1 and isinstance(outcome[0], httpx2.RemoteProtocolError)


def http_to(server: FaultServer, timeout: float = 5) -> httpx2.Client:
    return httpx2.Client(base_url=server.base_url + "/", timeout=timeout)


def post_chat(http: httpx2.Client) -> httpx2.Response:
    return http.post("chat/completions", json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
