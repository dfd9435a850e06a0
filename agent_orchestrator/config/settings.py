"""Settings from the environment and the user-level config file: the one place that reads env vars.

Never from a file inside a workspace (see `config_sources`). Secrets are held as `SecretStr` so
they never print; `Settings.secret_values()` feeds the redaction layer. Error messages name the
variable and never echo a value: a key pasted into the wrong variable must not end up on screen.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from agent_orchestrator.config.sources import (
    CONFIG_FILE_VARIABLES,
    Assignment,
    ConfigReport,
    config_report,
    default_user_state_dir,
    describe_sources,
    ignored_assignments,
    readable_user_config,
    user_config_path,
    workspace_env_files,
)
from agent_orchestrator.domain.track_record import HISTORY_LIMIT
from agent_orchestrator.errors import ConfigError, UsageError
from agent_orchestrator.urls import InvalidURLError, split_http_url, url_password

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
    raise ValueError("expected one of true/false/1/0/yes/no/on/off (the value given is not shown)")


def _parse_command_list(value: object) -> object:
    """Accept a comma-separated string for `AO_ALLOWED_COMMANDS` as well as a JSON list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _parse_comma_list(value: object) -> object:
    """A comma-separated list (`AO_ALLOWED_ROOTS`, `*_MODEL_FALLBACKS`); a list is taken as is."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _parse_limits(value: object) -> object:
    """`provider=N,provider=N` (`AO_PROVIDER_CONCURRENCY`); a mapping is taken as is. A bad entry is named
    by position, its text never echoed (it sits beside keys in a config file)."""
    if not isinstance(value, str):
        return value
    limits: dict[str, object] = {}
    for index, part in enumerate((part.strip() for part in value.split(",") if part.strip()), start=1):
        provider, equals, count = part.partition("=")
        if not equals or not provider.strip() or not count.strip().isdigit():
            raise ValueError(f"entry {index} is not provider=N (for example openai=8,anthropic=4)")
        limits[provider.strip().lower()] = int(count)
    return limits


def _check_limits(value: dict[str, int]) -> dict[str, int]:
    for provider, count in value.items():
        if not 1 <= count <= 256:
            raise ValueError(f"the limit for {provider!r} must be between 1 and 256")
    return value


# `provider:model[@base_url]`: the model may hold colons (`ollama:qwen2.5-coder:7b`) and `@` (a version);
# the base URL starts at the first `@http://` or `@https://`.
_FALLBACK_ENTRY = re.compile(
    r"(?P<provider>[A-Za-z][\w.-]*):(?P<model>\S+?)(?:@(?P<base_url>https?://\S+))?", re.I
)


def split_fallback(entry: str) -> tuple[str, str, str | None]:
    """A fallback entry `provider:model[@base_url]` as (provider, model, base URL or None).

    A `ValueError` says what is wrong without echoing the entry (a key pasted there must not show);
    a base URL must be usable and carry no credentials: a fallback gets only the key configured for
    its endpoint.
    """
    match = _FALLBACK_ENTRY.fullmatch(entry.strip())
    if match is None:
        raise ValueError(
            "must look like provider:model or provider:model@https://host/v1 (the value is not shown)"
        )
    if "://" in match["model"]:
        raise ValueError("the base URL after `@` must be an http:// or https:// URL")
    base_url: str | None = match["base_url"]
    if base_url is not None:
        try:
            parts = split_http_url(base_url)
        except InvalidURLError as exc:
            raise ValueError(str(exc)) from None
        if parts.username or parts.password:
            raise ValueError("its base URL carries credentials; set the key for that endpoint instead")
    return match["provider"], match["model"], base_url


def _check_fallbacks(entries: list[str]) -> list[str]:
    """Every `*_MODEL_FALLBACKS` entry well-formed when settings load, not at the first failure."""
    for index, entry in enumerate(entries, 1):
        try:
            split_fallback(entry)
        except ValueError as exc:
            raise ValueError(f"entry {index}: {exc}") from None
    return entries


StrictBool = Annotated[bool, BeforeValidator(parse_bool)]
PathList = Annotated[list[Path], NoDecode, BeforeValidator(_parse_comma_list)]
FallbackList = Annotated[list[str], NoDecode, BeforeValidator(_parse_comma_list), AfterValidator(_check_fallbacks)]
CommandList = Annotated[list[str] | None, BeforeValidator(_parse_command_list)]
ProviderLimits = Annotated[dict[str, int], NoDecode, BeforeValidator(_parse_limits), AfterValidator(_check_limits)]
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
    # Default: `.ao` in the workspace; with no workspace, a user-level state dir (`default_user_state_dir`).
    ao_state_dir: Path = Path(".ao")
    # Default: the working directory, unless it is `/` or the home directory (see `workspace_root`).
    ao_workspace_root: Path = Path(".")
    # Further repositories a caller may name (a tool's `repository`); the workspace is always allowed.
    ao_allowed_roots: PathList = Field(default_factory=list[Path])
    ao_audit_retention_days: float = Field(default=30.0, gt=0, le=3650)
    ao_audit_max_rows: int = Field(default=50_000, ge=100, le=10_000_000)
    ao_interview_concurrency: int = Field(default=4, ge=1, le=64)
    ao_worker_concurrency: int = Field(default=8, ge=1, le=64)
    # Model calls (agents/resilience.py): a deadline per call over all its attempts and waits, the retries
    # of transient failures (429, 408, 5xx, resets, read timeouts) and their backoff.
    ao_model_call_timeout: float = Field(default=120.0, gt=0, le=3600)
    ao_model_max_retries: int = Field(default=6, ge=0, le=10)
    ao_model_backoff_s: float = Field(default=0.5, ge=0, le=60)
    ao_model_max_backoff_s: float = Field(default=30.0, ge=0, le=600)
    # Ordered `provider:model[@base_url]` lists asked when a role's model is out of quota, rate-limited
    # after its retries, or down; a fallback worker must itself be qualified for the step's task type.
    leader_model_fallbacks: FallbackList = Field(default_factory=list[str])
    worker_model_fallbacks: FallbackList = Field(default_factory=list[str])
    # A run's deadline and budget (None: no limit); a budget ends the run, keeping what finished.
    ao_run_timeout: float = Field(default=3600.0, gt=0, le=7 * 86400)
    ao_run_max_requests: int | None = Field(default=None, ge=1)
    ao_run_max_tokens: int | None = Field(default=None, ge=1)
    ao_run_max_cost_usd: float | None = Field(default=None, gt=0)
    # Spending caps over every run and interview (UTC day and month), from the call ledger.
    ao_daily_max_cost_usd: float | None = Field(default=None, gt=0)
    ao_monthly_max_cost_usd: float | None = Field(default=None, gt=0)
    # The whole interview's deadline: a worker too slow for it ends blocked (and saved) within it.
    ao_interview_timeout: float = Field(default=180.0, gt=0, le=7200)
    ao_profile_ttl_days: float = Field(default=7.0, gt=0, le=365)
    # A worker whose profile (or last passed drift canary) is older than this answers a few fresh interview
    # cases before a run gives it work; failing them blocks it until a re-interview (0: no canaries).
    ao_drift_canary_hours: float = Field(default=24.0, ge=0, le=24 * 365)
    # Trust that follows the record: an active worker whose acceptance rate over its last
    # AO_TRACK_RECORD_WINDOW judged outputs (once it has at least AO_TRACK_RECORD_MIN_JUDGED of them) is
    # below AO_MIN_ACCEPTANCE_RATE is downgraded to limited; 0 never downgrades. The window is at most
    # the history a record keeps.
    ao_track_record_window: int = Field(default=20, ge=1, le=HISTORY_LIMIT)
    ao_track_record_min_judged: int = Field(default=5, ge=1, le=HISTORY_LIMIT)
    ao_min_acceptance_rate: float = Field(default=0.5, ge=0, le=1)
    # Use a leader whose interview blocked a role the workflow needs (the run warns that it did).
    ao_allow_blocked_leader: StrictBool = False
    # Durable runs (agent_orchestrator/durable): the engine's database (default: SQLite in the state dir;
    # postgresql://... lets several processes share one run queue), runs one executor runs at once, how
    # long a background executor waits for work before it exits, how long the engine keeps finished runs.
    ao_database_url: SecretStr | None = None
    ao_executor_concurrency: int = Field(default=4, ge=1, le=64)
    # Model calls in flight at once per provider, in this process, across all its runs (`openai=8,anthropic=4`;
    # unset providers: no cap beyond the per-role caps of a run). With several executors, each has this cap.
    ao_provider_concurrency: ProviderLimits = Field(default_factory=dict[str, int])
    ao_executor_idle_s: float = Field(default=60.0, ge=0, le=86400)
    ao_engine_retention_days: float = Field(default=7.0, gt=0, le=3650)
    # Days run records (nodes, artifacts) and the call ledger are kept after a run ends; at least 32, so
    # the monthly spending cap always sees the whole month.
    ao_run_retention_days: float = Field(default=90.0, ge=32, le=36500)

    _workspace: Path | None = PrivateAttr(default=None)
    _no_workspace_reason: str = PrivateAttr(default="")

    @field_validator(
        "leader_model_base_url", "worker_model_base_url", "litellm_base_url", "ollama_base_url", mode="after"
    )
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        """A base URL must be usable now (http(s), a host, a valid port), not at the first model call."""
        if value is None or not value.strip():
            return None
        try:
            split_http_url(value)
        except InvalidURLError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    @model_validator(mode="after")
    def _check_track_record(self) -> Settings:
        if self.ao_track_record_min_judged > self.ao_track_record_window:
            raise ValueError(
                f"AO_TRACK_RECORD_MIN_JUDGED ({self.ao_track_record_min_judged}) is more than "
                f"AO_TRACK_RECORD_WINDOW ({self.ao_track_record_window}): the window could never hold enough "
                "judged outputs to downgrade a worker; lower the one or widen the other"
            )
        return self

    @model_validator(mode="after")
    def _check_state_dir(self) -> Settings:
        if "ao_workspace_root" in self.model_fields_set:
            root = Path(os.path.realpath(self.ao_workspace_root.expanduser()))
            if reason := unsafe_workspace_reason(root):
                raise ValueError(
                    f"AO_WORKSPACE_ROOT {str(self.ao_workspace_root)!r} is {reason}, which would make every file "
                    "under it readable to the tools; set it to the repository's directory"
                )
            self._workspace = self.ao_workspace_root = root
            if "ao_state_dir" not in self.model_fields_set:
                self.ao_state_dir = root / ".ao"
        else:
            self._workspace, self._no_workspace_reason = _default_workspace()
            if self._workspace is None and "ao_state_dir" not in self.model_fields_set:
                self.ao_state_dir = default_user_state_dir()
        problem = state_dir_problem(self.ao_state_dir, self._workspace)
        if problem:
            raise ValueError(f"AO_STATE_DIR {str(self.ao_state_dir)!r} {problem}")
        self.ao_allowed_roots = [allowed_root(root) for root in self.ao_allowed_roots]
        return self

    @property
    def workspace_root(self) -> Path | None:
        """The workspace (absolute), or None when there is none: AO_WORKSPACE_ROOT unset and the working
        directory `/` or the home directory, where hosts often start servers."""
        return self._workspace

    @property
    def allowed_roots(self) -> tuple[Path, ...]:
        """The directories a caller's `repository` may be in: the workspace (if any), then AO_ALLOWED_ROOTS."""
        return (*([self._workspace] if self._workspace else []), *self.ao_allowed_roots)

    def no_workspace_message(self) -> str:
        """What to set when a tool needs a workspace and there is none."""
        return (
            f"no workspace: AO_WORKSPACE_ROOT is not set and the working directory is {self._no_workspace_reason} "
            "(MCP hosts often start servers there), which is never used as the workspace. Set AO_WORKSPACE_ROOT "
            "to the repository's directory in the host entry's env (`ao mcp config <host> --workspace DIR` "
            "prints such an entry), or run `ao` inside the repository"
            + ("; or name a `repository` inside AO_ALLOWED_ROOTS" if self.ao_allowed_roots else "")
        )

    def repository_root(self, repository: str) -> Path:
        """A caller's `repository` as a workspace root: an absolute directory inside one of `allowed_roots`
        (resolved, symlinks included), never `/` or home. A `UsageError` naming AO_ALLOWED_ROOTS otherwise."""
        allowed = self.allowed_roots
        where = (
            "AO_ALLOWED_ROOTS (" + ", ".join(map(str, self.ao_allowed_roots)) + ")"
            if self.ao_allowed_roots
            else "AO_ALLOWED_ROOTS (not set)"
        )
        where += f" or the configured workspace ({self._workspace})" if self._workspace else ""
        if not Path(repository).is_absolute():
            raise UsageError(f"`repository` {repository!r} is not an absolute path")
        root = Path(os.path.realpath(repository))
        if not any(root == base or base in root.parents for base in allowed):
            raise UsageError(
                f"`repository` {repository!r} is not inside {where}; add its directory to AO_ALLOWED_ROOTS "
                "in the server's env to allow it"
            )
        if reason := unsafe_workspace_reason(root):
            raise UsageError(f"`repository` {repository!r} is {reason}, which is never a workspace")
        if not root.is_dir():
            raise UsageError(f"`repository` {repository!r} is not a directory")
        if problem := state_dir_problem(self.ao_state_dir, root):
            raise UsageError(f"`repository` {repository!r}: the state dir AO_STATE_DIR {problem}")
        return root

    @classmethod
    def secret_variables(cls) -> list[str]:
        """The environment variables that hold secrets (every `SecretStr` field)."""
        return [
            name.upper() for name, field in cls.model_fields.items() if SecretStr in get_args(field.annotation)
        ]

    def secret_values(self) -> list[str]:
        """Every configured secret value, for redaction."""
        values = [getattr(self, name.lower()) for name in self.secret_variables()]
        secrets = [value.get_secret_value() for value in values if value is not None and value.get_secret_value()]
        urls = (
            self.leader_model_base_url,
            self.worker_model_base_url,
            self.litellm_base_url,
            self.ollama_base_url,
        )
        return secrets + [password for url in urls if (password := url_password(url))]

    def report(self) -> ConfigReport:
        """Where each setting came from (environment, user config file and line, default), and what a
        workspace `.env` tried to set and was ignored."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        values["ao_workspace_root"] = self._workspace
        path = user_config_path()
        ignored = self.ignored_workspace_settings()
        sources = describe_sources(values, self.secret_variables(), readable_user_config(path), ignored)
        report = config_report(sources, path)
        report.advice += renamed_settings_advice(readable_user_config(path))
        if self._workspace is None:
            report.advice.append(self.no_workspace_message() + "; tools that read or run files refuse until then.")
        return report

    def ignored_workspace_settings(self) -> list[Assignment]:
        """Lines of a `.env` in the working directory or the workspace root that set one of our settings."""
        files = workspace_env_files([Path.cwd(), *([self._workspace] if self._workspace else [])])
        return ignored_assignments(files, [*type(self).model_fields, *CONFIG_FILE_VARIABLES])


# Settings that were renamed: still set somewhere, they are not read, and `ao config show` says so.
RENAMED_SETTINGS = {"AO_WORKER_CALL_TIMEOUT": "AO_MODEL_CALL_TIMEOUT (it now bounds every model call)"}


def renamed_settings_advice(user_config: Path | None) -> list[str]:
    """Advice for each renamed setting still set in the environment or the user config file."""
    text = user_config.read_text(encoding="utf-8", errors="replace") if user_config is not None else ""
    return [
        f"{old} is no longer read: use {new}"
        for old, new in RENAMED_SETTINGS.items()
        if old in os.environ or re.search(rf"(?m)^\s*(?:export\s+)?{old}\s*=", text)
    ]


# State must never land in git internals or system directories; inside the workspace only as a
# top-level hidden directory (like `.ao`), so it is neither committed with sources nor mixed into them.
_SYSTEM_DIRS = [
    Path(name)
    for name in ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/proc", "/sys", "/dev", "/System")
] + [Path("/var/lib"), Path("/var/log")]


def unsafe_workspace_reason(root: Path) -> str | None:
    """Why a directory (absolute, resolved) must not be a workspace: a filesystem root, or the home
    directory or one above it. None when it may be one."""
    if root.parent == root:
        return "the filesystem root"
    try:
        home = Path(os.path.realpath(Path.home()))
    except (RuntimeError, KeyError, OSError):
        return None
    if root == home:
        return "your home directory"
    if root in home.parents:
        return "a directory above your home directory"
    return None


def allowed_root(root: Path) -> Path:
    """One AO_ALLOWED_ROOTS entry, resolved: an existing absolute directory, not `/`, home or above."""
    if not root.is_absolute():
        raise ValueError(f"AO_ALLOWED_ROOTS entry {str(root)!r} is not an absolute path")
    resolved = Path(os.path.realpath(root))
    if not resolved.is_dir():
        raise ValueError(f"AO_ALLOWED_ROOTS entry {str(root)!r} is not an existing directory")
    if reason := unsafe_workspace_reason(resolved):
        raise ValueError(
            f"AO_ALLOWED_ROOTS entry {str(root)!r} is {reason}, which would make every file under it readable "
            "to the tools; list the repositories' directories (or a directory holding only them)"
        )
    return resolved


def _default_workspace() -> tuple[Path | None, str]:
    """The working directory as the workspace, unless it is unsafe (then None and why)."""
    try:
        cwd = Path(os.path.realpath(Path.cwd()))
    except OSError:
        return None, "gone"
    reason = unsafe_workspace_reason(cwd)
    return (None, f"{reason} ({cwd})") if reason else (cwd, "")


def state_dir_problem(state_dir: Path, workspace_root: Path | None) -> str | None:
    """Why a state dir is a bad place for state, or None."""
    state = Path(os.path.realpath(state_dir))
    root = Path(os.path.realpath(workspace_root)) if workspace_root is not None else None
    if any(part.lower() == ".git" for part in state.parts):
        return "is inside a .git directory; choose a directory outside git internals"
    if any(state == system or system in state.parents for system in _SYSTEM_DIRS):
        return "is under a system directory; use the default (.ao) or a directory you own"
    if state.parent == state or state.parent.parent == state.parent:
        return "is the filesystem root or directly under it; use the default or a directory you own"
    if root is None:
        return None
    if state == root or root in state.parents:
        top = state.relative_to(root).parts if state != root else ()
        if len(top) != 1 or not top[0].startswith("."):
            return (
                "is inside the workspace but not a top-level hidden directory (like .ao), so state would mix "
                "with sources; use .ao or a directory outside the workspace"
            )
    return None


def _user_file() -> Path | None:
    return readable_user_config(user_config_path())


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning validation failures into a `ConfigError` naming the variable."""
    user_file = _user_file()
    try:
        return Settings(_env_file=user_file, **overrides)  # pyright: ignore[reportCallIssue]
    except ValidationError as exc:
        problems = [_problem(error["loc"], error["msg"]) for error in exc.errors(include_input=False)]
        where = f"the environment or {user_file}" if user_file else "the environment or the user config file"
        raise ConfigError("invalid configuration: " + "; ".join(problems) + f" (fix {where})") from None


def _problem(location: tuple[int | str, ...], message: str) -> str:
    name = ".".join(str(part) for part in location).upper()
    message = message.removeprefix("Value error, ")
    return f"{name}: {message}" if name else message
