"""Run records of durable runs: queued then started, requeued, progress, replayed nodes, artifacts and calls."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.errors import UsageError
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.store.calls import CallLedger
from agent_orchestrator.store.runs import RunStore

SECRET = "canary-durable-secret-4242"
# Today's schema before durable runs: no engine/workspace/parent/progress/updated, no node keys, no call ids.
OLD_SCHEMA = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
    inputs TEXT NOT NULL, result TEXT NOT NULL, usage TEXT NOT NULL, started REAL NOT NULL, finished REAL,
    host TEXT, pid INTEGER, pid_start INTEGER, boot_id TEXT
);
CREATE TABLE nodes (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, started REAL NOT NULL,
    duration_ms INTEGER NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (run_id, seq)
);
CREATE TABLE artifacts (
    run_id TEXT NOT NULL, artifact_id TEXT NOT NULL, name TEXT NOT NULL, media_type TEXT NOT NULL,
    content TEXT NOT NULL, PRIMARY KEY (run_id, artifact_id)
);
CREATE INDEX runs_started ON runs (started);
CREATE TABLE model_calls (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, workflow TEXT NOT NULL,
    role TEXT NOT NULL, model_id TEXT NOT NULL, started REAL NOT NULL, latency_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL, requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL, cost_usd REAL, error_kind TEXT, error TEXT,
    fallback_from TEXT, fallback_reason TEXT
);
CREATE INDEX model_calls_started ON model_calls (started);
CREATE INDEX model_calls_run ON model_calls (run_id);
INSERT INTO runs VALUES ('run_old', 'review', 'succeeded', '', '{}', '{}', '{}', 1700000000.0, 1700000001.0,
    NULL, NULL, NULL, NULL);
INSERT INTO nodes VALUES ('run_old', 0, 'AnalyseDiff', 1700000000.0, 12, 'succeeded', '');
INSERT INTO nodes VALUES ('run_old', 1, 'Review', 1700000000.5, 30, 'succeeded', '');
INSERT INTO model_calls (run_id, workflow, role, model_id, started, latency_ms, attempts, requests,
    input_tokens, output_tokens, cost_usd) VALUES ('run_old', 'review', 'leader', 'openai:gpt-4o', 1700000000.2,
    5, 1, 1, 100, 10, 0.5);
"""


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return process.pid


def kill_owner(store: RunStore, run_id: str) -> int:
    """Make the run look owned by a process on this host that has ended."""
    pid = dead_pid()
    with sqlite3.connect(store.path) as db:
        db.execute(
            "UPDATE runs SET host = ?, pid = ?, pid_start = NULL, boot_id = NULL WHERE run_id = ?",
            (socket.gethostname(), pid, run_id),
        )
    return pid


def process_of(store: RunStore, run_id: str) -> tuple[object, ...]:
    with sqlite3.connect(store.path) as db:
        return tuple(db.execute("SELECT host, pid FROM runs WHERE run_id = ?", (run_id,)).fetchone())


def call(call_id: str | None, cost: float = 0.25) -> CallRecord:
    return CallRecord(
        role="leader",
        model_id="openai:gpt-4o",
        started=1.0,
        latency_ms=5,
        attempts=1,
        requests=1,
        input_tokens=100,
        output_tokens=10,
        cost_usd=cost,
        call_id=call_id,
    )


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path, Redactor([SECRET]))


def test_a_queued_run_records_no_process_until_it_starts_then_finishes(store: RunStore) -> None:
    run_id = store.create(
        "review", {"goal": "g"}, status="queued", engine="dbos", workspace="/w", parent_run_id="run_parent"
    )
    queued = store.get(run_id)
    assert (queued.status, queued.engine, queued.workspace, queued.parent_run_id) == (
        "queued",
        "dbos",
        "/w",
        "run_parent",
    )
    assert queued.host is None and queued.pid is None and queued.progress is None
    assert process_of(store, run_id) == (None, None)
    assert [s.run_id for s in store.list_unfinished()] == [run_id]
    assert store.start(run_id) is True
    started = store.get(run_id)
    assert (started.status, started.pid, started.host) == ("running", os.getpid(), socket.gethostname())
    assert store.finish(run_id, "succeeded", "", {"ok": True}, {}) is True
    assert store.start(run_id) is False  # a finished run is never started again
    assert store.get(run_id).status == "succeeded" and store.list_unfinished() == []


def test_a_given_run_id_is_used_once_and_inline_is_the_default_engine(store: RunStore) -> None:
    assert store.create("review", {}, run_id="run_fixed") == "run_fixed"
    record = store.get("run_fixed")
    assert (record.status, record.engine, record.pid) == ("running", "inline", os.getpid())
    with pytest.raises(UsageError, match="already recorded"):
        store.create("review", {}, run_id="run_fixed")


def test_a_queued_run_can_be_finished_without_starting(store: RunStore) -> None:
    run_id = store.create("review", {}, status="queued", engine="dbos")
    assert store.finish(run_id, "failed", "the engine refused it", {}, {}) is True
    assert store.get(run_id).status == "failed"


