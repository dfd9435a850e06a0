"""Saved worker profiles: `.ao/worker-profiles.json`, updated under a lock with atomic replace, or
with AO_DATABASE_URL a PostgreSQL table every process shares.

A file that exists but cannot be read as profiles is reported and left untouched: saving over it
would lose whatever the user had in it. Every save first removes the temp files that writers
killed mid-save left behind (never a live writer's).

In the database each profile is a row of `worker_profiles` (worker id, the profile's JSON, when it
was saved). A row that cannot be read is reported the same way (by `load` and `get`, and by a `save`
that would replace it) and left untouched; saving another worker's profile still works.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pydantic import BaseModel, ValidationError

from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.errors import NotFoundError, StoreCorruptError
from agent_orchestrator.store.atomic import atomic_write_text, ensure_state_dir, file_lock, remove_stale_temps
from agent_orchestrator.store.database import Database
from agent_orchestrator.store.postgres import SCHEMA, PostgresDatabase

PROFILES_FILE = "worker-profiles.json"
FORMAT_VERSION = 1
_TABLE = """
CREATE TABLE IF NOT EXISTS worker_profiles (
    worker_id TEXT PRIMARY KEY, profile TEXT NOT NULL, saved REAL NOT NULL
);
"""


class ProfilesDocument(BaseModel):
    """The file's shape: a format version and profiles keyed by worker id."""

    format_version: int = FORMAT_VERSION
    profiles: dict[str, WorkerCapabilityProfile] = {}


class _ProfileRows:
    """The profiles as rows of a database table."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self.location = f"{database.describe()} (table {SCHEMA}.worker_profiles)"

    def load(self) -> dict[str, WorkerCapabilityProfile]:
        with self._db.transaction() as db:
            rows = db.execute("SELECT worker_id, profile FROM worker_profiles ORDER BY worker_id").fetchall()
        profiles: dict[str, WorkerCapabilityProfile] = {}
        unreadable: list[str] = []
        for worker_id, text in rows:
            try:
                profiles[worker_id] = WorkerCapabilityProfile.model_validate_json(text)
            except ValidationError:  # not JSON, or not a profile
                unreadable.append(worker_id)
        if unreadable:
            raise self._corrupt(unreadable)
        return profiles

    def save(self, profile: WorkerCapabilityProfile) -> None:
        with self._db.transaction() as db:
            row = db.execute(
                "SELECT profile FROM worker_profiles WHERE worker_id = ?", (profile.worker_id,)
            ).fetchone()
            if row is not None:
                try:
                    WorkerCapabilityProfile.model_validate_json(row[0])
                except ValidationError:
                    raise self._corrupt([profile.worker_id]) from None
            db.execute(
                "INSERT INTO worker_profiles (worker_id, profile, saved) VALUES (?, ?, ?) "
                "ON CONFLICT (worker_id) DO UPDATE SET profile = excluded.profile, saved = excluded.saved",
                (profile.worker_id, profile.model_dump_json(), time.time()),
            )

    def _corrupt(self, worker_ids: list[str]) -> StoreCorruptError:
        shown = ", ".join(repr(worker_id[:100]) for worker_id in worker_ids[:10])
        return StoreCorruptError(
            f"the saved profiles of {shown} in {self.location} cannot be read; they were left untouched. "
            "Delete those rows (or fix them) and re-run the interview with `save`"
        )


class ProfileStore:
    """Reads and writes worker profiles: one JSON file under the state dir, or (with `database_url`) a
    PostgreSQL table; `path` is the file's path either way, `location` says where the profiles are."""

    def __init__(self, state_dir: Path, *, database_url: str | None = None) -> None:
        self.path = state_dir / PROFILES_FILE
        self._rows = None if database_url is None else _ProfileRows(PostgresDatabase(database_url, _TABLE))
        self.location = str(self.path) if self._rows is None else self._rows.location

    def load(self) -> dict[str, WorkerCapabilityProfile]:
        """All saved profiles (empty when none was saved yet)."""
        return self._read().profiles if self._rows is None else self._rows.load()

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

    def save(self, profile: WorkerCapabilityProfile) -> Path | str:
        """Insert or replace one profile, and say where it went (the file, or `location`); concurrent
        savers serialise on the lock (or the database), none is lost."""
        if self._rows is not None:
            self._rows.save(profile)
            return self.location
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
