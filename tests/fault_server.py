"""A fault-injecting OpenAI-compatible chat-completions server on 127.0.0.1, for retry and deadline tests.

Each request to `POST /v1/chat/completions` is answered by an `Action`: the next one of a script, then a
default action or a responder that looks at the request. Actions reply with text or a tool call, fail with
an HTTP status, hang, reset the connection, send a truncated body, or send a huge reply. Every request is
recorded (path, JSON body, model, Authorization header) so a test can count attempts and check which key
went where. Every sleep is bounded and wakes early when the server stops.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any, TypeAlias, cast

MAX_SLEEP = 30.0
"""No action sleeps longer than this, whatever it asks for."""

OUTPUT_TOOL_NAME = "final_result"
"""pydantic-ai's default output tool name (private there: `pydantic_ai._output.DEFAULT_OUTPUT_TOOL_NAME`)."""

HUGE_SIZE = 4 * 1024 * 1024
CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"

_ERROR_DEFAULTS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", None),
    503: ("server_error", None),
}


@dataclass(frozen=True)
class Reply:
    """A chat completion whose message is `content`, with a usage block."""

    content: str = "ok"
    prompt_tokens: int = 10
    completion_tokens: int = 5
    latency: float = 0.0


@dataclass(frozen=True)
class ToolCall:
    """A chat completion that calls tool `name` with `args` (a mapping, or a raw JSON string)."""

    name: str
    args: Mapping[str, Any] | str = field(default_factory=dict[str, Any])
    prompt_tokens: int = 10
    completion_tokens: int = 5
    latency: float = 0.0


@dataclass(frozen=True)
class CallOutputTool:
    """Answer a structured-output request with `args`: through the output tool it offers, else as JSON text."""

    args: Mapping[str, Any]
    prompt_tokens: int = 10
    completion_tokens: int = 5
    latency: float = 0.0


@dataclass(frozen=True)
class HTTPError:
    """An HTTP error status with an OpenAI-style JSON error body and an optional `Retry-After` header.

    `retry_after` is whole seconds or an HTTP date, sent as given.
    """

    status: int = 500
    retry_after: int | str | None = None
    message: str = "injected fault"
    error_type: str | None = None  # default per status, see `_ERROR_DEFAULTS`
    code: str | None = None
    latency: float = 0.0


@dataclass(frozen=True)
class Hang:
    """Sleep `seconds` (bounded; wakes when the server stops), then do `then`, or close without a response."""

    seconds: float = 5.0
    then: Action | None = None
    latency: float = 0.0


@dataclass(frozen=True)
class Reset:
    """Abort the connection with a TCP RST (SO_LINGER 0, then close), sending no response."""

    latency: float = 0.0


@dataclass(frozen=True)
class Truncated:
    """Send a 200 whose Content-Length is larger than the body, a JSON body cut in the middle, then close."""

    latency: float = 0.0


@dataclass(frozen=True)
class Huge:
    """A valid reply whose content is `size` bytes of text."""

    size: int = HUGE_SIZE
    latency: float = 0.0


Action: TypeAlias = Reply | ToolCall | CallOutputTool | HTTPError | Hang | Reset | Truncated | Huge
Responder: TypeAlias = Callable[[dict[str, Any]], Action]


@dataclass(frozen=True)
class Attempt:
    """One request the server received, and the action that answered it."""

    index: int
    method: str
    path: str
    body: dict[str, Any] | None
    model: str | None
    authorization: str | None
    action: Action | None
    received_at: float


def output_tool_name(request: Mapping[str, Any]) -> str | None:
    """The output tool a request offers: `final_result` (or `final_result_*`), else its only tool, else None."""
    tools: list[dict[str, Any]] = request.get("tools") or []
    names: list[str] = [tool.get("function", {}).get("name", "") for tool in tools]
    for name in names:
        if name == OUTPUT_TOOL_NAME or name.startswith(f"{OUTPUT_TOOL_NAME}_"):
            return name
    return names[0] if len(names) == 1 else None


def structured_reply(request: Mapping[str, Any], args: Mapping[str, Any]) -> ToolCall | Reply:
    """The action that answers a structured-output request with `args`, whatever output mode it uses."""
    name = output_tool_name(request)
    return ToolCall(name, args) if name is not None else Reply(json.dumps(args))


def answer_with(args: Mapping[str, Any]) -> Responder:
    """A responder that answers every request through its output tool with `args`."""
    return lambda request: structured_reply(request, args)