def test_start_takes_over_interrupted_and_cancelled_runs(store: RunStore) -> None:
    interrupted = store.create("review", {}, engine="dbos")
    store.finish(interrupted, "interrupted", "terminated by SIGTERM", {}, {})
    assert store.start(interrupted) is True
    record = store.get(interrupted)
    assert (record.status, record.reason, record.finished_at) == ("running", "", None)
    assert store.start("run_missing") is False


def test_cancel_queued_only_cancels_a_queued_run(store: RunStore) -> None:
    queued = store.create("review", {}, status="queued", engine="dbos")
    running = store.create("review", {}, engine="dbos")
    assert store.cancel_queued(queued, f"cancelled by the user ({SECRET})") is True
    record = store.get(queued)
    assert record.status == "cancelled" and record.finished_at is not None and SECRET not in record.reason
    assert store.cancel_queued(queued, "again") is False
    assert store.cancel_queued(running, "no") is False and store.get(running).status == "running"


def test_requeue_sends_resumable_runs_back_to_the_queue(store: RunStore) -> None:
    cancelled = store.create("review", {}, status="queued", engine="dbos")
    store.cancel_queued(cancelled, "cancelled")
    assert store.requeue(cancelled, "resumed by the user") is True
    record = store.get(cancelled)
    assert (record.status, record.reason, record.finished_at, record.pid) == (
        "queued",
        "resumed by the user",
        None,
        None,
    )

    crashed = store.create("review", {}, engine="dbos")
    assert store.requeue(crashed, "resumed") is False  # its process (this one) is alive
    kill_owner(store, crashed)
    assert store.requeue(crashed, "resumed after a crash") is True
    assert store.get(crashed).status == "queued" and process_of(store, crashed) == (None, None)

    done = store.create("review", {}, engine="dbos")
    store.finish(done, "succeeded", "", {}, {})
    assert store.requeue(done, "x") is False and store.get(done).status == "succeeded"
    assert store.requeue("run_missing", "x") is False


def test_progress_round_trips_redacted_and_cut(store: RunStore) -> None:
    run_id = store.create("review", {})
    store.set_progress(run_id, 1, 3, f"AnalyseDiff: done {SECRET} " + "x" * 1000)
    progress = store.get(run_id).progress
    assert progress is not None and (progress.done, progress.total) == (1, 3)
    assert SECRET not in progress.message and len(progress.message) == 500
    assert progress.message.startswith("AnalyseDiff: done [REDACTED]")
    store.set_progress(run_id, 2, 3, "Review")
    [summary] = store.list()
    assert summary.progress is not None and (summary.progress.done, summary.progress.message) == (2, "Review")


@pytest.mark.parametrize(
    "stored", ["{not json", "[1]", '{"done": "many", "total": 3, "message": "m", "at": 1.0}', '{"done": 1}', "7"]
)
def test_an_unreadable_progress_reads_as_none_and_never_breaks_the_listing(store: RunStore, stored: str) -> None:
    run_id = store.create("review", {})
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET progress = ? WHERE run_id = ?", (stored, run_id))
    [summary] = store.list()
    assert (summary.status, summary.progress) == ("running", None)
    assert store.get(run_id).progress is None


def test_a_corrupt_engine_column_lists_the_run_as_corrupt(store: RunStore) -> None:
    good = store.create("review", {})
    bad = store.create("review", {})
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET engine = X'01' WHERE run_id = ?", (bad,))  # a blob, not text
    listed = {s.run_id: s for s in store.list()}
    assert listed[good].status == "running" and listed[bad].status == "corrupt"
    assert "engine" in listed[bad].reason


def test_a_replayed_node_keeps_its_first_timing_and_place(store: RunStore) -> None:
    run_id = store.create("review", {}, engine="dbos")
    store.add_node(run_id, "AnalyseDiff", 10.0, 12, "succeeded", "", node_key="AnalyseDiff:1")
    store.add_node(run_id, "Review", 11.0, 40, "cancelled", "", node_key="Review:1")
    # the run resumed: its body replays both nodes
    store.add_node(run_id, "AnalyseDiff", 20.0, 1, "succeeded", "replayed", node_key="AnalyseDiff:1")
    store.add_node(run_id, "Review", 21.0, 50, "succeeded", "", node_key="Review:1")
    store.add_node(run_id, "Summarise", 22.0, 5, "succeeded", "")  # no key: appended as today
    nodes = store.get(run_id).nodes
    assert [(n.name, n.duration_ms, n.status, n.detail) for n in nodes] == [
        ("AnalyseDiff", 12, "succeeded", ""),
        ("Review", 50, "succeeded", ""),
        ("Summarise", 5, "succeeded", ""),
    ]
    assert nodes[0].started_at.timestamp() == 10.0
    with sqlite3.connect(store.path) as db:
        keys = db.execute("SELECT seq, node_key FROM nodes WHERE run_id = ? ORDER BY seq", (run_id,)).fetchall()
    assert keys == [(0, "AnalyseDiff:1"), (1, "Review:1"), (2, "seq:2")]


