"""State files are private (dir 0700, databases 0600) and writers killed mid-save leave no litter."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from store.test_profiles import make_profile

from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.store.atomic import STALE_TEMP_AGE_S, remove_stale_temps
from agent_orchestrator.store.audit import AuditLog
from agent_orchestrator.store.process import ProcessIdentity
from agent_orchestrator.store.profiles import ProfileStore
from agent_orchestrator.store.runs import RunStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("loose_umask")
def test_new_state_dir_and_databases_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    store = RunStore(state, Redactor())
    store.create("review", {})
    with sqlite3.connect(store.path) as reader:  # an open connection keeps -wal and -shm in place
        reader.execute("SELECT COUNT(*) FROM runs").fetchone()
        store.create("review", {})
        AuditLog(state, Redactor()).record("policy", "x", "allowed", "ok")
        files = {p.name: mode(p) for p in state.iterdir() if p.name != ".gitignore"}
    assert mode(state) == 0o700
    assert {"runs.sqlite3", "runs.sqlite3-wal", "runs.sqlite3-shm", "audit.sqlite3"} <= set(files)
    assert set(files.values()) == {0o600}, files


@pytest.mark.usefixtures("loose_umask")
def test_existing_world_readable_state_is_tightened_when_opened(tmp_path: Path) -> None:
    state = tmp_path / "state"
    RunStore(state, Redactor()).create("review", {})
    with sqlite3.connect(state / "runs.sqlite3") as reader:
        reader.execute("SELECT COUNT(*) FROM runs").fetchone()
        for path in (state, *state.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)
        import agent_orchestrator.store.atomic as atomic

        atomic._secured_dirs.clear()  # a new process: it has not looked at this dir yet
        assert RunStore(state, Redactor()).list()[0].workflow == "review"
        modes = {p.name: mode(p) for p in state.iterdir() if p.name.startswith("runs.sqlite3")}
    assert mode(state) == 0o700
    assert modes == {"runs.sqlite3": 0o600, "runs.sqlite3-wal": 0o600, "runs.sqlite3-shm": 0o600}


def test_a_dir_that_is_not_ours_keeps_its_mode(tmp_path: Path) -> None:
    state = tmp_path / "shared"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    (state / ".gitignore").write_text("node_modules\n")
    RunStore(state, Redactor()).create("review", {})
    assert mode(state) == 0o755 and mode(state / "runs.sqlite3") == 0o600


def temp_name(target: Path, pid: int | None, ticks: int | None = None) -> Path:
    writer = "" if pid is None else f"p{pid}" + (f"s{ticks}" if ticks is not None else "") + "."
    return target.with_name(f".{target.name}.{writer}abc123_x.tmp")


def test_stale_temp_files_go_and_live_ones_stay(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait(timeout=30)
    me = ProcessIdentity.current()
    dead = temp_name(store.path, ended.pid)
    live = temp_name(store.path, me.pid, me.start_ticks)
    old_unknown, fresh_unknown = temp_name(store.path, None), store.path.with_name(f".{store.path.name}.zz9.tmp")
    other_target = tmp_path / ".other.json.abc.tmp"
    for path in (dead, live, old_unknown, fresh_unknown, other_target):
        path.write_text("x" * 1000)
    long_ago = time.time() - STALE_TEMP_AGE_S - 60
    os.utime(old_unknown, (long_ago, long_ago))
    os.utime(other_target, (long_ago, long_ago))
    store.save(make_profile("litellm:qwen"))
    left = {p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")}
    assert left == {live.name, fresh_unknown.name, other_target.name}
    assert store.get("litellm:qwen").status == "limited"


@pytest.mark.skipif(ProcessIdentity.current().start_ticks is None, reason="needs /proc/PID/stat (Linux)")
def test_a_temp_file_of_a_reused_pid_is_stale(tmp_path: Path) -> None:
    me = ProcessIdentity.current()
    assert me.start_ticks is not None
    reused = temp_name(tmp_path / "target.json", me.pid, me.start_ticks + 1)
    reused.write_text("x")
    assert remove_stale_temps(tmp_path / "target.json") == [reused]
