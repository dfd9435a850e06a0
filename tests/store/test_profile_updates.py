"""`ProfileStore.update`: a read-modify-write of one profile that concurrent updaters cannot lose, on the
file (under its lock) and on PostgreSQL (holding the row's lock)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from postgres import fresh_database
from saved_profiles import make_profile

from agent_orchestrator.domain.profile import WorkerCapabilityProfile
from agent_orchestrator.domain.track_record import JudgedOutput
from agent_orchestrator.errors import StoreCorruptError
from agent_orchestrator.store.profiles import ProfileStore

WORKER = "litellm:qwen"
UPDATERS, UPDATES = 4, 8
Stores = Callable[[], ProfileStore]


@pytest.fixture(params=["file", "postgres"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Stores:
    """Opens a store on the same profiles (each call a new store object, as another process would)."""
    if request.param == "file":
        return lambda: ProfileStore(tmp_path)
    url = fresh_database(request.getfixturevalue("postgres_url"))
    return lambda: ProfileStore(tmp_path, database_url=url)


def one_more(
    run_id: str, step_id: str, pause_s: float = 0.0
) -> Callable[[WorkerCapabilityProfile], WorkerCapabilityProfile]:
    """A change adding one judged output, slow enough between its read and its write to expose a lost update."""

    def change(profile: WorkerCapabilityProfile) -> WorkerCapabilityProfile:
        time.sleep(pause_s)
        entry = JudgedOutput(
            at=datetime.now(UTC),
            run_id=run_id,
            step_id=step_id,
            task_type="summarization",
            verdict="accepted",
            rounds=1,
        )
        return profile.model_copy(update={"track_record": profile.track_record.adding([entry])})

    return change


def _update_many(stores: Stores, updater: int) -> None:
    store = stores()
    for index in range(UPDATES):
        store.update(WORKER, one_more(f"run-{updater}", f"s{index}", pause_s=0.002))


def test_an_update_is_saved_and_returned(stores: Stores) -> None:
    stores().save(make_profile(WORKER))
    updated = stores().update(WORKER, one_more("run-1", "s1"))
    assert updated is not None and len(updated.track_record.entries) == 1
    assert stores().get(WORKER) == updated


def test_a_worker_without_a_saved_profile_gets_nothing(stores: Stores) -> None:
    assert stores().update(WORKER, one_more("run-1", "s1")) is None
    stores().save(make_profile("litellm:other"))
    assert stores().update(WORKER, one_more("run-1", "s1")) is None
    assert list(stores().load()) == ["litellm:other"]


def test_a_change_returning_the_profile_unchanged_writes_nothing(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.save(make_profile(WORKER))
    before = store.path.stat().st_mtime_ns
    assert store.update(WORKER, lambda profile: profile) == store.get(WORKER)
    assert store.path.stat().st_mtime_ns == before


def test_concurrent_processes_lose_no_update(stores: Stores) -> None:
    stores().save(make_profile(WORKER))
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_update_many, args=(stores, n)) for n in range(UPDATERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert len(stores().get(WORKER).track_record.entries) == UPDATERS * UPDATES


def test_concurrent_threads_lose_no_update(stores: Stores) -> None:
    stores().save(make_profile(WORKER))
    threads = [threading.Thread(target=_update_many, args=(stores, n)) for n in range(UPDATERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(stores().get(WORKER).track_record.entries) == UPDATERS * UPDATES


def test_an_unreadable_row_is_reported_and_left_untouched(tmp_path: Path, postgres_url: str) -> None:
    url = fresh_database(postgres_url)
    store = ProfileStore(tmp_path, database_url=url)
    store.save(make_profile(WORKER))
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("UPDATE ao.worker_profiles SET profile = '{not json'")
    with pytest.raises(StoreCorruptError, match="left untouched"):
        store.update(WORKER, one_more("run-1", "s1"))
    with psycopg.connect(url, autocommit=True) as db:
        assert db.execute("SELECT profile FROM ao.worker_profiles").fetchall() == [("{not json",)]