class FaultServer:
    """A threaded OpenAI-compatible server on an ephemeral 127.0.0.1 port; a context manager."""

    def __init__(
        self,
        script: Iterable[Action] = (),
        default: Action | Responder = Reply(),
        *,
        fail_fraction: float = 0.0,
        fail_statuses: Sequence[int] = (429, 503),
        seed: int = 0,
        models: Sequence[str] = ("fault-model",),
    ) -> None:
        self._script: deque[Action] = deque(script)
        self._default = default
        self._fail_fraction = fail_fraction
        self._fail_statuses = tuple(fail_statuses)
        self._random = random.Random(seed)
        self.models = tuple(models)
        self._attempts: list[Attempt] = []
        self._lock = threading.RLock()  # a responder runs under it, and may read `count` or `attempts`
        self.stopping = threading.Event()
        self._httpd = _HTTPServer(self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def attempts(self) -> list[Attempt]:
        """A copy of every request received so far, in arrival order."""
        with self._lock:
            return list(self._attempts)

    @property
    def count(self) -> int:
        """How many chat-completion requests arrived."""
        with self._lock:
            return sum(attempt.path == CHAT_PATH for attempt in self._attempts)

    @property
    def alive_threads(self) -> int:
        """How many of the server's threads (the serving loop and the handlers) are still running."""
        threads = [self._thread, *self._httpd.handler_threads()]
        return sum(thread is not None and thread.is_alive() for thread in threads)

    def push(self, *actions: Action) -> None:
        """Append actions to the script."""
        with self._lock:
            self._script.extend(actions)

    def set_default(self, default: Action | Responder) -> None:
        """Answer with `default` once the script is used up (a responder is called with the request's JSON)."""
        with self._lock:
            self._default = default

    def start(self) -> FaultServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="fault-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, wake hanging handlers, abort open connections, and join every thread (bounded)."""
        deadline = time.monotonic() + timeout
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
        self._httpd.abort_connections()
        self._httpd.server_close()
        for thread in [self._thread, *self._httpd.handler_threads()]:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def sleep(self, seconds: float) -> None:
        """Sleep at most `seconds` (capped at `MAX_SLEEP`), waking as soon as the server stops."""
        if seconds > 0:
            self.stopping.wait(min(seconds, MAX_SLEEP))

    def record(self, method: str, path: str, body: dict[str, Any] | None, authorization: str | None) -> Attempt:
        """Record a request and choose its action (None for a request that is not a chat completion)."""
        with self._lock:
            action = self._choose(body) if path == CHAT_PATH and body is not None else None
            model = body.get("model") if body is not None else None
            attempt = Attempt(
                len(self._attempts), method, path, body, model, authorization, action, time.monotonic()
            )
            self._attempts.append(attempt)
            return attempt

    def _choose(self, body: dict[str, Any]) -> Action:
        """The next scripted action; else, in `fail_fraction` mode, maybe a 429/503; else the default's answer."""
        if self._script:
            return self._script.popleft()
        if self._fail_fraction and self._random.random() < self._fail_fraction:
            return HTTPError(self._random.choice(self._fail_statuses), retry_after=0)
        return self._default if not callable(self._default) else self._default(body)


class _HTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that tracks its handler threads and sockets so that stopping is bounded."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, fault: FaultServer) -> None:
        self.fault = fault
        self._connections: set[socket.socket] = set()
        self._handler_threads: list[threading.Thread] = []
        self._tracking = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (socket.getfqdn); no lookups here.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address), daemon=True)
        with self._tracking:
            self._connections.add(request)
            self._handler_threads = [t for t in self._handler_threads if t.is_alive()]
            self._handler_threads.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._tracking:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handler_threads(self) -> list[threading.Thread]:
        with self._tracking:
            return list(self._handler_threads)

    def abort_connections(self) -> None:
        with self._tracking:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body are two writes: without this, keep-alive costs 40 ms a reply

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    @property
    def fault(self) -> FaultServer:
        return cast(_HTTPServer, self.server).fault

    def _serve(self, method: str) -> None:
        fault = self.fault
        path = self.path.split("?", 1)[0]
        body = self._read_json() if method == "POST" else None
        attempt = fault.record(method, path, body, self.headers.get("Authorization"))
        try:
            if method == "GET" and path == MODELS_PATH:
                models = [
                    {"id": m, "object": "model", "created": 0, "owned_by": "fault-server"} for m in fault.models
                ]
                self._send_json(200, {"object": "list", "data": models})
            elif attempt.action is not None and body is not None:
                self._act(attempt.action, body, attempt.index)
            elif method == "POST" and path == CHAT_PATH:
                self._act(HTTPError(400, message="the request body is not a JSON object"), {}, attempt.index)
            else:
                self._act(HTTPError(404, message=f"no route for {method} {path}", code="not_found"), {}, 0)
        except OSError:
            self.close_connection = True  # the client went away first (it timed out), or the server is stopping

    def _read_json(self) -> dict[str, Any] | None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body: object = json.loads(raw)
        except ValueError:
            return None
        return cast(dict[str, Any], body) if isinstance(body, dict) else None

    def _act(self, action: Action, request: dict[str, Any], index: int) -> None:
        fault = self.fault
        fault.sleep(action.latency)
        match action:
            case Hang(seconds=seconds, then=then):
                fault.sleep(seconds)
                if then is not None:
                    self._act(then, request, index)
                else:
                    self.close_connection = True
            case Reset():
                self._reset()
            case Truncated():
                payload = json.dumps(_completion(request, index, Reply("truncated " * 64))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.close_connection = True
            case HTTPError():
                self._send_json(action.status, _error_body(action), _error_headers(action))
            case CallOutputTool(args=args):
                tokens = {"prompt_tokens": action.prompt_tokens, "completion_tokens": action.completion_tokens}
                self._reply(request, index, replace(structured_reply(request, args), **tokens))
            case Huge(size=size):
                self._reply(request, index, Reply("x" * size))
            case Reply() | ToolCall():
                self._reply(request, index, action)

    def _reply(self, request: dict[str, Any], index: int, action: Reply | ToolCall) -> None:
        if request.get("stream"):
            events = [*_chunks(request, index, action), "[DONE]"]
            payload = "".join(f"data: {event}\n\n" for event in events).encode()
            self._send(200, payload, "text/event-stream")
        else:
            self._send_json(200, _completion(request, index, action))

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the read buffer holds a reference: close it so that close() really closes
        self.connection.close()
        self.close_connection = True

    def _send_json(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _send(
        self, status: int, payload: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _usage(action: Reply | ToolCall) -> dict[str, int]:
    total = action.prompt_tokens + action.completion_tokens
    return {
        "prompt_tokens": action.prompt_tokens,
        "completion_tokens": action.completion_tokens,
        "total_tokens": total,
    }


def _message(action: Reply | ToolCall, index: int) -> tuple[dict[str, Any], str]:
    """The assistant message of a reply, and its finish reason."""
    if isinstance(action, Reply):
        return {"role": "assistant", "content": action.content}, "stop"
    arguments = action.args if isinstance(action.args, str) else json.dumps(action.args)
    call = {"id": f"call_{index}", "type": "function", "function": {"name": action.name, "arguments": arguments}}
    return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"


def _completion(request: Mapping[str, Any], index: int, action: Reply | ToolCall) -> dict[str, Any]:
    message, finish_reason = _message(action, index)
    return {
        "id": f"chatcmpl-fault-{index}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fault-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": _usage(action),
    }


def _chunks(request: Mapping[str, Any], index: int, action: Reply | ToolCall) -> list[str]:
    """The server-sent events of a streamed reply: the whole delta, the finish reason, then the usage."""
    message, finish_reason = _message(action, index)
    if "tool_calls" in message:
        message["tool_calls"] = [{"index": 0, **call} for call in message["tool_calls"]]
    head: dict[str, Any] = {
        "id": f"chatcmpl-fault-{index}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request.get("model", "fault-model"),
    }
    events: list[dict[str, Any]] = [
        {**head, "choices": [{"index": 0, "delta": message, "finish_reason": None}]},
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish_reason}]},
        {**head, "choices": [], "usage": _usage(action)},
    ]
    return [json.dumps(event) for event in events]


def _error_body(action: HTTPError) -> dict[str, Any]:
    default_type, default_code = _ERROR_DEFAULTS.get(action.status, ("server_error", None))
    error_type = action.error_type or default_type
    return {
        "error": {
            "message": action.message,
            "type": error_type,
            "param": None,
            "code": action.code or default_code,
        }
    }


def _error_headers(action: HTTPError) -> dict[str, str]:
    return {} if action.retry_after is None else {"Retry-After": str(action.retry_after)}
