"""What a durable run executes: each workflow tool's arguments as data, and the workflow they start.

A background run is stored as (tool name, arguments) and executed later, maybe by another
process, so its arguments must be plain data checked before it is queued: each job names a
pydantic model with exactly the tool's arguments (`tests/durable/test_jobs.py` keeps them equal to
the tools' input schemas). Whatever the workflow needs besides (the runtime, models, the safety
policy) the executor builds from its own configuration. A run must replay the same way, so
anything drawn at random (the interview's case seed) is drawn when the run is submitted.
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent_orchestrator.config import Settings
from agent_orchestrator.domain.progress import ProgressCallback
from agent_orchestrator.errors import UsageError
from agent_orchestrator.runtime import Runtime


class _Checked(BaseModel):
    """A job's arguments: nothing unknown, checked against the configuration, prepared for replay."""

    model_config = ConfigDict(extra="forbid")

    def prepared(self) -> _Checked:
        """The arguments as the run will replay them (random choices made now)."""
        return self

    def check(self, settings: Settings) -> None:
        """What only the configuration can tell (a `UsageError` if it is wrong); nothing by default."""


class _Arguments(_Checked):
    """A workspace job's arguments: the repository it works in (default: the workspace)."""

    repository: str | None = None


class _SecondOpinion(_Arguments):
    second_opinion: str | None = None

    def check(self, settings: Settings) -> None:
        """The second opinion's model resolves (a `UsageError` if not)."""
        if self.second_opinion is not None:
            from agent_orchestrator.workflows.second_opinion import second_opinion_spec

            second_opinion_spec(settings, self.second_opinion)


class ReviewArguments(_SecondOpinion):
    diff_range: str | None = None
    diff_file: str | None = None
    files: list[str] | None = None


class PlanArguments(_SecondOpinion):
    goal: str = Field(min_length=1, max_length=4000)
    context_files: list[str] | None = None


class LeaderWorkerArguments(_Arguments):
    goal: str = Field(min_length=1, max_length=4000)
    scope: str | None = None
    context_files: list[str] | None = None
    worker_profile: str | None = None
    write: bool = False


class FixArguments(_Arguments):
    error_log: str
    scope: str
    write: bool = False
    apply: bool | None = None


class InterviewArguments(_Checked):
    provider: str | None = None
    model: str | None = None
    base_url: str | None = None
    save: bool = False
    seed: int | None = None

    def prepared(self) -> InterviewArguments:
        return self if self.seed is not None else self.model_copy(update={"seed": secrets.randbelow(2**31)})


Runner = Callable[[Runtime, Any, ProgressCallback | None], Awaitable[BaseModel]]


@dataclass(frozen=True)
class Job:
    """A workflow tool as a background run: its arguments' model and how to run it."""

    tool: str
    workflow: str  # the name its run record carries
    arguments: type[_Checked]
    run: Runner
    needs_workspace: bool = True

    def validate(self, arguments: dict[str, Any], settings: Settings | None = None) -> _Checked:
        """The arguments checked as the tool checks them (with `settings`, what depends on the configuration
        too); a `UsageError` naming what is wrong."""
        try:
            checked = self.arguments.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, error['loc'])) or 'arguments'}: {error['msg']}" for error in exc.errors()
            )
            raise UsageError(f"invalid arguments for {self.tool}: {problems}") from None
        if settings is not None:
            checked.check(settings)
        return checked.prepared()


async def _review(runtime: Runtime, arguments: ReviewArguments, progress: ProgressCallback | None) -> BaseModel:
    from agent_orchestrator.workflows.review.graph import review

    return await review(
        runtime.for_repository(arguments.repository),
        diff_range=arguments.diff_range,
        diff_file=arguments.diff_file,
        files=arguments.files,
        progress=progress,
        second_opinion=arguments.second_opinion,
    )


async def _plan(runtime: Runtime, arguments: PlanArguments, progress: ProgressCallback | None) -> BaseModel:
    from agent_orchestrator.workflows.planning import plan

    return await plan(
        runtime.for_repository(arguments.repository),
        arguments.goal,
        context_files=arguments.context_files or (),
        progress=progress,
        second_opinion=arguments.second_opinion,
    )


async def _leader_worker(
    runtime: Runtime, arguments: LeaderWorkerArguments, progress: ProgressCallback | None
) -> BaseModel:
    from agent_orchestrator.workflows.leader_worker.graph import leader_worker

    return await leader_worker(
        runtime.for_repository(arguments.repository),
        arguments.goal,
        scope=arguments.scope,
        context_files=arguments.context_files or (),
        worker_profile=arguments.worker_profile,
        write=arguments.write,
        progress=progress,
    )


async def _fix(runtime: Runtime, arguments: FixArguments, progress: ProgressCallback | None) -> BaseModel:
    from agent_orchestrator.workflows.fix_error.graph import fix_error

    return await fix_error(
        runtime.for_repository(arguments.repository),
        error_log=arguments.error_log,
        scope=arguments.scope,
        write=arguments.write or bool(arguments.apply),
        progress=progress,
    )


def _interview(module: str, function: str) -> Runner:
    """A worker or leader interview: the same arguments, its own workflow (imported when it runs)."""

    async def run(runtime: Runtime, arguments: InterviewArguments, progress: ProgressCallback | None) -> BaseModel:
        interview = getattr(importlib.import_module(module), function)
        result: BaseModel = await interview(
            runtime,
            provider=arguments.provider,
            model=arguments.model,
            base_url=arguments.base_url,
            save=arguments.save,
            seed=arguments.seed,
            progress=progress,
        )
        return result

    return run


JOBS: dict[str, Job] = {
    job.tool: job
    for job in (
        Job("review", "review", ReviewArguments, _review),
        Job("plan", "planning", PlanArguments, _plan),
        Job("run_leader_worker", "leader-worker-basic", LeaderWorkerArguments, _leader_worker),
        Job("fix_error", "fix-error", FixArguments, _fix),
        Job(
            "interview_worker",
            "worker-interview",
            InterviewArguments,
            _interview("agent_orchestrator.workflows.interview", "interview_worker"),
            needs_workspace=False,
        ),
        Job(
            "interview_leader",
            "leader-interview",
            InterviewArguments,
            _interview("agent_orchestrator.workflows.leader_interview", "interview_leader"),
            needs_workspace=False,
        ),
    )
}


def job_for(tool: str) -> Job:
    """The job of a workflow tool; a `UsageError` listing the tools that can run in the background."""
    try:
        return JOBS[tool]
    except KeyError:
        raise UsageError(f"{tool!r} cannot run in the background; these can: {', '.join(sorted(JOBS))}") from None
