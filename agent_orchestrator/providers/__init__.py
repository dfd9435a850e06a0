"""Model providers: `provider:model` + settings -> a pydantic-ai model, and which key may go where.

`registry` holds the providers, spec resolution and key binding; `fallbacks` each role's fallback
chain; `local` the embedded CPU model (imported only when a `local` model is built).
"""

from __future__ import annotations

from agent_orchestrator.providers.fallbacks import fallback_key_options, fallback_specs, fallbacks_variable
from agent_orchestrator.providers.registry import (
    DEFAULT_LOCAL_MODEL,
    PROVIDERS,
    BoundKey,
    ModelFactory,
    ModelSpec,
    ProviderInfo,
    ReusedModels,
    Role,
    api_key_for,
    bound_key,
    build_model,
    canonical_provider,
    configured_keys,
    configured_spec,
    normalize_base_url,
    parse_model_id,
    resolve_spec,
    role_spec,
)

__all__ = [
    "DEFAULT_LOCAL_MODEL",
    "PROVIDERS",
    "BoundKey",
    "ModelFactory",
    "ModelSpec",
    "ProviderInfo",
    "ReusedModels",
    "Role",
    "api_key_for",
    "bound_key",
    "build_model",
    "canonical_provider",
    "configured_keys",
    "configured_spec",
    "fallback_key_options",
    "fallback_specs",
    "fallbacks_variable",
    "normalize_base_url",
    "parse_model_id",
    "resolve_spec",
    "role_spec",
]
