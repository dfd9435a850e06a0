"""How the durable engine stores workflow inputs, step values and errors: redacted JSON, never pickle.

DBOS's default serializer is pickle: a secret inside a pickled value escapes redaction, and a
pickle in a shared PostgreSQL database is code execution on every executor that reads it. Ours
writes JSON with every string redacted, tags what JSON cannot say (pydantic models, tuples,
datetimes, bytes, exceptions), and rebuilds classes only from our own package and pydantic-ai's
exceptions. A row written by another serializer is refused when read (`refuse_pickle`).
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import json
from collections.abc import Callable
from typing import Any

from dbos import Serializer
from pydantic import BaseModel

from agent_orchestrator.errors import AOError

NAME = "ao_json_v1"
_ALLOWED = ("agent_orchestrator", "pydantic_ai.exceptions", "builtins")


class RecordedError(AOError):
    """A recorded failure whose class cannot be rebuilt here: its type name and message."""


class PickleRefused(AOError):
    """A row in the engine's database was pickled: it is refused, never unpickled."""


def _allowed(module: str) -> bool:
    return any(module == allowed or module.startswith(allowed + ".") for allowed in _ALLOWED)


def _load(path: str) -> Any:
    module, _, qualname = path.partition(":")
    if not _allowed(module):
        raise TypeError(f"{path!r} is not a class the durable engine rebuilds")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _path(kind: type) -> str:
    return f"{kind.__module__}:{kind.__qualname__}"


class RedactingJSONSerializer(Serializer):
    """DBOS's `Serializer`: `serialize(value) -> str`, `deserialize(str) -> value`, `name()`."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        self._redact = redact

    def name(self) -> str:
        return NAME

    def serialize(self, data: Any) -> str:
        return json.dumps(self._encode(data), separators=(",", ":"), ensure_ascii=False)

    def deserialize(self, serialized_data: str) -> Any:
        return self._decode(json.loads(serialized_data))

    def _encode(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, BaseModel):
            return {"$model": _path(type(value)), "data": self._encode(value.model_dump(mode="json"))}
        if isinstance(value, BaseException):
            return self._error(value)
        if isinstance(value, dt.datetime):
            return {"$datetime": value.isoformat()}
        if isinstance(value, tuple):
            return {"$tuple": [self._encode(item) for item in value]}  # pyright: ignore[reportUnknownVariableType]
        if isinstance(value, list):
            return [self._encode(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
        if isinstance(value, dict):
            mapping: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
            return {self._key(key): self._encode(item) for key, item in mapping.items()}
        if isinstance(value, bytes):
            return {"$bytes": base64.b64encode(value).decode()}
        raise TypeError(
            f"{type(value).__qualname__} cannot be recorded by the durable engine: use a pydantic model"
        )

    def _key(self, key: object) -> str:
        if not isinstance(key, str):
            raise TypeError("only text keys can be recorded")
        return "$" + key if key.startswith("$") else key

    def _error(self, error: BaseException) -> dict[str, Any]:
        """An exception as its class, its redacted message, and its arguments and attributes that are data."""
        try:
            args = self._encode(list(error.args))
        except TypeError:
            args = [self._redact(str(error))]
        state: dict[str, Any] = {}
        for key, item in vars(error).items():
            try:
                state[self._key(key)] = self._encode(item)
            except TypeError:  # a live object (a response, a client) is not kept
                continue
        return {"$error": _path(type(error)), "message": self._redact(str(error)), "args": args, "state": state}

    def _decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._decode(item) for item in value]  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(value, dict):
            return value
        tagged: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
        if "$model" in tagged:
            kind = _load(tagged["$model"])
            if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
                raise TypeError(f"{tagged['$model']!r} is not a pydantic model")
            return kind.model_validate(self._decode(tagged["data"]))
        if "$error" in tagged:
            return _rebuild_error(
                tagged["$error"],
                str(tagged.get("message", "")),
                self._decode(tagged.get("args", [])),
                self._decode(tagged.get("state", {})),
            )
        if "$datetime" in tagged:
            return dt.datetime.fromisoformat(tagged["$datetime"])
        if "$tuple" in tagged:
            return tuple(self._decode(item) for item in tagged["$tuple"])
        if "$bytes" in tagged:
            return base64.b64decode(tagged["$bytes"])
        return {(key[1:] if key.startswith("$$") else key): self._decode(item) for key, item in tagged.items()}


def _rebuild_error(path: str, message: str, args: list[Any], state: dict[str, Any]) -> BaseException:
    """The recorded exception as its own class (our package, pydantic-ai's errors), else a `RecordedError`.

    Built without calling its `__init__` (whose signature varies), so its message is the recorded one.
    """
    try:
        kind = _load(path)
    except (TypeError, ImportError, AttributeError):
        kind = None
    if not (isinstance(kind, type) and issubclass(kind, BaseException)):
        return RecordedError(f"{path.rpartition(':')[2]}: {message}")
    error = kind.__new__(kind)
    error.args = tuple(args) if args else (message,)
    error.__dict__.update(state)
    return error


def refuse_pickle() -> None:
    """Make DBOS refuse rows stored with pickle instead of unpickling them.

    DBOS 3.4 unpickles any row whose `serialization` column says `py_pickle`, whatever serializer is
    configured (`dbos._serialization.deserialize_*` fall back to `DBOSDefaultSerializer`). Replacing
    that loader is a patch of a private name: `tests/durable/test_serializer.py` fails if it moves.
    """
    import dbos._serialization as dbos_serialization

    def refuse(serialized_data: str) -> Any:
        raise PickleRefused(
            "a pickled row was found in the durable engine's database; it was refused, not unpickled "
            "(something other than agent-orchestrator wrote it)"
        )

    dbos_serialization.DBOSDefaultSerializer.deserialize = refuse  # type: ignore[method-assign]