def test_an_artifact_with_a_key_has_one_deterministic_id(store: RunStore, tmp_path: Path) -> None:
    run_id = store.create("review", {}, engine="dbos")
    first = store.add_artifact(run_id, "diff", "abc", artifact_key="diff:1")
    other = store.add_artifact(run_id, "notes", "n")
    again = store.add_artifact(run_id, "diff", "abcdef", artifact_key="diff:1")
    assert first.artifact_id == again.artifact_id and first.artifact_id.startswith("art_")
    assert len(first.artifact_id) == len("art_") + 10
    assert RunStore(tmp_path, Redactor()).add_artifact(
        "run_other", "diff", "x", artifact_key="diff:1"
    ).artifact_id != (first.artifact_id)  # the id depends on the run too
    refs = store.get(run_id).artifacts
    assert [(r.artifact_id, r.size) for r in refs] == [(first.artifact_id, 6), (other.artifact_id, 1)]
    assert store.get_artifact(run_id, first.artifact_id).content == "abcdef"


def test_a_running_dbos_run_whose_process_ended_reads_interrupted_and_resumable(store: RunStore) -> None:
    durable = store.create("review", {}, engine="dbos")
    inline = store.create("review", {})
    pid = kill_owner(store, durable)
    inline_pid = kill_owner(store, inline)
    listed = {s.run_id: s for s in store.list()}
    ended = f"the process running it ({socket.gethostname()}, pid {pid}) ended without finishing it"
    assert (listed[durable].status, listed[durable].reason) == (
        "interrupted",
        f"{ended} (resumable: `ao runs resume {durable}`)",
    )
    assert listed[inline].status == "interrupted" and listed[inline].reason.endswith(
        f"pid {inline_pid}) ended without finishing it"
    )
    assert store.get(durable).status == "interrupted"
    unfinished = store.list_unfinished(engine="dbos")  # filtered on the stored status: still `running`
    assert [(s.run_id, s.status) for s in unfinished] == [(durable, "interrupted")]
    assert [s.run_id for s in store.list_unfinished(engine="inline")] == [inline]


def test_list_unfinished_is_newest_first_and_skips_ended_runs(store: RunStore) -> None:
    older = store.create("review", {}, status="queued", engine="dbos")
    ended = store.create("review", {}, engine="dbos")
    store.finish(ended, "failed", "x", {}, {})
    newer = store.create("review", {}, engine="dbos")
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET started = started - 100 WHERE run_id = ?", (older,))
    assert [s.run_id for s in store.list_unfinished()] == [newer, older]


def test_the_ledger_records_a_call_id_once(tmp_path: Path) -> None:
    ledger = CallLedger(tmp_path, Redactor())
    ledger.add("run_a", "review", call("call_1"))
    ledger.add("run_a", "review", call("call_1"))  # the replay of a step that had already recorded it
    ledger.add("run_a", "review", call(None))
    ledger.add("run_a", "review", call(None))  # calls without an id are never merged
    calls = ledger.for_run("run_a")
    assert [c.call_id for c in calls] == ["call_1", None, None]
    assert ledger.cost_since(__import__("datetime").datetime.fromtimestamp(0)) == pytest.approx(0.75)


def test_an_old_database_is_migrated_and_still_read(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "runs.sqlite3") as db:
        db.executescript(OLD_SCHEMA)
    ledger = CallLedger(tmp_path, Redactor())  # the ledger opens the file first: each schema migrates itself
    [old_call] = ledger.for_run("run_old")
    assert (old_call.model_id, old_call.cost_usd, old_call.call_id) == ("openai:gpt-4o", 0.5, None)
    ledger.add("run_old", "review", call("call_x"))
    ledger.add("run_old", "review", call("call_x"))
    assert [c.call_id for c in ledger.for_run("run_old")] == [None, "call_x"]

    store = RunStore(tmp_path, Redactor())
    record = store.get("run_old")
    assert (record.status, record.engine, record.progress, record.workspace) == ("succeeded", "inline", None, None)
    assert [(n.name, n.duration_ms) for n in record.nodes] == [("AnalyseDiff", 12), ("Review", 30)]
    with sqlite3.connect(tmp_path / "runs.sqlite3") as db:
        keys = db.execute("SELECT node_key FROM nodes ORDER BY seq").fetchall()
        indexes = {row[1] for row in db.execute("PRAGMA index_list(nodes)")}
    assert keys == [("legacy:0",), ("legacy:1",)] and "nodes_key" in indexes
    store.add_node("run_old", "Again", 1.0, 1, "succeeded", "")  # a new node goes after the old ones
    assert [n.name for n in store.get("run_old").nodes] == ["AnalyseDiff", "Review", "Again"]
    queued = store.create("plan", {}, status="queued", engine="dbos", workspace="/w")
    store.set_progress(queued, 0, 2, "waiting")
    assert RunStore(tmp_path, Redactor()).get(queued).workspace == "/w"  # a second opener migrates nothing
    assert json.loads(json.dumps(store.get(queued).model_dump(mode="json")))["engine"] == "dbos"
