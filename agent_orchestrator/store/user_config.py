"""`ao config move-keys`: move our settings out of a workspace `.env` into the user config file.

Local only, never an MCP tool: it edits the user's own configuration, which no MCP caller may do.
The user file is written first (atomically, mode 0600), then the source is rewritten without the
moved lines (atomically, its mode kept), each replaced by a comment saying where it went.
By default only keys (the secret settings) move: a `.env` in a cloned repository may also set
endpoints or the write policy, and those should be read before they are adopted (`--all`). A crash
in between leaves a value in both places, never in neither. A name the user file already sets to
another value is a conflict: it stays in the source and is reported, nothing is overwritten.
"""

from __future__ import annotations

import io
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from dotenv.parser import parse_stream
from pydantic import BaseModel

from agent_orchestrator.config import CONFIG_FILE_VARIABLES, Settings
from agent_orchestrator.config.sources import read_assignments
from agent_orchestrator.errors import UsageError
from agent_orchestrator.store.atomic import atomic_write_text


class MoveReport(BaseModel):
    """What `move-keys` did, by variable name (values are never shown)."""

    source: str
    user_config_file: str
    moved: list[str]
    already_there: list[str]
    conflicts: list[str]
    left: list[str]  # settings that are not keys, left in place without --all


def move_keys(source: Path, target: Path | None, *, everything: bool = False) -> MoveReport:
    """Move the keys (or, with `everything`, every setting) `source` assigns into `target`, then drop
    those lines from `source`."""
    if target is None:
        raise UsageError("the user config file is disabled (AO_CONFIG_FILE is empty); set it to a path first")
    source = Path(os.path.realpath(source))
    if not source.is_file():
        raise UsageError(f"{str(source)!r} is not a file; name the .env to move with --from")
    if source == Path(os.path.realpath(target)):
        raise UsageError(f"{str(source)!r} already is the user config file")
    known = {name.upper() for name in (*Settings.model_fields, *CONFIG_FILE_VARIABLES)}
    existing = {item.name.upper(): item.value for item in read_assignments(target)} if target.is_file() else {}
    keys = {name.upper() for name in Settings.secret_variables()}
    report = MoveReport(
        source=str(source), user_config_file=str(target), moved=[], already_there=[], conflicts=[], left=[]
    )
    new_lines: list[str] = []
    for item in read_assignments(source):
        name = item.name.upper()
        if name not in known:
            continue
        if name not in keys and not everything:
            report.left.append(name)
        elif name not in existing:
            report.moved.append(name)
            new_lines.append(item.text)
            existing[name] = item.value
        elif existing[name] == item.value:
            report.already_there.append(name)
        else:
            report.conflicts.append(name)
    if new_lines:
        _append_user_config(target, source, new_lines)
    if report.moved or report.already_there:
        _rewrite_source(source, target, {*report.moved, *report.already_there})
    return report


def _append_user_config(target: Path, source: Path, lines: list[str]) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    old = target.read_text(encoding="utf-8") if target.is_file() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    atomic_write_text(
        target, old + f"# moved from {source} by `ao config move-keys` on {stamp}\n" + "\n".join(lines) + "\n"
    )
    os.chmod(target, 0o600)


def _rewrite_source(source: Path, target: Path, names: set[str]) -> None:
    """Rewrite `source` with each moved assignment replaced by a comment; everything else kept as is."""
    text = source.read_text(encoding="utf-8")
    mode = stat.S_IMODE(source.stat().st_mode)
    parts: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        written = binding.original.string
        if binding.key is not None and not binding.error and binding.key.upper() in names:
            leading = written[: len(written) - len(written.lstrip("\n"))]
            ending = "\n" if written.endswith("\n") else ""
            written = f"{leading}# {binding.key} moved to {target}{ending}"
        parts.append(written)
    atomic_write_text(source, "".join(parts))
    os.chmod(source, mode)
