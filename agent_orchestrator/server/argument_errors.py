"""Bad tool arguments become one short `invalid request:` message, never a validation dump.

fastmcp reports an argument that fails its schema with pydantic's full text, which carries the
input value (a key pasted into the wrong argument would be echoed) and a documentation URL. This
middleware turns it into `invalid request: timeout_s: Input should be greater than 0`, marked as
a usage error so `ao` exits 2 like for any other bad usage.
"""

from __future__ import annotations

from typing import Any

from fastmcp.exceptions import ToolError, ValidationError
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from pydantic import ValidationError as PydanticValidationError

from agent_orchestrator.server.edge import INVALID_REQUEST


class ArgumentErrors(Middleware):
    """Rewrites argument-validation failures of tool calls into concise usage errors."""

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        try:
            return await call_next(context)
        except ValidationError as exc:
            cause = exc.__cause__
            detail = describe_validation(cause) if isinstance(cause, PydanticValidationError) else "bad arguments"
            raise ToolError(f"{INVALID_REQUEST}{detail}") from None


def describe_validation(error: PydanticValidationError) -> str:
    """`argument: problem` for each failure, without the input values."""
    problems: list[str] = []
    for item in error.errors(include_url=False, include_context=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)
