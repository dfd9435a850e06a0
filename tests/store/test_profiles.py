"""The profiles file: atomic replace under a lock, corrupt files reported and left alone."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from saved_profiles import make_profile

from agent_orchestrator.errors import NotFoundError, StoreCorruptError
from agent_orchestrator.interview.freshness import stale_reasons
from agent_orchestrator.store import atomic
from agent_orchestrator.store.profiles import ProfileStore


def test_save_then_get_round_trips(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.save(make_profile("litellm:qwen"))
    assert store.get("litellm:qwen").status == "limited"
    assert json.loads(store.path.read_text())["format_version"] == 1


def test_unknown_id_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(
        NotFoundError, match=r"`interview_worker` with `provider` .litellm., `model` .nope. and `save`"
    ):
        ProfileStore(tmp_path).get("litellm:nope")


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"format_version": 99, "profiles": {}}',
        "[]",
        '{"format_version": 1, "profiles": {"a:b": {"status": "weird"}}}',
    ],
)
def test_corrupt_file_is_reported_and_never_overwritten(tmp_path: Path, content: str) -> None:
    store = ProfileStore(tmp_path)
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_text(content)
    with pytest.raises(StoreCorruptError, match="left untouched"):
        store.save(make_profile("litellm:qwen"))
    assert store.path.read_text() == content


def test_crash_mid_write_leaves_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ProfileStore(tmp_path)
    store.save(make_profile("litellm:old"))
    before = store.path.read_text()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.save(make_profile("litellm:new"))
    assert store.path.read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def _save_many(state_dir: str, worker: int) -> None:
    store = ProfileStore(Path(state_dir))
    for index in range(10):
        store.save(make_profile(f"litellm:w{worker}-{index}"))


def test_concurrent_savers_lose_no_update(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_save_many, args=(str(tmp_path), n)) for n in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert len(ProfileStore(tmp_path).load()) == 40


def test_fresh_profile_has_no_stale_reasons() -> None:
    profile = make_profile("litellm:qwen")
    assert stale_reasons(profile, now=datetime.now(UTC), current_fingerprint="f" * 16) == []


def test_expired_other_suite_and_other_endpoint_are_stale() -> None:
    profile = make_profile("litellm:qwen", suite_version="2025.01.0")
    later = datetime.now(UTC) + timedelta(days=8)
    reasons = stale_reasons(profile, now=later, current_fingerprint="0" * 16)
    assert len(reasons) == 3
    assert reasons[0].startswith("expired") and "suite" in reasons[1] and "endpoint" in reasons[2]


def test_atomic_write_creates_parent_dirs(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.json"
    atomic.atomic_write_text(target, "x")
    assert target.read_text() == "x"
    assert oct(os.stat(target).st_mode)[-3:] in {"600", "644"}
