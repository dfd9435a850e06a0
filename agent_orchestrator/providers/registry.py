"""Turn `provider:model` strings and settings into pydantic-ai models.

Resolution is explicit and loud: an unknown provider, a missing key or a missing base URL is a
`ProviderError` that names the variable to set, never a silent fallback to another provider.

A key belongs to the endpoint it was configured for (`bound_key`): `<ROLE>_MODEL_API_KEY` to the
role's configured provider and base URL, `LITELLM_API_KEY` to `LITELLM_BASE_URL`, a vendor key
(`OPENAI_API_KEY`, ...) to that vendor's own API. A call that names any other endpoint (an MCP
caller's `base_url`, say) gets no configured key: it goes without one, or is refused with why.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import SecretStr

from agent_orchestrator import urls
from agent_orchestrator.config import Settings
from agent_orchestrator.errors import ProviderError

if TYPE_CHECKING:
    from pydantic_ai.models import Model
    from pydantic_ai.settings import ModelSettings

Role = Literal["leader", "worker"]


@dataclass(frozen=True)
class ProviderInfo:
    """What a provider needs: which key variables, whether a base URL is required, its default."""

    name: str
    description: str
    vendor_key: str | None = None
    needs_key: bool = False
    needs_base_url: bool = False
    default_base_url: str | None = None
    official_url: str | None = None  # the vendor's own API, where its conventional key may go


PROVIDERS: dict[str, ProviderInfo] = {
    info.name: info
    for info in (
        ProviderInfo("local", "SmolLM2-135M-Instruct on the CPU (the `local` extra); no key, no network"),
        ProviderInfo(
            "openai",
            "OpenAI",
            vendor_key="OPENAI_API_KEY",
            needs_key=True,
            official_url="https://api.openai.com/v1",
        ),
        ProviderInfo(
            "anthropic",
            "Anthropic",
            vendor_key="ANTHROPIC_API_KEY",
            needs_key=True,
            official_url="https://api.anthropic.com",
        ),
        ProviderInfo(
            "gemini",
            "Google Gemini",
            vendor_key="GEMINI_API_KEY",
            needs_key=True,
            official_url="https://generativelanguage.googleapis.com",
        ),
        ProviderInfo(
            "groq", "Groq", vendor_key="GROQ_API_KEY", needs_key=True, official_url="https://api.groq.com"
        ),
        ProviderInfo(
            "mistral",
            "Mistral",
            vendor_key="MISTRAL_API_KEY",
            needs_key=True,
            official_url="https://api.mistral.ai",
        ),
        ProviderInfo(
            "openrouter",
            "OpenRouter",
            vendor_key="OPENROUTER_API_KEY",
            needs_key=True,
            official_url="https://openrouter.ai/api/v1",
        ),
        ProviderInfo("ollama", "Ollama (OpenAI-compatible API)", default_base_url="http://localhost:11434/v1"),
        ProviderInfo("litellm", "a LiteLLM proxy", needs_base_url=True),
        ProviderInfo(
            "openai-compatible",
            "any OpenAI-compatible server (vLLM, llama.cpp, LM Studio)",
            needs_base_url=True,
        ),
    )
}
PROVIDER_ALIASES = {"google": "gemini", "google-gla": "gemini", "openai_compatible": "openai-compatible"}


@dataclass(frozen=True)
class ModelSpec:
    """A resolved model endpoint: provider, model name and the base URL traffic goes to."""

    provider: str
    model: str
    base_url: str | None = None

    @property
    def model_id(self) -> str:
        return f"{self.provider}:{self.model}"

    def fingerprint(self) -> str:
        """A stable id of the endpoint, so a profile made against another endpoint reads as stale."""
        material = "|".join((self.provider, self.model, normalize_base_url(self.base_url) or ""))
        return hashlib.sha256(material.encode()).hexdigest()[:16]


class ModelFactory(Protocol):
    """Builds a pydantic-ai model for a spec; the seam tests use to script workers."""

    def __call__(self, spec: ModelSpec, settings: Settings, role: Role) -> Model: ...


def normalize_base_url(url: str | None) -> str | None:
    """Lower-case scheme and host, drop credentials, default ports and a trailing slash."""
    try:
        return urls.normalize_base_url(url)
    except urls.InvalidURLError as exc:
        raise ProviderError(str(exc)) from None


def parse_model_id(text: str) -> tuple[str, str]:
    """Split `provider:model`; the model part may itself contain colons (`ollama:qwen3:8b`)."""
    provider, sep, model = text.strip().partition(":")
    if not sep or not provider or not model:
        raise ProviderError(f"model id {text!r} must look like 'provider:model', e.g. 'litellm:qwen3-coder'")
    return canonical_provider(provider), model


def canonical_provider(name: str) -> str:
    """Return the canonical provider name or raise listing the known ones."""
    key = name.strip().lower()
    key = PROVIDER_ALIASES.get(key, key)
    if key not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise ProviderError(f"unknown provider {name!r}; known providers: {known}")
    return key


def _role_value(settings: Settings, role: Role, field: str) -> str | None:
    value = getattr(settings, f"{role}_model_{field}")
    if isinstance(value, SecretStr):
        return value.get_secret_value() or None
    return value or None


def resolve_spec(
    provider: str,
    model: str,
    settings: Settings,
    role: Role = "worker",
    base_url: str | None = None,
    *,
    role_base_url: bool = True,
) -> ModelSpec:
    """Apply base-URL precedence: explicit, then `<ROLE>_MODEL_BASE_URL` (unless `role_base_url` is
    False), then LiteLLM's or Ollama's, then the provider's default."""
    name = canonical_provider(provider)
    if not model.strip():
        raise ProviderError(f"provider {name!r} needs a model name (`model`, e.g. qwen3-coder)")
    info = PROVIDERS[name]
    chosen = base_url or (_role_value(settings, role, "base_url") if role_base_url else None)
    if name == "litellm":
        chosen = chosen or settings.litellm_base_url
    if name == "ollama":
        chosen = chosen or settings.ollama_base_url
    chosen = chosen or info.default_base_url
    if name == "local":
        chosen = None
    if info.needs_base_url and not chosen:
        hint = "LITELLM_BASE_URL or " if name == "litellm" else ""
        raise ProviderError(
            f"provider {name!r} needs a base URL: pass `base_url` or set {hint}{role.upper()}_MODEL_BASE_URL"
        )
    return ModelSpec(provider=name, model=model.strip(), base_url=normalize_base_url(chosen))


