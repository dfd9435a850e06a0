"""The one way tests script a model: `Scripted(answer)`, a `FunctionModel` driven by a plain function.

`answer` gets each `Request` (the model's name, the last user prompt, the messages, the agent's
output tools) and returns what the model says:

- a dict: structured output: the arguments of a call to the agent's output tool, or, when the
  request offers none (native or prompted output), the same object as JSON text;
- a str: text;
- a `ModelResponse`, as is.

It may be async, and it may raise to fail the call (`ModelHTTPError` for a dead endpoint).
`Scripted` records every request with when it started and ended, counts how many ran at once,
waits `latency_s` before answering, and builds models (`model(name)`) and model factories
(`factory()`, the `ModelFactory` seam of `Runtime.create`, `create_server_for` and the CLI's
`commands.MODEL_FACTORY`). Interview workers (`scripted.py`) and the workflow scripts
(`workflows/scripted_agents.py`) are built on it.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, UserPromptPart
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel

from agent_orchestrator.config import Settings
from agent_orchestrator.providers import ModelFactory, ModelSpec, Role

Reply = dict[str, Any] | str | ModelResponse
Answer = Callable[["Request"], Reply | Awaitable[Reply]]
ModelName = Callable[[ModelSpec, Role], str]


# How pydantic-ai's retry feedback reaches a model as user text (`Model.prepare_messages`): not a prompt.
_FEEDBACK_MARKS = ("<validation_errors>", "<retry_feedback>")


def prompt_of(messages: list[ModelMessage]) -> str:
    """The text of the last user prompt in a request (a retry's feedback is not one: the original's)."""
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if (
                    isinstance(part, UserPromptPart)
                    and isinstance(part.content, str)
                    and not _feedback(part.content)
                ):
                    return part.content
    raise AssertionError("no user prompt in the request")


def _feedback(text: str) -> bool:
    return text.startswith("<system>") or any(mark in text for mark in _FEEDBACK_MARKS)


@dataclass
class Request:
    """One call to a scripted model: who was asked, what, with which output tools, and when."""

    model: str
    prompt: str
    messages: list[ModelMessage]
    info: AgentInfo
    started: float
    ended: float = 0.0

    @property
    def output_mode(self) -> str:
        """How the agent asks for its output: `tool`, `native`, `prompted`, `text`, ... (pydantic-ai's)."""
        return self.info.model_request_parameters.output_mode

    @property
    def structured(self) -> bool:
        """Whether the agent asks for structured output (through a tool, or as JSON text)."""
        return bool(self.info.output_tools) or self.info.model_request_parameters.output_object is not None

    @property
    def output_fields(self) -> set[str]:
        """The properties of the output's schema, its tool's or its JSON object's (empty for text output)."""
        output_object = self.info.model_request_parameters.output_object
        if self.info.output_tools:
            schema = self.info.output_tools[0].parameters_json_schema
        elif output_object is not None:
            schema = output_object.json_schema
        else:
            return set()
        properties: dict[str, Any] = schema.get("properties", {})
        return set(properties)


def reply_to(request: Request, reply: Reply) -> ModelResponse:
    """A dict calls the output tool (JSON text when the request offers none), a str is text, a
    `ModelResponse` goes as is."""
    if isinstance(reply, ModelResponse):
        return reply
    if isinstance(reply, str):
        return ModelResponse(parts=[TextPart(reply)])
    if not request.info.output_tools:
        return ModelResponse(parts=[TextPart(json.dumps(reply))])
    return ModelResponse(parts=[ToolCallPart(tool_name=request.info.output_tools[0].name, args=reply)])


def by_model_name(spec: ModelSpec, role: Role) -> str:
    """The default naming: the model part of the spec (`openai-compatible:ideal` -> `ideal`)."""
    return spec.model


@dataclass
class Scripted:
    """Scripted models answering with `answer`; every request recorded, concurrency counted."""

    answer: Answer
    latency_s: float = 0.0
    requests: list[Request] = field(default_factory=list[Request])
    active: int = 0
    max_active: int = 0

    @property
    def prompts(self) -> list[str]:
        return [request.prompt for request in self.requests]

    @property
    def shown(self) -> list[str]:
        """Every message the models were sent (instructions, prompts, history), as text: for leak checks."""
        return [repr(message) for request in self.requests for message in request.messages]

    def model(self, name: str = "scripted", answer: Answer | None = None) -> FunctionModel:
        """A model named `name` answering with `answer` (this script's by default), recorded here."""
        chosen = answer or self.answer

        async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            request = Request(name, prompt_of(messages), list(messages), info, time.perf_counter())
            self.requests.append(request)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            try:
                if self.latency_s:
                    await anyio.sleep(self.latency_s)
                reply = chosen(request)
                if inspect.isawaitable(reply):
                    reply = await reply
                return reply_to(request, reply)
            finally:
                self.active -= 1
                request.ended = time.perf_counter()

        return FunctionModel(respond, model_name=name)

    def factory(self, name: ModelName = by_model_name) -> ModelFactory:
        """A `ModelFactory`: each spec gets a model named by `name(spec, role)` (the spec's model by default)."""

        def build(spec: ModelSpec, settings: Settings, role: Role) -> Model:
            return self.model(name(spec, role))

        return build


def answering(reply: Reply) -> Scripted:
    """A `Scripted` that gives every request the same reply."""
    return Scripted(lambda request: reply)
