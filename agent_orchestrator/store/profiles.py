"""Saved interview profiles: worker profiles in `.ao/worker-profiles.json`, leader profiles in
`.ao/leader-profiles.json`, each updated under a lock with atomic replace, or with AO_DATABASE_URL
in a PostgreSQL table every process shares (`worker_profiles`, `leader_profiles`).

A file that exists but cannot be read as profiles is reported and left untouched: saving over it
would lose whatever the user had in it. Every save first removes the temp files that writers
killed mid-save left behind (never a live writer's).

In the database each profile is a row (its id, the profile's JSON, when it was saved). A row that
cannot be read is reported the same way (by `load` and `get`, and by a `save` that would replace
it) and left untouched; saving another profile still works.

`update(profile_id, change)` is a read-modify-write of one profile (a worker's track record): under
the file lock, or in one transaction holding the row's lock (`SELECT ... FOR UPDATE`), so two
processes updating the same profile at once both land, one after the other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from agent_orchestrator.domain.leader_profile import LeaderProfile
from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.errors import NotFoundError, StoreCorruptError
from agent_orchestrator.store.atomic import atomic_write_text, ensure_state_dir, file_lock, remove_stale_temps
from agent_orchestrator.store.database import Database
from agent_orchestrator.store.postgres import SCHEMA, PostgresDatabase

PROFILES_FILE = "worker-profiles.json"
LEADER_PROFILES_FILE = "leader-profiles.json"
FORMAT_VERSION = 1
P = TypeVar("P", WorkerCapabilityProfile, LeaderProfile)
# A profile as saved -> the profile to save; the very same object back means "no change" (nothing is written).
Change = Callable[[P], P]


@dataclass(frozen=True)
class _Kind(Generic[P]):
    """What is stored: the profile model, its id field, its file and table, and how to get one."""

    model: type[P]
    key: str
    file: str
    table: str
    noun: str
    how_to_get: str  # `{provider}` and `{model}` are filled from the missing id


_WORKERS = _Kind(
    WorkerCapabilityProfile,
    "worker_id",
    PROFILES_FILE,
    "worker_profiles",
    "worker",
    "interview it first (`interview_worker` with `provider` {provider!r}, `model` {model!r} and `save`)",
)
_LEADERS = _Kind(
    LeaderProfile,
    "leader_id",
    LEADER_PROFILES_FILE,
    "leader_profiles",
    "leader",
    "interview it first (`ao leader interview --provider {provider} --model {model} --save`, or "
    "`interview_worker` with `role` leader)",
)


def _table(kind: _Kind[P]) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {kind.table} "
        f"({kind.key} TEXT PRIMARY KEY, profile TEXT NOT NULL, saved REAL NOT NULL);"
    )


class _ProfileRows(Generic[P]):
    """The profiles as rows of a database table."""

    def __init__(self, database: Database, kind: _Kind[P]) -> None:
        self._db = database
        self._kind = kind
        self.location = f"{database.describe()} (table {SCHEMA}.{kind.table})"

    def load(self) -> dict[str, P]:
        kind = self._kind
        with self._db.transaction() as db:
            rows = db.execute(f"SELECT {kind.key}, profile FROM {kind.table} ORDER BY {kind.key}").fetchall()
        profiles: dict[str, P] = {}
        unreadable: list[str] = []
        for profile_id, text in rows:
            try:
                profiles[profile_id] = kind.model.model_validate_json(text)
            except ValidationError:  # not JSON, or not a profile
                unreadable.append(profile_id)
        if unreadable:
            raise self._corrupt(unreadable)
        return profiles

    def save(self, profile: P) -> None:
        kind = self._kind
        profile_id: str = getattr(profile, kind.key)
        with self._db.transaction() as db:
            row = db.execute(f"SELECT profile FROM {kind.table} WHERE {kind.key} = ?", (profile_id,)).fetchone()
            if row is not None:
                try:
                    kind.model.model_validate_json(row[0])
                except ValidationError:
                    raise self._corrupt([profile_id]) from None
            db.execute(
                f"INSERT INTO {kind.table} ({kind.key}, profile, saved) VALUES (?, ?, ?) "
                f"ON CONFLICT ({kind.key}) DO UPDATE SET profile = excluded.profile, saved = excluded.saved",
                (profile_id, profile.model_dump_json(), time.time()),
            )

    def update(self, profile_id: str, change: Change[P]) -> P | None:
        """`change` applied to the saved profile in one transaction holding its row lock (None: none saved)."""
        kind = self._kind
        with self._db.transaction() as db:
            row = db.execute(
                f"SELECT profile FROM {kind.table} WHERE {kind.key} = ? FOR UPDATE", (profile_id,)
            ).fetchone()
            if row is None:
                return None
            try:
                current = kind.model.model_validate_json(row[0])
            except ValidationError:
                raise self._corrupt([profile_id]) from None
            changed = change(current)
            if changed is not current:
                db.execute(
                    f"UPDATE {kind.table} SET profile = ?, saved = ? WHERE {kind.key} = ?",
                    (changed.model_dump_json(), time.time(), profile_id),
                )
            return changed

    def _corrupt(self, profile_ids: list[str]) -> StoreCorruptError:
        shown = ", ".join(repr(profile_id[:100]) for profile_id in profile_ids[:10])
        return StoreCorruptError(
            f"the saved profiles of {shown} in {self.location} cannot be read; they were left untouched. "
            "Delete those rows (or fix them) and re-run the interview with `save`"
        )


class _Document(BaseModel, Generic[P]):
    """A profiles file: a format version and profiles keyed by id."""

    format_version: int = FORMAT_VERSION
    profiles: dict[str, P] = {}


class _ProfileStore(Generic[P]):
    """Reads and writes one kind of profile: a JSON file under the state dir, or (with `database_url`) a
    PostgreSQL table; `path` is the file's path either way, `location` says where the profiles are."""

    def __init__(self, state_dir: Path, kind: _Kind[P], *, database_url: str | None = None) -> None:
        self._kind = kind
        self.path = state_dir / kind.file
        self._rows = (
            None if database_url is None else _ProfileRows(PostgresDatabase(database_url, _table(kind)), kind)
        )
        self.location = str(self.path) if self._rows is None else self._rows.location

    def load(self) -> dict[str, P]:
        """All saved profiles (empty when none was saved yet)."""
        return self._read() if self._rows is None else self._rows.load()

    def get(self, profile_id: str) -> P:
        profiles = self.load()
        if profile_id not in profiles:
            known = ", ".join(sorted(profiles)) or "none saved yet"
            provider, _, model = profile_id.partition(":")
            hint = self._kind.how_to_get.format(provider=provider, model=model or "MODEL")
            raise NotFoundError(f"no saved profile for {self._kind.noun} {profile_id!r} (known: {known}); {hint}")
        return profiles[profile_id]

    def save(self, profile: P) -> Path | str:
        """Insert or replace one profile, and say where it went (the file, or `location`); concurrent
        savers serialise on the lock (or the database), none is lost."""
        if self._rows is not None:
            self._rows.save(profile)
            return self.location
        ensure_state_dir(self.path.parent)
        with file_lock(self.path):
            remove_stale_temps(self.path)
            profiles = self._read()
            profiles[getattr(profile, self._kind.key)] = profile
            self._write(profiles)
        return self.path

    def update(self, profile_id: str, change: Change[P]) -> P | None:
        """Read one saved profile, apply `change`, write the result, all under the lock (or in one
        transaction holding the row's lock): concurrent updaters in any process see each other's
        changes and lose none. The profile as it now stands; None when none is saved (nothing written)."""
        if self._rows is not None:
            return self._rows.update(profile_id, change)
        if not self.path.exists():
            return None
        with file_lock(self.path):
            profiles = self._read()
            current = profiles.get(profile_id)
            if current is None:
                return None
            changed = change(current)
            if changed is not current:
                remove_stale_temps(self.path)
                profiles[profile_id] = changed
                self._write(profiles)
        return changed

    def _write(self, profiles: dict[str, P]) -> None:
        """Replace the file with `profiles` (atomically); call it holding the lock."""
        document = _Document[self._kind.model](profiles=profiles)
        atomic_write_text(self.path, document.model_dump_json(indent=2) + "\n")

    def _read(self) -> dict[str, P]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise self._corrupt(f"cannot be read ({exc.__class__.__name__})") from None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise self._corrupt(f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:  # pyright: ignore[reportUnknownMemberType]
            raise self._corrupt(f"is not a format-version-{FORMAT_VERSION} profiles file")
        try:
            return _Document[self._kind.model].model_validate(data).profiles
        except ValidationError as exc:
            raise self._corrupt(f"has {exc.error_count()} invalid entries") from None

    def _corrupt(self, problem: str) -> StoreCorruptError:
        return StoreCorruptError(
            f"profiles file {str(self.path)!r} {problem}; it was left untouched. Move it aside (or fix it) "
            "and re-run the interview with `save`"
        )


class ProfileStore(_ProfileStore[WorkerCapabilityProfile]):
    """Saved worker profiles (`worker-profiles.json` or the `worker_profiles` table)."""

    def __init__(self, state_dir: Path, *, database_url: str | None = None) -> None:
        super().__init__(state_dir, _WORKERS, database_url=database_url)


class LeaderProfileStore(_ProfileStore[LeaderProfile]):
    """Saved leader profiles (`leader-profiles.json` or the `leader_profiles` table), beside the workers'."""

    def __init__(self, state_dir: Path, *, database_url: str | None = None) -> None:
        super().__init__(state_dir, _LEADERS, database_url=database_url)
