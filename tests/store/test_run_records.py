"""Run records against the processes running them, old databases and rows that cannot be read."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent_orchestrator.errors import StoreCorruptError
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.store.process import ProcessIdentity, boot_id, start_ticks
from agent_orchestrator.store.runs import RunStore

LINUX_PROC = pytest.mark.skipif(start_ticks(os.getpid()) is None, reason="needs /proc/PID/stat (Linux)")
OLD_SCHEMA = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
    inputs TEXT NOT NULL, result TEXT NOT NULL, usage TEXT NOT NULL, started REAL NOT NULL, finished REAL
);
INSERT INTO runs VALUES ('run_old', 'review', 'succeeded', '', '{}', '{}', '{}', 1700000000.0, 1700000001.0);
INSERT INTO runs VALUES ('run_old_open', 'review', 'running', '', '{}', '{}', '{}', 1700000002.0, NULL);
"""


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


def set_process(store: RunStore, run_id: str, host: str, pid: int, ticks: int | None, boot: str | None) -> None:
    with sqlite3.connect(store.path) as db:
        db.execute(
            "UPDATE runs SET host = ?, pid = ?, pid_start = ?, boot_id = ? WHERE run_id = ?",
            (host, pid, ticks, boot, run_id),
        )


def test_this_process_is_alive_and_an_ended_one_is_not() -> None:
    me = ProcessIdentity.current()
    assert me.pid == os.getpid() and me.on_this_host() and not me.has_ended()
    assert ProcessIdentity(me.host, dead_pid(), None, me.boot_id).has_ended()
    assert not ProcessIdentity("elsewhere.example", dead_pid()).has_ended()  # cannot be checked: never "gone"


@LINUX_PROC
def test_a_reused_pid_or_a_reboot_is_not_the_same_process() -> None:
    me = ProcessIdentity.current()
    assert me.start_ticks is not None and me.boot_id == boot_id()
    assert ProcessIdentity(me.host, me.pid, me.start_ticks + 1, me.boot_id).has_ended()
    assert ProcessIdentity(me.host, me.pid, me.start_ticks, "another-boot").has_ended()


def test_a_running_run_whose_process_ended_reads_interrupted(tmp_path: Path) -> None:
    store = RunStore(tmp_path, Redactor())
    run_id = store.create("review", {})
    pid = dead_pid()
    set_process(store, run_id, socket.gethostname(), pid, None, None)
    [summary] = store.list()
    expected = f"the process running it ({socket.gethostname()}, pid {pid}) ended without finishing it"
    assert (summary.status, summary.reason, summary.pid) == ("interrupted", expected, pid)
    assert store.get(run_id).status == "interrupted"


def test_a_run_records_its_process_and_reads_running_while_it_lives(tmp_path: Path) -> None:
    store = RunStore(tmp_path, Redactor())
    run_id = store.create("review", {})
    with sqlite3.connect(store.path) as db:
        host, pid, ticks, boot = db.execute("SELECT host, pid, pid_start, boot_id FROM runs").fetchone()
    me = ProcessIdentity.current()
    assert (host, pid, ticks, boot) == (me.host, me.pid, me.start_ticks, me.boot_id)
    assert store.get(run_id).status == "running"


def test_a_run_on_another_host_stays_running_and_names_the_host(tmp_path: Path) -> None:
    store = RunStore(tmp_path, Redactor())
    run_id = store.create("review", {})
    set_process(store, run_id, "build-7.example", 4242, 1, "x")
    [summary] = store.list()
    assert summary.status == "running" and summary.host == "build-7.example"
    assert "build-7.example" in summary.reason and "pid 4242" in summary.reason


def test_an_old_database_gains_the_process_columns(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "runs.sqlite3") as db:
        db.executescript(OLD_SCHEMA)
    store = RunStore(tmp_path, Redactor())
    assert {s.run_id: s.status for s in store.list()} == {"run_old": "succeeded", "run_old_open": "running"}
    new_id = store.create("plan", {})
    assert store.get(new_id).pid == os.getpid()
    assert RunStore(tmp_path, Redactor()).get("run_old").host is None  # a second opener migrates nothing


CORRUPT_ROWS = [
    ("run_badjson", "running", "{not json", 1700000000.0, None),
    ("run_badstatus", "exploded", "{}", 1700000000.0, None),
    ("run_badstart", "succeeded", "{}", "yesterday", None),
    ("run_badfinish", "succeeded", "{}", 1700000000.0, 1e300),
    ("run_array", "succeeded", "[1, 2]", 1700000000.0, None),
]


def test_corrupt_rows_are_listed_as_corrupt_and_never_break_the_listing(tmp_path: Path) -> None:
    store = RunStore(tmp_path, Redactor())
    good = store.create("review", {"goal": "g"})
    store.finish(good, "succeeded", "", {}, {})
    with sqlite3.connect(store.path) as db:
        for run_id, status, inputs, started, finished in CORRUPT_ROWS:
            db.execute(
                "INSERT INTO runs (run_id, workflow, status, reason, inputs, result, usage, started, finished) "
                "VALUES (?, 'review', ?, '', ?, '{}', '{}', ?, ?)",
                (run_id, status, inputs, started, finished),
            )
        db.execute("UPDATE runs SET reason = CAST(X'FFFE' AS TEXT) WHERE run_id = ?", (good,))  # not UTF-8
    listed = {s.run_id: s for s in store.list()}
    assert listed[good].status == "succeeded"
    assert {run_id for run_id, s in listed.items() if s.status == "corrupt"} == {row[0] for row in CORRUPT_ROWS}
    assert "not valid JSON" in listed["run_badjson"].reason and "exploded" in listed["run_badstatus"].reason
    with pytest.raises(StoreCorruptError, match=r"run 'run_badstart' .* is corrupt \(start time"):
        store.get("run_badstart")
    with pytest.raises(StoreCorruptError, match="not a JSON object"):
        store.get("run_array")
