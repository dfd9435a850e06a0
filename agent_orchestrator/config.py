"""Settings from the environment and an optional `.env` file: the one place that reads env vars.

Secrets are held as `SecretStr` so they never print; `Settings.secret_values()` feeds the
redaction layer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from agent_orchestrator.errors import ConfigError

_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"", "0", "false", "no", "off", "n", "f"})


def parse_bool(value: object) -> bool:
    """Parse a boolean strictly: unknown spellings are an error, never a silent yes."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected one of true/false/1/0/yes/no/on/off, got {value!r}")


def _parse_command_list(value: object) -> object:
    """Accept a comma-separated string for `AO_ALLOWED_COMMANDS` as well as a JSON list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


StrictBool = Annotated[bool, BeforeValidator(parse_bool)]
CommandList = Annotated[list[str] | None, BeforeValidator(_parse_command_list)]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Every setting agent-orchestrator reads; field names are the env var names in lower case."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False, validate_default=True)

    leader_model_provider: str | None = None
    leader_model_name: str | None = None
    leader_model_base_url: str | None = None
    leader_model_api_key: SecretStr | None = None
    worker_model_provider: str | None = None
    worker_model_name: str | None = None
    worker_model_base_url: str | None = None
    worker_model_api_key: SecretStr | None = None
    litellm_base_url: str | None = None
    litellm_api_key: SecretStr | None = None

    # Conventional per-vendor keys, used when the role-specific key is not set.
    openai_api_key: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    gemini_api_key: SecretStr | None = None
    google_api_key: SecretStr | None = None
    groq_api_key: SecretStr | None = None
    mistral_api_key: SecretStr | None = None
    openrouter_api_key: SecretStr | None = None
    ollama_base_url: str | None = None

    mcp_server_name: str = "agent-orchestrator"
    mcp_server_version: str | None = None
    log_level: LogLevel = "WARNING"
    # Bearer token HTTP clients must send (`Authorization: Bearer ...`); required off loopback.
    ao_http_token: SecretStr | None = None

    ao_dry_run: StrictBool = True
    ao_allow_write: StrictBool = False
    ao_allowed_commands: CommandList = None
    ao_state_dir: Path = Path(".ao")
    ao_workspace_root: Path = Path(".")
    ao_audit_retention_days: float = Field(default=30.0, gt=0, le=3650)
    ao_audit_max_rows: int = Field(default=50_000, ge=100, le=10_000_000)
    ao_interview_concurrency: int = Field(default=4, ge=1, le=64)
    ao_worker_concurrency: int = Field(default=8, ge=1, le=64)
    ao_worker_call_timeout: float = Field(default=120.0, gt=0, le=3600)
    ao_profile_ttl_days: float = Field(default=7.0, gt=0, le=365)

    @classmethod
    def secret_variables(cls) -> list[str]:
        """The environment variables that hold secrets (every `SecretStr` field)."""
        return [
            name.upper() for name, field in cls.model_fields.items() if SecretStr in get_args(field.annotation)
        ]

    def secret_values(self) -> list[str]:
        """Every configured secret value, for redaction."""
        values = [getattr(self, name.lower()) for name in self.secret_variables()]
        return [value.get_secret_value() for value in values if value is not None and value.get_secret_value()]


def _env_file() -> str | None:
    """`.env` in the working directory unless `AO_ENV_FILE` names another file ("" disables it)."""
    chosen = os.environ.get("AO_ENV_FILE")
    if chosen is None:
        return ".env" if Path(".env").is_file() else None
    return chosen or None


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning validation failures into a `ConfigError` naming the variable."""
    try:
        return Settings(_env_file=_env_file(), **overrides)  # pyright: ignore[reportCallIssue]
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors(include_input=False)
        ]
        raise ConfigError(
            "invalid configuration: " + "; ".join(problems) + " (fix the environment or .env file)"
        ) from None
