"""Read-side of run records: list runs, show one (with its model usage and failure), page through an artifact."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from agent_orchestrator.domain.calls import CallRecord, CallTotals
from agent_orchestrator.errors import AOError, UsageError
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.runs import RunRecord, RunSummary

MAX_ARTIFACT_PAGE = 200_000
MAX_CAUSE_CHARS = 400
RESULT_ARTIFACT = "result.json"  # a background run's whole result (what the tool would have returned)
MAX_INLINE_OUTPUT = 200_000


class RunList(BaseModel):
    runs: list[RunSummary]


class ModelUsage(CallTotals):
    """What one model spent in one role during a run, from the call ledger (failed calls included)."""

    model_id: str
    role: str
    fell_back_from: list[str] = Field(default=[], description="models this one replaced, when it was a fallback")


class RunView(RunRecord):
    """A run as `get_run` shows it: the record, plus per-model usage, the leader's model and why it failed."""

    leader_model: str | None = Field(description="the model the leader's first call went to (None: no call)")
    models: list[ModelUsage] = Field(description="usage per model and role, in the order first used")
    failure: str | None = Field(description="why the run did not succeed, in one line a user can act on")
    validation_errors: list[str] = Field(
        default=[], description="what was wrong with a rejected model output (summarised, redacted)"
    )
    output: dict[str, Any] | None = Field(
        default=None,
        description=f"a finished background run's result, as its tool returns it (larger ones: the "
        f"{RESULT_ARTIFACT} artifact)",
    )


class ArtifactPage(BaseModel):
    """A slice of an artifact's content; `next_offset` is None at the end."""

    run_id: str
    artifact_id: str
    name: str
    media_type: str
    size: int
    offset: int
    content: str
    next_offset: int | None


def list_runs(runtime: Runtime, limit: int = 50) -> RunList:
    if not 1 <= limit <= 1000:
        raise UsageError(f"limit must be between 1 and 1000, got {limit}")
    return RunList(runs=runtime.runs.list(limit))


def get_run(runtime: Runtime, run_id: str) -> RunView:
    """One run with its usage per model (from the call ledger), its leader's model and its failure, if any."""
    record = runtime.runs.get(run_id.strip())
    calls = runtime.ledger.for_run(record.run_id)
    failure = _mapping(record.result.get("failure"))
    errors = failure.get("validation_errors")
    return RunView(
        **record.model_dump(),
        leader_model=leader_model(calls),
        models=model_usage(calls),
        failure=failure_line(record, failure),
        validation_errors=[str(error) for error in _items(errors)],
        output=_output(runtime, record),
    )


def _output(runtime: Runtime, record: RunRecord) -> dict[str, Any] | None:
    """The result a background run kept as its artifact, when it is small enough to show inline."""
    found = next((ref for ref in record.artifacts if ref.name == RESULT_ARTIFACT), None)
    if found is None or found.size > MAX_INLINE_OUTPUT:
        return None
    try:
        parsed = json.loads(runtime.runs.get_artifact(record.run_id, found.artifact_id).content)
    except (ValueError, AOError):
        return None
    return _mapping(parsed) or None


def leader_model(calls: Sequence[CallRecord]) -> str | None:
    """The leader's model: the one its first call went to (a fallback that served later shows in `models`)."""
    leader = next((call for call in calls if call.role == "leader"), None)
    if leader is None:
        return None
    return leader.fallback_from or leader.model_id


def model_usage(calls: Sequence[CallRecord]) -> list[ModelUsage]:
    """The calls summed per (model, role), in the order each was first used."""
    groups: dict[tuple[str, str], list[CallRecord]] = {}
    for call in calls:
        groups.setdefault((call.model_id, call.role), []).append(call)
    rows: list[ModelUsage] = []
    for (model_id, role), group in groups.items():
        costs = [call.cost_usd for call in group if call.cost_usd is not None]
        rows.append(
            ModelUsage(
                model_id=model_id,
                role=role,
                calls=len(group),
                failed_calls=sum(not call.succeeded for call in group),
                retries=sum(call.retries for call in group),
                requests=sum(call.requests for call in group),
                input_tokens=sum(call.input_tokens for call in group),
                output_tokens=sum(call.output_tokens for call in group),
                cost_usd=round(sum(costs), 6) if costs else None,
                fell_back_from=list(dict.fromkeys(c.fallback_from for c in group if c.fallback_from)),
            )
        )
    return rows


def _mapping(value: object) -> dict[str, Any]:
    """A stored JSON object, or an empty one when the record holds something else there."""
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _items(value: object) -> list[object]:
    """A stored JSON list, or an empty one when the record holds something else there."""
    return list(value) if isinstance(value, list) else []  # pyright: ignore[reportUnknownArgumentType]


def failure_line(record: RunRecord, failure: dict[str, Any]) -> str | None:
    """Why a finished run did not succeed, in one line: its recorded cause, else its reason's first line."""
    if record.status in ("queued", "running", "succeeded"):
        return None
    cause = str(failure.get("cause") or "").strip() or record.reason.strip()
    line = cause.splitlines()[0] if cause else f"the run ended {record.status}"
    return line if len(line) <= MAX_CAUSE_CHARS else line[: MAX_CAUSE_CHARS - 3] + "..."


def get_artifact(
    runtime: Runtime, run_id: str, artifact_id: str, offset: int = 0, limit: int = MAX_ARTIFACT_PAGE
) -> ArtifactPage:
    if offset < 0 or not 1 <= limit <= MAX_ARTIFACT_PAGE:
        raise UsageError(f"offset must be >= 0 and limit between 1 and {MAX_ARTIFACT_PAGE}")
    artifact = runtime.runs.get_artifact(run_id.strip(), artifact_id.strip())
    end = min(offset + limit, artifact.size)
    return ArtifactPage(
        run_id=run_id,
        artifact_id=artifact.artifact_id,
        name=artifact.name,
        media_type=artifact.media_type,
        size=artifact.size,
        offset=offset,
        content=artifact.content[offset:end],
        next_offset=end if end < artifact.size else None,
    )
