"""The SQL stores and the profiles on PostgreSQL (AO_DATABASE_URL): the SQLite stores' behaviour, shared.

Each test gets a database of its own on the throwaway cluster of `tests/postgres.py` (skipped when
PostgreSQL 15 is not installed).
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from postgres import fresh_database
from saved_profiles import make_profile

from agent_orchestrator.config import load_settings
from agent_orchestrator.domain.calls import CallRecord
from agent_orchestrator.errors import ConfigError, NotFoundError, StoreCorruptError, StoreError, UsageError
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.audit import AuditLog
from agent_orchestrator.store.calls import CallLedger
from agent_orchestrator.store.postgres import PostgresDatabase, describe, translate
from agent_orchestrator.store.profiles import ProfileStore
from agent_orchestrator.store.runs import RunStore

SECRET = "canary-postgres-secret-5150"


@pytest.fixture
def url(postgres_url: str) -> str:
    return fresh_database(postgres_url)


def sql(url: str, statement: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one statement in schema `ao` of the database, as an operator (or a bug) would."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("SET search_path TO ao")
        cursor = db.execute(statement, tuple(parameters))  # pyright: ignore[reportArgumentType]
        return cursor.fetchall() if cursor.description else []


def runs(tmp_path: Path, url: str) -> RunStore:
    return RunStore(tmp_path / "state", Redactor([SECRET]), database_url=url)


def call(call_id: str | None, cost: float | None = 0.25, **changes: Any) -> CallRecord:
    fields: dict[str, Any] = {
        "role": "leader",
        "model_id": "openai:gpt-4o",
        "started": 1_000.0,
        "latency_ms": 5,
        "attempts": 1,
        "requests": 1,
        "input_tokens": 100,
        "output_tokens": 10,
        "cost_usd": cost,
        "call_id": call_id,
    }
    return CallRecord(**(fields | changes))


def test_statements_are_translated_for_postgres() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c LIKE '10%?' AND d = ?") == (
        "SELECT a FROM t WHERE b = %s AND c LIKE '10%%?' AND d = %s"
    )
    assert translate("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL, n INTEGER)") == (
        "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION, n BIGINT)"
    )
    assert (
        translate("ALTER TABLE runs ADD COLUMN updated REAL")
        == "ALTER TABLE runs ADD COLUMN updated DOUBLE PRECISION"
    )
    assert translate("SELECT REAL FROM t") == "SELECT REAL FROM t"  # types are translated in DDL only
    assert (
        describe("postgresql://u:hunter2@db.example:6543/ao?sslmode=require") == "postgresql://db.example:6543/ao"
    )


def test_a_run_round_trips_through_postgres(tmp_path: Path, url: str) -> None:
    store = runs(tmp_path, url)
    run_id = store.create("review", {"goal": f"fix {SECRET}"}, status="queued", engine="dbos", workspace="/w")
    assert store.get(run_id).status == "queued" and store.get(run_id).pid is None
    assert [s.run_id for s in store.list_unfinished(engine="dbos")] == [run_id]
    assert store.start(run_id) is True
    store.set_progress(run_id, 1, 2, "AnalyseDiff " + "x" * 1000)
    store.add_node(run_id, "AnalyseDiff", 10.0, 12, "succeeded", "", node_key="AnalyseDiff:1")
    store.add_node(run_id, "Review", 11.0, 40, "cancelled", "", node_key="Review:1")
    store.add_node(run_id, "AnalyseDiff", 20.0, 1, "succeeded", "replayed", node_key="AnalyseDiff:1")
    store.add_node(run_id, "Review", 21.0, 50, "succeeded", "", node_key="Review:1")
    store.add_node(run_id, "Summarise", 22.0, 5, "succeeded", "nul \x00 kept out")
    first = store.add_artifact(run_id, "diff", "abc", artifact_key="diff:1")
    other = store.add_artifact(run_id, "notes", "n")
    again = store.add_artifact(run_id, "diff", "abcdef", artifact_key="diff:1")
    assert first.artifact_id == again.artifact_id
    assert store.finish(run_id, "succeeded", "", {"summary": "ok"}, {"requests": 1}) is True
    assert store.finish(run_id, "failed", "late", {}, {}) is False

    record = store.get(run_id)
    assert (record.status, record.engine, record.workspace, record.pid) == ("succeeded", "dbos", "/w", os.getpid())
    assert record.inputs == {"goal": "fix [REDACTED]"} and record.result == {"summary": "ok"}
    assert record.progress is not None and (record.progress.done, len(record.progress.message)) == (1, 500)
    assert [(n.name, n.duration_ms, n.status, n.detail) for n in record.nodes] == [
        ("AnalyseDiff", 12, "succeeded", ""),
        ("Review", 50, "succeeded", ""),
        ("Summarise", 5, "succeeded", "nul \ufffd kept out"),
    ]
    assert record.nodes[0].started_at.timestamp() == 10.0  # a double, not a 4-byte REAL
    assert [(r.artifact_id, r.size) for r in record.artifacts] == [(first.artifact_id, 6), (other.artifact_id, 1)]
    assert store.get_artifact(run_id, first.artifact_id).content == "abcdef"
    assert [s.run_id for s in store.list()] == [run_id] and store.list_unfinished() == []
    with pytest.raises(UsageError, match="already recorded"):
        store.create("review", {}, run_id=run_id)
    with pytest.raises(NotFoundError, match="`list_runs`"):
        store.get("run_missing")
    assert store.start(run_id) is False and store.requeue("run_missing", "x") is False


def test_queued_runs_are_cancelled_and_requeued(tmp_path: Path, url: str) -> None:
    store = runs(tmp_path, url)
    queued = store.create("review", {}, status="queued", engine="dbos")
    assert store.cancel_queued(queued, "cancelled by the user") is True
    assert store.cancel_queued(queued, "again") is False
    assert store.requeue(queued, "resumed by the user") is True
    assert (store.get(queued).status, store.get(queued).reason) == ("queued", "resumed by the user")
    crashed = store.create("review", {}, engine="dbos")
    assert store.requeue(crashed, "resumed") is False  # its process (this one) is alive
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    sql(
        url,
        "UPDATE runs SET host = %s, pid = %s WHERE run_id = %s",
        (socket.gethostname(), int(ended.stdout), crashed),
    )
    assert store.get(crashed).status == "interrupted"
    assert store.requeue(crashed, "resumed after a crash") is True
    assert (store.get(crashed).status, store.get(crashed).pid) == ("queued", None)


def test_corrupt_rows_are_listed_as_corrupt(tmp_path: Path, url: str) -> None:
    store = runs(tmp_path, url)
    good = store.create("review", {})
    for run_id, status, inputs, finished in (
        ("run_badjson", "running", "{not json", None),
        ("run_badstatus", "exploded", "{}", None),
        ("run_badfinish", "succeeded", "{}", 1e300),
        ("run_array", "succeeded", "[1, 2]", None),
    ):
        sql(
            url,
            "INSERT INTO runs (run_id, workflow, status, reason, inputs, result, usage, started, finished) "
            "VALUES (%s, 'review', %s, '', %s, '{}', '{}', 1700000000.0, %s)",
            (run_id, status, inputs, finished),
        )
    listed = {s.run_id: s for s in store.list()}
    assert listed[good].status == "running"
    assert {run_id for run_id, s in listed.items() if s.status == "corrupt"} == {
        "run_badjson",
        "run_badstatus",
        "run_badfinish",
        "run_array",
    }
    assert "not valid JSON" in listed["run_badjson"].reason and "exploded" in listed["run_badstatus"].reason
    with pytest.raises(
        StoreCorruptError, match=r"run 'run_array' in 'postgresql://127\.0\.0\.1:\d+/ao_\w+' is corrupt"
    ):
        store.get("run_array")


def test_the_ledger_records_a_call_once_and_reports_spend(tmp_path: Path, url: str) -> None:
    ledger = CallLedger(tmp_path / "state", Redactor([SECRET]), database_url=url)
    ledger.add("run_a", "review", call("call_1"))
    ledger.add("run_a", "review", call("call_1"))  # a replayed step records it again: a no-op
    ledger.add("run_a", "review", call(None, attempts=3, error_kind="timeout", error=f"slow {SECRET}"))
    ledger.add("run_a", "review", call(None, cost=None, role="worker", model_id="litellm:qwen"))
    ledger.add("run_b", "plan", call("call_2", cost=1.0, started=5_000.0))
    calls = ledger.for_run("run_a")
    assert [c.call_id for c in calls] == ["call_1", None, None]
    assert calls[1].error == "slow [REDACTED]"
    assert ledger.cost_since(datetime.fromtimestamp(0, UTC)) == pytest.approx(1.5)
    assert ledger.cost_since(datetime.fromtimestamp(2_000, UTC)) == pytest.approx(1.0)
    report = ledger.report(datetime.fromtimestamp(0, UTC), datetime.fromtimestamp(2_000, UTC), "model")
    by_model = {row.key: row for row in report.rows}
    gpt, qwen = by_model["openai:gpt-4o"], by_model["litellm:qwen"]
    assert (gpt.calls, gpt.failed_calls, gpt.retries, gpt.input_tokens, gpt.cost_usd) == (2, 1, 2, 200, 0.5)
    assert (qwen.calls, qwen.cost_usd, qwen.unpriced_calls) == (1, None, 1)
    assert (report.total_calls, report.total_cost_usd) == (3, 0.5)
    assert [row.key for row in ledger.report(report.since, report.until, "role").rows] == ["leader", "worker"]


def test_the_audit_log_records_prunes_and_lists(tmp_path: Path, url: str) -> None:
    log = AuditLog(tmp_path / "state", Redactor([SECRET]), max_rows=5, database_url=url)
    log.record("command", f"curl -H 'Authorization: {SECRET}'", "refused", "chaining", rule="command.chaining")
    log.record("write", "src/a.py", "dry_run", "AO_DRY_RUN is true", details={"token": SECRET})
    records = log.recent()
    assert [r.kind for r in records] == ["write", "command"] and records[1].rule == "command.chaining"
    assert SECRET not in str([r.model_dump() for r in records])
    for index in range(8):
        log.record("policy", f"action {index}", "allowed", "ok")
    assert [r.action for r in log.recent(limit=100)] == [f"action {index}" for index in range(7, 2, -1)]
    expiring = AuditLog(tmp_path / "state", Redactor(), retention_days=1e-9, database_url=url)
    expiring.record("policy", "last", "allowed", "ok")
    assert [r.action for r in expiring.recent()] in (["last"], [])


def test_profiles_are_saved_loaded_and_corrupt_rows_left_untouched(tmp_path: Path, url: str) -> None:
    store = ProfileStore(tmp_path / "state", database_url=url)
    assert store.load() == {}
    assert store.save(make_profile("litellm:qwen")) == store.location
    store.save(make_profile("litellm:qwen", status="active"))
    store.save(make_profile("litellm:big"))
    assert sorted(store.load()) == ["litellm:big", "litellm:qwen"] and store.get("litellm:qwen").status == "active"
    with pytest.raises(NotFoundError, match=r"known: litellm:big, litellm:qwen"):
        store.get("litellm:nope")
    assert "ao.worker_profiles" in store.location and not (tmp_path / "state").exists()

    sql(url, "UPDATE worker_profiles SET profile = '{not json' WHERE worker_id = 'litellm:big'")
    with pytest.raises(StoreCorruptError, match=r"'litellm:big' .* left untouched"):
        store.load()
    with pytest.raises(StoreCorruptError, match="left untouched"):
        store.save(make_profile("litellm:big"))
    store.save(make_profile("litellm:other"))  # another worker's row is still saved
    assert sql(url, "SELECT profile FROM worker_profiles WHERE worker_id = 'litellm:big'") == [("{not json",)]


def test_two_stores_and_another_process_share_the_runs(tmp_path: Path, url: str) -> None:
    here, there = runs(tmp_path / "a", url), runs(tmp_path / "b", url)
    run_id = here.create("review", {})
    assert [s.run_id for s in there.list()] == [run_id]
    there.finish(run_id, "succeeded", "", {}, {})
    assert here.get(run_id).status == "succeeded"
    script = (
        "import sys\nfrom pathlib import Path\nfrom agent_orchestrator.store.runs import RunStore\n"
        "store = RunStore(Path(sys.argv[1]), lambda text: text, database_url=sys.argv[2])\n"
        "print(store.create('plan', {}, status='queued', engine='dbos'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "c"), url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert {s.run_id: s.status for s in here.list()} == {run_id: "succeeded", done.stdout.strip(): "queued"}


def test_a_connection_the_server_dropped_is_replaced(tmp_path: Path, url: str) -> None:
    store = runs(tmp_path, url)
    run_id = store.create("review", {})
    ended = sql(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'agent-orchestrator' AND datname = current_database()",
    )
    assert ended == [(True,)]
    assert store.get(run_id).status == "running"  # its BEGIN failed on the dead connection: reopened, retried


def _open_and_write(state_dir: str, url: str, worker: int) -> None:
    store = RunStore(Path(state_dir), lambda text: text, database_url=url)
    ledger = CallLedger(Path(state_dir), lambda text: text, database_url=url)
    profiles = ProfileStore(Path(state_dir), database_url=url)
    for index in range(5):
        run_id = store.create("review", {"worker": worker, "index": index})
        ledger.add(run_id, "review", call(f"call_{worker}_{index}"))
        profiles.save(make_profile(f"litellm:w{worker}-{index}"))


def test_processes_starting_at_once_create_the_schema_once(tmp_path: Path, url: str) -> None:
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_open_and_write, args=(str(tmp_path), url, n)) for n in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert len(runs(tmp_path, url).list(limit=100)) == 20
    assert len(ProfileStore(tmp_path, database_url=url).load()) == 20
    assert sql(url, "SELECT COUNT(*) FROM model_calls") == [(20,)]


def test_opening_twice_migrates_nothing_and_the_tables_are_in_schema_ao(tmp_path: Path, url: str) -> None:
    first = runs(tmp_path, url)
    run_id = first.create("review", {})
    first.add_artifact(run_id, "diff", "x")
    CallLedger(tmp_path, Redactor(), database_url=url).add(run_id, "review", call("call_1"))
    second = runs(tmp_path, url)  # prepares again: every CREATE and migration step is a no-op
    assert second.get(run_id).artifacts[0].name == "diff"
    CallLedger(tmp_path, Redactor(), database_url=url).add(run_id, "review", call("call_1"))
    assert len(CallLedger(tmp_path, Redactor(), database_url=url).for_run(run_id)) == 1
    tables = sql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'ao' ORDER BY 1")
    assert [t[0] for t in tables] == ["artifacts", "model_calls", "nodes", "runs"]
    indexes = {row[0] for row in sql(url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'ao'")}
    assert {"nodes_key", "model_calls_call_id", "runs_started", "model_calls_started"} <= indexes


def test_nothing_is_written_to_the_state_dir(tmp_path: Path, url: str) -> None:
    state = tmp_path / "state"
    store = RunStore(state, Redactor(), database_url=url)
    assert store.list() == []
    store.create("review", {})
    CallLedger(state, Redactor(), database_url=url).add("run_x", "review", call(None))
    AuditLog(state, Redactor(), database_url=url).record("policy", "x", "allowed", "ok")
    ProfileStore(state, database_url=url).save(make_profile("litellm:qwen"))
    assert not state.exists()


def test_the_runtime_keeps_every_store_in_the_configured_database(isolated_env: Path, url: str) -> None:
    settings = load_settings(ao_database_url=url)
    runtime = Runtime.create(settings)
    run_id = runtime.runs.create("review", {})
    runtime.ledger.add(run_id, "review", call("call_1"))
    runtime.audit.record("policy", "x", "allowed", "ok")
    runtime.profiles.save(make_profile("litellm:qwen"))
    other = Runtime.create(load_settings(ao_database_url=url, ao_state_dir=isolated_env / ".elsewhere"))
    assert [s.run_id for s in other.runs.list()] == [run_id] and len(other.ledger.for_run(run_id)) == 1
    assert [r.action for r in other.audit.recent()] == ["x"] and list(other.profiles.load()) == ["litellm:qwen"]
    assert not settings.ao_state_dir.exists()


def test_an_unreachable_database_is_named_without_its_password() -> None:
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    free = port.getsockname()[1]
    port.close()
    database = PostgresDatabase(f"postgresql://ao:{SECRET}@127.0.0.1:{free}/ao", "CREATE TABLE t (a TEXT)")
    with pytest.raises(StoreError) as failed, database.transaction():
        pass
    assert f"the database at postgresql://127.0.0.1:{free}/ao cannot be used" in str(failed.value)
    assert SECRET not in str(failed.value)
    with pytest.raises(ConfigError, match=r"must be a postgresql:// URL \(it has mysql\)") as refused:
        PostgresDatabase(f"mysql://ao:{SECRET}@db/ao", "")
    assert SECRET not in str(refused.value)


def test_sqlalchemy_style_urls_are_accepted(tmp_path: Path, url: str) -> None:
    store = RunStore(tmp_path, Redactor(), database_url=url.replace("postgresql://", "postgresql+psycopg://"))
    assert store.list() == [] and store.location.startswith("postgresql://127.0.0.1:")