def configured_spec(settings: Settings, role: Role) -> ModelSpec | None:
    """The leader or worker model configured in the environment, if any."""
    provider = _role_value(settings, role, "provider")
    name = _role_value(settings, role, "name")
    if not provider and not name:
        return None
    if not provider or not name:
        missing = f"{role.upper()}_MODEL_{'NAME' if provider else 'PROVIDER'}"
        raise ProviderError(f"{role} model is half-configured: set {missing} as well")
    return resolve_spec(provider, name, settings, role)


DEFAULT_LOCAL_MODEL = "smollm2-135m-instruct"


def role_spec(settings: Settings, role: Role) -> ModelSpec:
    """The configured model for a role, or the embedded local model when none is configured.

    Building the local model raises `ToolchainMissingError` with the install command when the
    `local` extra is missing, so an unconfigured setup fails loudly, never silently elsewhere.
    """
    return configured_spec(settings, role) or ModelSpec(provider="local", model=DEFAULT_LOCAL_MODEL)


@dataclass(frozen=True)
class BoundKey:
    """A configured key and the one endpoint it may be sent to."""

    variable: str
    value: str
    provider: str
    endpoint: str | None  # normalised base URL; None: the vendor's own API


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() or None if value is not None else None


def _endpoint(spec: ModelSpec) -> str | None:
    """Where a spec's traffic goes; the vendor's own API (None) when it names its official URL."""
    official = PROVIDERS[spec.provider].official_url
    return None if spec.base_url == normalize_base_url(official) else spec.base_url


def configured_keys(settings: Settings, role: Role) -> list[BoundKey]:
    """The keys this role may use, most specific first, each bound to its endpoint."""
    keys: list[BoundKey] = []
    role_key = _secret(getattr(settings, f"{role}_model_api_key"))
    spec = configured_spec(settings, role) if role_key else None
    if role_key and spec is not None:
        keys.append(BoundKey(f"{role.upper()}_MODEL_API_KEY", role_key, spec.provider, _endpoint(spec)))
    litellm_key = _secret(settings.litellm_api_key)
    if litellm_key and settings.litellm_base_url:
        keys.append(
            BoundKey("LITELLM_API_KEY", litellm_key, "litellm", normalize_base_url(settings.litellm_base_url))
        )
    for name, info in PROVIDERS.items():
        variables = [info.vendor_key] if info.vendor_key else []
        variables += ["GOOGLE_API_KEY"] if name == "gemini" else []
        for variable in variables:
            if value := _secret(getattr(settings, variable.lower())):
                keys.append(BoundKey(variable, value, name, None))
    return keys


def bound_key(spec: ModelSpec, settings: Settings, role: Role) -> BoundKey | None:
    """The first configured key whose endpoint is exactly the spec's; None when none belongs there."""
    endpoint = _endpoint(spec)
    for key in configured_keys(settings, role):
        if key.endpoint == endpoint and key.provider == spec.provider:
            return key
    return None


def api_key_for(spec: ModelSpec, settings: Settings, role: Role) -> str | None:
    """The key for a spec: only a key configured for that very endpoint, else none (or an error)."""
    key = bound_key(spec, settings, role)
    info = PROVIDERS[spec.provider]
    if key is None and info.needs_key:
        raise ProviderError(_missing_key_message(spec, settings, role))
    return key.value if key else None


