"""Where settings come from: the real environment, then the user-level config file; never a workspace.

A repository is untrusted content, so a `.env` inside one (the working directory's or the
workspace root's) is never read for settings: writes, the allowlist, the workspace, endpoints and
keys could otherwise be rewritten by a cloned repository. Such a file is only scanned for the
names of our settings, so the user is told what was ignored and how to move it
(`ao config move-keys`).

The user-level file (dotenv syntax) is `$AO_CONFIG_FILE` when set (`""` disables it; the older
name `AO_ENV_FILE` still works), else `$XDG_CONFIG_HOME/agent-orchestrator/env` (default
`~/.config/...`) on Linux and macOS and `%APPDATA%\\agent-orchestrator\\env` on Windows.

State (`.ao`: runs, profiles, audit) defaults to the workspace's `.ao`; when there is no workspace
it goes to `default_user_state_dir`, never to whatever directory a host started the server in.
"""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dotenv.parser import parse_stream
from pydantic import BaseModel, Field

from agent_orchestrator.errors import ConfigError
from agent_orchestrator.urls import strip_credentials

CONFIG_FILE_VARIABLES = ("AO_CONFIG_FILE", "AO_ENV_FILE")
APP_DIR = "agent-orchestrator"
Origin = Literal["environment", "user config", "default", "ignored"]


@dataclass(frozen=True)
class Assignment:
    """One `NAME=value` line of a dotenv file, with where it is."""

    name: str
    value: str
    path: Path
    line: int
    text: str  # the line(s) as written, without surrounding newlines

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


class SettingSource(BaseModel):
    """Where one setting's effective value came from; secret values are never carried."""

    name: str
    value: str | None = Field(description="the value; null for secrets and unset settings")
    is_set: bool
    origin: Origin
    where: str | None = Field(default=None, description="file:line for the user config file and ignored lines")


class ConfigReport(BaseModel):
    """Every setting with its origin, the user config file, and what a workspace `.env` tried to set."""

    user_config_file: str | None
    user_config_exists: bool
    settings: list[SettingSource]
    ignored: list[SettingSource]
    advice: list[str]


def default_user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The user-level config file's default location on this platform."""
    env = os.environ if environ is None else environ
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / APP_DIR / "env"
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / APP_DIR / "env"


def default_user_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The state dir when there is no workspace to hold `.ao`: `$XDG_STATE_HOME/agent-orchestrator`
    (default `~/.local/state/...`), `%LOCALAPPDATA%\\agent-orchestrator\\state` on Windows."""
    env = os.environ if environ is None else environ
    if sys.platform == "win32" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / APP_DIR / "state"
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base).expanduser() / APP_DIR


def user_config_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The user-level config file to read, or None when `AO_CONFIG_FILE=""` disables it."""
    env = os.environ if environ is None else environ
    for variable in CONFIG_FILE_VARIABLES:
        chosen = env.get(variable)
        if chosen is not None:
            return Path(chosen).expanduser() if chosen.strip() else None
    return default_user_config_path(env)


def readable_user_config(path: Path | None) -> Path | None:
    """The user config file if it exists and is safe to read; a file others may write is refused."""
    if path is None:
        return None
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the user config file {str(path)!r}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"the user config file {str(path)!r} is not a regular file")
    if sys.platform != "win32" and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            f"the user config file {str(path)!r} is writable by other users, who could change your "
            f"settings; run: chmod 600 {path}"
        )
    return path


MAX_DOTENV_BYTES = 1_000_000


def read_assignments(path: Path) -> list[Assignment]:
    """Every `NAME=value` line of a dotenv file, in order; unparseable lines are skipped.

    Only the first `MAX_DOTENV_BYTES` are read: a workspace `.env` is scanned on every command, and a
    repository could ship a huge one to slow or exhaust it.
    """
    try:
        with path.open("rb") as handle:
            text = handle.read(MAX_DOTENV_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return []
    found: list[Assignment] = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.error or binding.key is None:
            continue
        written = binding.original.string
        blank_lines = len(written) - len(written.lstrip("\n"))  # the parser counts blank lines before it
        found.append(
            Assignment(
                name=binding.key,
                value=binding.value or "",
                path=path,
                line=binding.original.line + blank_lines,
                text=written.strip("\n"),
            )
        )
    return found


def workspace_env_files(directories: Iterable[Path]) -> list[Path]:
    """`.env` files in the given directories (cwd, workspace root), each once."""
    seen: dict[str, Path] = {}
    for directory in directories:
        candidate = directory / ".env"
        try:
            if candidate.is_file():
                seen.setdefault(os.path.realpath(candidate), candidate)
        except OSError:
            continue
    return list(seen.values())


def ignored_assignments(files: Iterable[Path], names: Iterable[str]) -> list[Assignment]:
    """The lines of workspace `.env` files that set one of our settings (and were ignored)."""
    known = {name.upper() for name in names}
    return [item for path in files for item in read_assignments(path) if item.name.upper() in known]


def describe_sources(
    values: Mapping[str, object],
    secret_names: Iterable[str],
    user_file: Path | None,
    ignored: Iterable[Assignment],
    environ: Mapping[str, str] | None = None,
) -> list[SettingSource]:
    """Where each setting came from: environment, user config file (with line), or default."""
    env = {key.upper(): key for key in (os.environ if environ is None else environ)}
    in_file = {item.name.upper(): item for item in (read_assignments(user_file) if user_file else [])}
    secrets = {name.upper() for name in secret_names}
    sources: list[SettingSource] = []
    origin: Origin
    for name, value in values.items():
        upper = name.upper()
        shown = None if upper in secrets or value is None else _show(value)
        if upper in env:
            origin, where = "environment", None
        elif upper in in_file:
            origin, where = "user config", in_file[upper].where
        else:
            origin, where = "default", None
        sources.append(
            SettingSource(name=upper, value=shown, is_set=value is not None, origin=origin, where=where)
        )
    sources.extend(
        SettingSource(name=item.name.upper(), value=None, is_set=False, origin="ignored", where=item.where)
        for item in ignored
    )
    return sources


def config_report(sources: list[SettingSource], user_file: Path | None) -> ConfigReport:
    """The `show_config` result: sources split into effective and ignored, with what to do."""
    ignored = [source for source in sources if source.origin == "ignored"]
    advice: list[str] = []
    if ignored:
        files = sorted({(source.where or "").rsplit(":", 1)[0] for source in ignored})
        advice.append(
            f"{', '.join(files)} set {len(ignored)} setting(s) that were ignored: settings never come from a file "
            "inside a workspace. Move them to the user config file with `ao config move-keys`."
        )
    if user_file is None:
        advice.append("The user config file is disabled (AO_CONFIG_FILE is empty).")
    return ConfigReport(
        user_config_file=str(user_file) if user_file else None,
        user_config_exists=bool(user_file and user_file.is_file()),
        settings=[source for source in sources if source.origin != "ignored"],
        ignored=ignored,
        advice=advice,
    )


def _show(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
    text = str(value)
    return strip_credentials(text) if "://" in text else text
