"""The durable engine's serializer: redacted JSON, classes rebuilt from an allowlist, pickle refused."""

from __future__ import annotations

import base64
import datetime as dt
import json
import pickle
from pathlib import Path

import pytest
from pydantic_ai.exceptions import ModelHTTPError

from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.durable.serializer import (
    PickleRefused,
    RecordedError,
    RedactingJSONSerializer,
    refuse_pickle,
)
from agent_orchestrator.errors import UsageError
from agent_orchestrator.workflows.recorder import WorkflowFailed

SECRET = "sk-test-0123456789abcdef"


def redact(text: str) -> str:
    return text.replace(SECRET, "[REDACTED]")


SERIALIZER = RedactingJSONSerializer(redact)


def call(error: str | None = None) -> CallRecord:
    return CallRecord(
        call_id="c1", role="leader", model_id="m", started=1.0, latency_ms=3, attempts=1, requests=1,
        input_tokens=2, output_tokens=3, cost_usd=None, error=error,
    )  # fmt: skip


def round_trip(value: object) -> object:
    return SERIALIZER.deserialize(SERIALIZER.serialize(value))


def test_models_tuples_datetimes_and_bytes_come_back_as_they_were() -> None:
    value = (call(), [call("boom")], {"$odd": dt.datetime(2026, 1, 2, tzinfo=dt.UTC), "b": b"\x00\xff"})
    assert round_trip(value) == value


def test_every_string_is_redacted_before_it_is_stored() -> None:
    stored = SERIALIZER.serialize({"prompt": f"key {SECRET}", "calls": [call(f"bad key {SECRET}")]})
    assert SECRET not in stored and stored.count("[REDACTED]") == 2


def test_our_errors_and_pydantic_ai_errors_come_back_as_their_own_class_with_their_data() -> None:
    failed = round_trip(WorkflowFailed("run_1", f"the model said {SECRET}"))
    assert isinstance(failed, WorkflowFailed) and failed.run_id == "run_1"
    assert SECRET not in str(failed) and "[REDACTED]" in str(failed)
    http = round_trip(ModelHTTPError(status_code=503, model_name="m", body={"error": "overloaded"}))
    assert isinstance(http, ModelHTTPError) and http.status_code == 503
    assert isinstance(round_trip(UsageError("no")), UsageError)


def test_a_class_outside_the_allowlist_is_never_imported() -> None:
    forged = json.dumps({"$model": "os:system", "data": {}})
    with pytest.raises(TypeError, match="not a class the durable engine rebuilds"):
        SERIALIZER.deserialize(forged)
    error = SERIALIZER.deserialize(json.dumps({"$error": "subprocess:Popen", "message": "x", "args": ["ls"]}))
    assert isinstance(error, RecordedError) and "Popen: x" in str(error)


def test_a_live_object_cannot_be_recorded() -> None:
    with pytest.raises(TypeError, match="cannot be recorded"):
        SERIALIZER.serialize(object())


class Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path("/tmp/ao-pickle-ran").touch, ())  # type: ignore[return-value]


def test_a_pickled_row_is_refused_not_unpickled(tmp_path: Path) -> None:
    """DBOS unpickles rows marked py_pickle whatever serializer is configured: the guard must hold."""
    import dbos._serialization as dbos_serialization

    assert hasattr(dbos_serialization, "DBOSDefaultSerializer"), "the patched name moved: update refuse_pickle"
    refuse_pickle()
    marker = Path("/tmp/ao-pickle-ran")
    marker.unlink(missing_ok=True)
    payload = base64.b64encode(pickle.dumps(Payload())).decode()
    with pytest.raises(PickleRefused):
        dbos_serialization.deserialize_value(payload, "py_pickle", SERIALIZER)
    assert not marker.exists()
