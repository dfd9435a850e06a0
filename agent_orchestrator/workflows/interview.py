"""The worker-interview workflow: resolve the endpoint, run the suite, score, optionally save."""

from __future__ import annotations

import secrets
from datetime import timedelta

from agent_orchestrator.errors import UsageError
from agent_orchestrator.interview.calls import CallPolicy
from agent_orchestrator.interview.profile import InterviewResult
from agent_orchestrator.interview.runner import ProgressCallback, run_suite
from agent_orchestrator.interview.scoring import InterviewMeta, build_result
from agent_orchestrator.interview.suite import GradingEnv, build_suite
from agent_orchestrator.interview.typescript import find_typescript_toolchain
from agent_orchestrator.providers import resolve_spec, role_spec
from agent_orchestrator.runtime import Runtime


async def interview_worker(
    runtime: Runtime,
    *,
    provider: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    save: bool = False,
    seed: int | None = None,
    progress: ProgressCallback | None = None,
) -> InterviewResult:
    """Interview one worker endpoint and return its profile (saved only when judged and asked to).

    Without a provider and model, the configured worker (or the embedded local model) is interviewed.
    """
    settings = runtime.settings
    if (provider is None) != (model is None):
        raise UsageError("give both a provider and a model, or neither to interview the configured worker")
    if provider is None or model is None:
        spec = role_spec(settings, "worker")
        spec = resolve_spec(spec.provider, spec.model, settings, "worker", base_url)
    else:
        spec = resolve_spec(provider, model, settings, "worker", base_url)
    worker_model = runtime.model_factory(spec, settings, "worker")
    toolchain = find_typescript_toolchain()
    seed = seed if seed is not None else secrets.randbelow(2**31)
    cases = build_suite(seed)
    policy = CallPolicy(timeout_s=settings.ao_worker_call_timeout)
    run = await run_suite(
        worker_model,
        cases,
        env=GradingEnv(typescript=toolchain),
        policy=policy,
        concurrency=settings.ao_interview_concurrency,
        redact=runtime.redact,
        progress=progress,
    )
    typescript_note = (
        f"type-checked with the TypeScript compiler {toolchain.version} under strict"
        if toolchain is not None
        else "not type-checked: Node.js or the pinned TypeScript compiler was not found; codegen was "
        "judged by parsing only and cannot qualify"
    )
    meta = InterviewMeta(
        seed=seed,
        ttl=timedelta(days=settings.ao_profile_ttl_days),
        typescript_note=typescript_note,
        typescript_verified=toolchain is not None,
    )
    result = build_result(spec, run, meta)
    if save and result.profile is not None:
        path = runtime.profiles.save(result.profile)
        result = result.model_copy(update={"saved": True, "saved_to": str(path)})
    return result
