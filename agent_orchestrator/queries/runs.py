"""Read-side of run records: list runs, show one, page through an artifact."""

from __future__ import annotations

from pydantic import BaseModel

from agent_orchestrator.errors import UsageError
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.runs import RunRecord, RunSummary

MAX_ARTIFACT_PAGE = 200_000


class RunList(BaseModel):
    runs: list[RunSummary]


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


def get_run(runtime: Runtime, run_id: str) -> RunRecord:
    return runtime.runs.get(run_id.strip())


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