def _missing_key_message(spec: ModelSpec, settings: Settings, role: Role) -> str:
    info = PROVIDERS[spec.provider]
    role_variable = f"{role.upper()}_MODEL_API_KEY"
    if _endpoint(spec) is not None and any(k.provider == spec.provider for k in configured_keys(settings, role)):
        return (
            f"provider {spec.provider!r} at {spec.base_url!r}: no key is configured for "
            f"that endpoint, and a key is only sent to the endpoint it was configured for; set "
            f"{role.upper()}_MODEL_PROVIDER, {role.upper()}_MODEL_BASE_URL and {role_variable} for it"
        )
    return f"provider {spec.provider!r} needs an API key: set {role_variable} (or {info.vendor_key})"


class ReusedModels:
    """A `ModelFactory` that builds each (endpoint, role, key) once per event loop and hands the same model
    out again: a model holds an HTTP client (a connection pool and an SSL context, ~15-20 ms of CPU to
    build), so a server or an executor running many runs must not rebuild it for every agent. Models are
    stateless between requests and safe to share between concurrent calls; their connections belong to
    the loop that opened them, so another loop (outside any, nothing is kept) gets its own."""

    def __init__(self, factory: ModelFactory) -> None:
        self._factory = factory
        self._models: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_ModelKey, Model]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def __call__(self, spec: ModelSpec, settings: Settings, role: Role) -> Model:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self._factory(spec, settings, role)
        key = api_key_for(spec, settings, role)
        found: _ModelKey = (spec, role, None if key is None else hashlib.sha256(key.encode()).hexdigest())
        with self._lock:
            models = self._models.setdefault(loop, {})
            if found not in models:
                models[found] = self._factory(spec, settings, role)
            return models[found]


_ModelKey = tuple["ModelSpec", "Role", str | None]


def build_model(spec: ModelSpec, settings: Settings, role: Role) -> Model:
    """The default `ModelFactory`: a real pydantic-ai model for the spec."""
    key = api_key_for(spec, settings, role)
    if spec.provider == "local":
        from agent_orchestrator.providers.local import load_local_model

        return load_local_model(spec.model)
    if spec.provider in ("openai", "litellm", "ollama", "openai-compatible"):
        return _openai_family(spec, key)
    return _vendor_model(spec, key)


def _openai_family(spec: ModelSpec, key: str | None) -> Model:
    """OpenAI-compatible endpoints, with SDK retries off: `agents.resilience` is the one retry layer."""
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.litellm import LiteLLMProvider
    from pydantic_ai.providers.ollama import OllamaProvider
    from pydantic_ai.providers.openai import OpenAIProvider

    client = AsyncOpenAI(base_url=spec.base_url, api_key=key or "not-needed", max_retries=0)
    if spec.provider == "litellm":
        return OpenAIChatModel(spec.model, provider=LiteLLMProvider(openai_client=client))
    if spec.provider == "ollama":
        return OpenAIChatModel(spec.model, provider=OllamaProvider(openai_client=client))
    return OpenAIChatModel(spec.model, provider=OpenAIProvider(openai_client=client))


# Vendor SDKs retry on their own (Anthropic, Groq, OpenRouter twice, Mistral its way): off, per model,
# so `agents.resilience` is the one retry layer and every attempt is counted and bounded.
NO_SDK_RETRIES: ModelSettings = {"max_retries": 0}


def _vendor_model(spec: ModelSpec, key: str | None) -> Model:
    """Vendor SDK models, their own retries off; a base URL, when given, points them at a proxy."""
    if spec.provider == "anthropic":
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        return AnthropicModel(
            spec.model, provider=AnthropicProvider(api_key=key, base_url=spec.base_url), settings=NO_SDK_RETRIES
        )
    if spec.provider == "gemini":
        from pydantic_ai.models.google import GoogleModel
        from pydantic_ai.providers.google import GoogleProvider

        return GoogleModel(
            spec.model, provider=GoogleProvider(api_key=key, base_url=spec.base_url), settings=NO_SDK_RETRIES
        )
    if spec.provider == "groq":
        from pydantic_ai.models.groq import GroqModel
        from pydantic_ai.providers.groq import GroqProvider

        return GroqModel(
            spec.model, provider=GroqProvider(api_key=key, base_url=spec.base_url), settings=NO_SDK_RETRIES
        )
    if spec.provider == "mistral":
        from pydantic_ai.models.mistral import MistralModel
        from pydantic_ai.providers.mistral import MistralProvider

        return MistralModel(
            spec.model, provider=MistralProvider(api_key=key, base_url=spec.base_url), settings=NO_SDK_RETRIES
        )
    from pydantic_ai.models.openrouter import OpenRouterModel
    from pydantic_ai.providers.openrouter import OpenRouterProvider

    return OpenRouterModel(spec.model, provider=OpenRouterProvider(api_key=key), settings=NO_SDK_RETRIES)
