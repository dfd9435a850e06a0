"""Turn `provider:model` strings and settings into pydantic-ai models.

Resolution is explicit and loud: an unknown provider, a missing key or a missing base URL is a
`ProviderError` that names the variable to set, never a silent fallback to another provider.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import ProviderError

if TYPE_CHECKING:
    from pydantic_ai.models import Model

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


PROVIDERS: dict[str, ProviderInfo] = {
    info.name: info
    for info in (
        ProviderInfo("local", "SmolLM2-135M-Instruct on the CPU (the `local` extra); no key, no network"),
        ProviderInfo("openai", "OpenAI", vendor_key="OPENAI_API_KEY", needs_key=True),
        ProviderInfo("anthropic", "Anthropic", vendor_key="ANTHROPIC_API_KEY", needs_key=True),
        ProviderInfo("gemini", "Google Gemini", vendor_key="GEMINI_API_KEY", needs_key=True),
        ProviderInfo("groq", "Groq", vendor_key="GROQ_API_KEY", needs_key=True),
        ProviderInfo("mistral", "Mistral", vendor_key="MISTRAL_API_KEY", needs_key=True),
        ProviderInfo("openrouter", "OpenRouter", vendor_key="OPENROUTER_API_KEY", needs_key=True),
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
    """Lower-case scheme and host, drop credentials and a trailing slash."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProviderError(f"base URL {strip_credentials(url)!r} must be an http(s) URL with a host")
    host = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), parts.query, ""))


def strip_credentials(url: str) -> str:
    """Remove a `user:password@` part so a URL can be shown."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


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
    provider: str, model: str, settings: Settings, role: Role = "worker", base_url: str | None = None
) -> ModelSpec:
    """Apply base-URL precedence: explicit, then `<ROLE>_MODEL_BASE_URL`, then LiteLLM's, then default."""
    name = canonical_provider(provider)
    if not model.strip():
        raise ProviderError(f"provider {name!r} needs a model name (e.g. --model qwen3-coder)")
    info = PROVIDERS[name]
    chosen = base_url or _role_value(settings, role, "base_url")
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
            f"provider {name!r} needs a base URL: pass --base-url or set {hint}{role.upper()}_MODEL_BASE_URL"
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


def api_key_for(spec: ModelSpec, settings: Settings, role: Role) -> str | None:
    """The key for a spec: role key, then LiteLLM's for litellm, then the vendor's conventional one."""
    info = PROVIDERS[spec.provider]
    key = _role_value(settings, role, "api_key")
    if not key and spec.provider == "litellm" and settings.litellm_api_key:
        key = settings.litellm_api_key.get_secret_value() or None
    if not key and info.vendor_key:
        vendor = getattr(settings, info.vendor_key.lower())
        if spec.provider == "gemini" and vendor is None:
            vendor = settings.google_api_key
        key = vendor.get_secret_value() if isinstance(vendor, SecretStr) and vendor.get_secret_value() else None
    if info.needs_key and not key:
        raise ProviderError(
            f"provider {spec.provider!r} needs an API key: set {role.upper()}_MODEL_API_KEY (or {info.vendor_key})"
        )
    return key


def build_model(spec: ModelSpec, settings: Settings, role: Role) -> Model:
    """The default `ModelFactory`: a real pydantic-ai model for the spec."""
    key = api_key_for(spec, settings, role)
    if spec.provider == "local":
        from agent_orchestrator.local_model import load_local_model

        return load_local_model(spec.model)
    if spec.provider in ("openai", "litellm", "ollama", "openai-compatible"):
        return _openai_family(spec, key)
    return _vendor_model(spec, key)


def _openai_family(spec: ModelSpec, key: str | None) -> Model:
    """OpenAI-compatible endpoints, with SDK retries off: the interview retries with its own deadline."""
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


def _vendor_model(spec: ModelSpec, key: str | None) -> Model:
    """Vendor SDK models; a base URL, when given, points them at a proxy."""
    if spec.provider == "anthropic":
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        return AnthropicModel(spec.model, provider=AnthropicProvider(api_key=key, base_url=spec.base_url))
    if spec.provider == "gemini":
        from pydantic_ai.models.google import GoogleModel
        from pydantic_ai.providers.google import GoogleProvider

        return GoogleModel(spec.model, provider=GoogleProvider(api_key=key, base_url=spec.base_url))
    if spec.provider == "groq":
        from pydantic_ai.models.groq import GroqModel
        from pydantic_ai.providers.groq import GroqProvider

        return GroqModel(spec.model, provider=GroqProvider(api_key=key, base_url=spec.base_url))
    if spec.provider == "mistral":
        from pydantic_ai.models.mistral import MistralModel
        from pydantic_ai.providers.mistral import MistralProvider

        return MistralModel(spec.model, provider=MistralProvider(api_key=key, base_url=spec.base_url))
    from pydantic_ai.models.openrouter import OpenRouterModel
    from pydantic_ai.providers.openrouter import OpenRouterProvider

    return OpenRouterModel(spec.model, provider=OpenRouterProvider(api_key=key))
