"""Configuration: settings from the real environment and the user config file, never a workspace.

`settings` is the one place that reads env vars; `sources` finds the user config file and says
where each setting came from; `move` moves keys out of a repository `.env` (the CLI's
`ao config move-keys`).
"""

from __future__ import annotations

from agent_orchestrator.config.settings import (
    Settings,
    allowed_root,
    load_settings,
    parse_bool,
    state_dir_problem,
    unsafe_workspace_reason,
)
from agent_orchestrator.config.sources import CONFIG_FILE_VARIABLES, ConfigReport, SettingSource, user_config_path

__all__ = [
    "CONFIG_FILE_VARIABLES",
    "ConfigReport",
    "SettingSource",
    "Settings",
    "allowed_root",
    "load_settings",
    "parse_bool",
    "state_dir_problem",
    "unsafe_workspace_reason",
    "user_config_path",
]
