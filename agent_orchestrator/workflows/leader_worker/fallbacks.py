"""Who may do a step: routing's qualification rule, and the fallback workers qualified for a step.

A fallback worker (`WORKER_MODEL_FALLBACKS`) is asked for a step only when its own saved profile
is fresh (same suite, not expired, made against the endpoint the fallback names) and qualifies it
for the step's task type by the same rule routing uses. `FallbackModel` cannot ask for that (it
swaps models per request inside one agent run), so steps fall back themselves: the step's call
gets only the qualified fallbacks, and a step that fell back stays with the worker that served it.
Each fallback is asked in the output mode its own profile names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from agent_orchestrator.domain.output_modes import OutputMode
from agent_orchestrator.domain.profile import LOW_RISK_TASK_TYPES, TaskType, WorkerCapabilityProfile
from agent_orchestrator.interview.freshness import stale_reasons
from agent_orchestrator.providers import ModelSpec, fallback_specs, fallbacks_variable
from agent_orchestrator.runtime import Runtime


def qualifies(worker: WorkerCapabilityProfile, task_type: TaskType) -> bool:
    """Routing's rule, checked again before any call: never blocked, limited only for low-risk types."""
    if worker.status == "blocked" or task_type not in worker.supported_task_types:
        return False
    return worker.status == "active" or task_type in LOW_RISK_TASK_TYPES


@dataclass(frozen=True)
class FallbackWorker:
    """A configured fallback worker, its saved profile (None: none saved) and why that profile is stale."""

    spec: ModelSpec
    profile: WorkerCapabilityProfile | None
    stale: tuple[str, ...] = ()

    @property
    def worker_id(self) -> str:
        return self.spec.model_id

    @property
    def output_mode(self) -> OutputMode | None:
        """The output mode its own interview qualified it in (None: no profile, or one from before the probe)."""
        return None if self.profile is None else self.profile.output_mode

    def unfit_for(self, task_type: TaskType) -> str | None:
        """Why this worker may not do a `task_type` step (None: it may)."""
        if self.profile is None:
            return f"it has no saved profile (`ao worker interview --provider {self.spec.provider} ... --save`)"
        if self.stale:
            return f"its profile is stale ({'; '.join(self.stale)}); re-interview it"
        if not qualifies(self.profile, task_type):
            return f"its {self.profile.status} profile does not qualify it for {task_type}"
        return None


def fallback_workers(runtime: Runtime) -> list[FallbackWorker]:
    """The configured fallback workers in order, each with its saved profile and that profile's freshness."""
    specs = fallback_specs(runtime.settings, "worker")
    if not specs:
        return []
    profiles = runtime.profiles.load()
    now = datetime.now(UTC)
    workers: list[FallbackWorker] = []
    for spec in specs:
        profile = profiles.get(spec.model_id)
        stale = (
            ()
            if profile is None
            else tuple(stale_reasons(profile, now=now, current_fingerprint=spec.fingerprint()))
        )
        workers.append(FallbackWorker(spec, profile, stale))
    return workers


def qualified_fallbacks(
    workers: list[FallbackWorker], task_type: TaskType, assignee: str
) -> tuple[list[FallbackWorker], list[str]]:
    """The fallbacks that may do a `task_type` step instead of `assignee`, and why each other one may not."""
    usable: list[FallbackWorker] = []
    unfit: list[str] = []
    for worker in workers:
        if worker.worker_id == assignee:
            continue
        if why := worker.unfit_for(task_type):
            unfit.append(
                f"{fallbacks_variable('worker')} {worker.worker_id!r} is not used for {task_type} steps: {why}"
            )
        else:
            usable.append(worker)
    return usable, unfit
