"""The server edge: our errors become MCP `ToolError`s with their message; anything else is masked."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from fastmcp.exceptions import ToolError

from agent_orchestrator.errors import AOError, UsageError
from agent_orchestrator.policies.redaction import Redactor

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("agent_orchestrator.server")


INVALID_REQUEST = "invalid request: "


def client_message(exc: AOError) -> str:
    """The client-facing message; usage errors are marked so callers (and `ao`) can tell them apart."""
    return f"{INVALID_REQUEST}{exc}" if isinstance(exc, UsageError) else str(exc)


def at_edge(redact: Redactor) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Wrap a tool so failures reach the client as one clear, redacted message and no traceback."""

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except AOError as exc:
                raise ToolError(redact(client_message(exc))) from None
            except ToolError:
                raise
            except Exception as exc:
                log.error("tool %s failed: %s", fn.__name__, redact(f"{type(exc).__name__}: {exc}"))
                raise ToolError(
                    f"internal error in {fn.__name__} ({type(exc).__name__}); see the server log"
                ) from None

        return wrapper

    return decorate
