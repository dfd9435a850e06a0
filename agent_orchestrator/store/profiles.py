"""`.ao/worker-profiles.json`: saved worker profiles, updated under a lock with atomic replace.

A file that exists but cannot be read as profiles is reported and left untouched: saving over it
would lose whatever the user had in it. Every save first removes the temp files that writers
killed mid-save left behind (never a live writer's).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError

from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.errors import NotFoundError, StoreCorruptError
from agent_orchestrator.store.atomic import atomic_write_text, ensure_state_dir, file_lock, remove_stale_temps

PROFILES_FILE = "worker-profiles.json"
FORMAT_VERSION = 1


class ProfilesDocument(BaseModel):
    """The file's shape: a format version and profiles keyed by worker id."""

    format_version: int = FORMAT_VERSION
    profiles: dict[str, WorkerCapabilityProfile] = {}


class ProfileStore:
    """Reads and writes worker profiles in one JSON file under the state dir."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / PROFILES_FILE

    def load(self) -> dict[str, WorkerCapabilityProfile]:
        """All saved profiles (empty when the file does not exist yet)."""
        return self._read().profiles

    def get(self, worker_id: str) -> WorkerCapabilityProfile:
        profiles = self.load()
        if worker_id not in profiles:
            known = ", ".join(sorted(profiles)) or "none saved yet"
            raise NotFoundError(
                f"no saved profile for worker {worker_id!r} (known: {known}); interview it first "
                f"(`interview_worker` with `provider` {worker_id.partition(':')[0]!r}, `model` "
                f"{worker_id.partition(':')[2] or 'MODEL'!r} and `save`)"
            )
        return profiles[worker_id]

    def save(self, profile: WorkerCapabilityProfile) -> Path:
        """Insert or replace one profile; concurrent savers serialise on the lock, none is lost."""
        ensure_state_dir(self.path.parent)
        with file_lock(self.path):
            remove_stale_temps(self.path)
            document = self._read()
            document.profiles[profile.worker_id] = profile
            atomic_write_text(self.path, document.model_dump_json(indent=2) + "\n")
        return self.path

    def _read(self) -> ProfilesDocument:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ProfilesDocument()
        except (OSError, UnicodeDecodeError) as exc:
            raise self._corrupt(f"cannot be read ({exc.__class__.__name__})") from None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise self._corrupt(f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:  # pyright: ignore[reportUnknownMemberType]
            raise self._corrupt(f"is not a format-version-{FORMAT_VERSION} profiles file")
        try:
            return ProfilesDocument.model_validate(data)
        except ValidationError as exc:
            raise self._corrupt(f"has {exc.error_count()} invalid entries") from None

    def _corrupt(self, problem: str) -> StoreCorruptError:
        return StoreCorruptError(
            f"profiles file {str(self.path)!r} {problem}; it was left untouched. Move it aside (or fix it) "
            "and re-run the interview with `save`"
        )
