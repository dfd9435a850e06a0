"""Fallback chains per role: `LEADER_MODEL_FALLBACKS` / `WORKER_MODEL_FALLBACKS` as model specs.

Each entry is `provider:model[@base_url]` (its shape is checked when settings load). Without a
base URL, a fallback of the role's own provider goes to the role's endpoint (`<ROLE>_MODEL_BASE_URL`),
any other provider to its own (`LITELLM_BASE_URL`, `OLLAMA_BASE_URL`, the vendor's API): a fallback
never inherits another provider's endpoint. Keys follow `registry.bound_key`: a fallback gets only a
key configured for its very endpoint, never the role's key for another one.
"""

from __future__ import annotations

from agent_orchestrator.config import Settings
from agent_orchestrator.config.settings import split_fallback
from agent_orchestrator.errors import ProviderError
from agent_orchestrator.providers.registry import (
    PROVIDERS,
    ModelSpec,
    Role,
    canonical_provider,
    configured_spec,
    normalize_base_url,
    resolve_spec,
)


def fallbacks_variable(role: Role) -> str:
    return f"{role.upper()}_MODEL_FALLBACKS"


def fallback_specs(settings: Settings, role: Role, primary: ModelSpec | None = None) -> list[ModelSpec]:
    """The role's fallbacks in order, resolved; `primary` and repeats left out.

    A `ProviderError` names the variable and the entry's position (an unknown provider, a missing
    base URL), so a broken chain fails when it is built, not when it is first needed.
    """
    variable = fallbacks_variable(role)
    own = settings.leader_model_provider if role == "leader" else settings.worker_model_provider
    own_provider = _canonical_or_none(own)
    specs: list[ModelSpec] = []
    for index, entry in enumerate(getattr(settings, f"{role}_model_fallbacks"), 1):
        try:
            provider, model, base_url = split_fallback(entry)
            same = canonical_provider(provider) == own_provider
            spec = resolve_spec(provider, model, settings, role, base_url, role_base_url=same)
        except (ProviderError, ValueError) as exc:
            raise ProviderError(f"{variable} entry {index}: {exc}") from None
        if spec != primary and spec not in specs:
            specs.append(spec)
    return specs


def _canonical_or_none(provider: str | None) -> str | None:
    if not provider:
        return None
    try:
        return canonical_provider(provider)
    except ProviderError:
        return None


def fallback_key_options(spec: ModelSpec, settings: Settings, role: Role) -> list[str]:
    """The variables whose key may go to a fallback's endpoint (empty: none can, or none is needed).

    The role's own key only when the fallback is at the role's endpoint; `LITELLM_API_KEY` only at
    `LITELLM_BASE_URL`; a vendor key only at the vendor's own API.
    """
    info = PROVIDERS[spec.provider]
    if not info.needs_key:
        return []
    options: list[str] = []
    try:
        own = configured_spec(settings, role)
    except ProviderError:
        own = None
    if own is not None and (own.provider, own.base_url) == (spec.provider, spec.base_url):
        options.append(f"{role.upper()}_MODEL_API_KEY")
    if spec.provider == "litellm" and spec.base_url == normalize_base_url(settings.litellm_base_url):
        options.append("LITELLM_API_KEY")
    if info.vendor_key and spec.base_url in (None, normalize_base_url(info.official_url)):
        options.append(info.vendor_key)
    return options
