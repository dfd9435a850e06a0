"""Hostile ends for runs: SIGTERM, kill -9 and corrupt rows, against real `ao` processes.

A run must never stay `running` because its process was stopped: SIGTERM (what `timeout`, service
managers and MCP hosts send) ends it `interrupted` with the reason, for a CLI command and for the
stdio and HTTP servers; a run whose process was killed outright reads `interrupted`. One bad row
never breaks `ao runs list`, and a profiles save killed mid-write leaves no temp file for good.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from fastmcp import Client
from processes import ao_command, initialize_requests

from agent_orchestrator.cli.signals import EXIT_GRACE_S, EXIT_TERMINATED, TERMINATED
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.store.runs import RunRecord, RunStore

TESTS = Path(__file__).resolve().parents[1]
# `ao` with a leader that never answers: the run is in its planning node until the process is stopped.
STUCK_AO = """
import sys
from pathlib import Path

import anyio
from scripted_models import Request, Scripted

from agent_orchestrator.cli import commands, main


async def stuck(request: Request) -> str:
    Path(sys.argv[1]).write_text("the leader was called")
    await anyio.sleep(120)
    raise AssertionError("never answers")


commands.MODEL_FACTORY = Scripted(stuck).factory()
main(sys.argv[2:])
"""
# A profiles save that hangs between writing its temp file and renaming it over the target.
STUCK_SAVE = """
import os
import sys
import time
from pathlib import Path

from store.test_profiles import make_profile

from agent_orchestrator.store.profiles import ProfileStore


def hang(source: str, target: str) -> None:
    Path(sys.argv[1]).write_text("temp file written")
    time.sleep(120)


os.replace = hang
ProfileStore(Path(sys.argv[2])).save(make_profile("litellm:big", reasons=["x" * 800_000]))
"""


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.05)


def stuck_ao(tmp_path: Path, *argv: str, stdin: int | None = None) -> tuple[subprocess.Popen[str], Path]:
    """Start `ao ARGV` whose leader hangs; returns the process and the file it writes when called."""
    script, mark = tmp_path / "stuck_ao.py", tmp_path / "leader-called"
    script.write_text(STUCK_AO)
    env = {
        **os.environ,
        "LEADER_MODEL_PROVIDER": "openai-compatible",
        "LEADER_MODEL_NAME": "leader",
        "LEADER_MODEL_BASE_URL": "http://scripted.test/v1",
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, str(script), str(mark), *argv],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return process, mark


def stop(process: subprocess.Popen[str], sig: signal.Signals, timeout: float) -> tuple[int, str]:
    """Send `sig`, wait (bounded) for the exit; the exit code and stderr."""
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)  # not communicate(): that would close stdin, which a host may not do
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate(timeout=10)
        pytest.fail(f"the process was still running {timeout} s after {sig.name}")
    _, err = process.communicate(timeout=10)
    return process.returncode, err


def only_run(state_dir: Path) -> RunRecord:
    [summary] = RunStore(state_dir, Redactor()).list()
    return RunStore(state_dir, Redactor()).get(summary.run_id)


def assert_terminated(record: RunRecord) -> None:
    assert (record.status, record.reason) == ("interrupted", TERMINATED)
    assert record.finished_at is not None
    assert record.nodes[0].status == "succeeded"  # finished nodes are kept
    assert record.nodes[-1].status == "interrupted"


def test_sigterm_ends_a_cli_run_interrupted_with_the_reason(tmp_path: Path, isolated_env: Path) -> None:
    process, called = stuck_ao(tmp_path, "plan", "--goal", "document the module")
    wait_until(called.exists, 60, "the leader call")
    code, err = stop(process, signal.SIGTERM, 30)
    assert code == EXIT_TERMINATED and TERMINATED in err and "Traceback" not in err
    assert_terminated(only_run(isolated_env / ".ao"))


def test_sigterm_ends_a_run_of_the_stdio_server(tmp_path: Path, isolated_env: Path) -> None:
    process, called = stuck_ao(tmp_path, "mcp", "serve", stdin=subprocess.PIPE)
    assert process.stdin is not None
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "plan", "arguments": {"goal": "g"}},
    }
    process.stdin.writelines(json.dumps(message) + "\n" for message in [*initialize_requests(), call])
    process.stdin.flush()  # and stdin stays open: the host does not close it before SIGTERM
    wait_until(called.exists, 60, "the leader call")
    code, _ = stop(process, signal.SIGTERM, EXIT_GRACE_S + 30)
    assert code == EXIT_TERMINATED
    assert_terminated(only_run(isolated_env / ".ao"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.anyio
async def test_sigterm_ends_a_run_of_the_http_server(tmp_path: Path, isolated_env: Path) -> None:
    port = free_port()
    process, called = stuck_ao(tmp_path, "mcp", "serve", "--transport", "http", "--port", str(port))

    async def call_plan() -> None:
        with contextlib.suppress(Exception):  # the server goes away mid-call, however the client says it
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                await client.call_tool("plan", {"goal": "g"})

    code = None
    async with anyio.create_task_group() as group:
        with anyio.fail_after(60):
            while not await _accepts(port):
                assert process.poll() is None, process.communicate()[1]
                await anyio.sleep(0.1)
            group.start_soon(call_plan)
            while not called.exists():
                await anyio.sleep(0.05)
        code, _ = await anyio.to_thread.run_sync(lambda: stop(process, signal.SIGTERM, EXIT_GRACE_S + 30))
        group.cancel_scope.cancel()  # whatever state the client is in
    assert code == EXIT_TERMINATED
    assert_terminated(only_run(isolated_env / ".ao"))


async def _accepts(port: int) -> bool:
    try:
        stream = await anyio.connect_tcp("127.0.0.1", port)
    except OSError:
        return False
    await stream.aclose()
    return True


def test_a_run_killed_outright_reads_interrupted(tmp_path: Path, isolated_env: Path) -> None:
    process, called = stuck_ao(tmp_path, "plan", "--goal", "document the module")
    wait_until(called.exists, 60, "the leader call")
    stop(process, signal.SIGKILL, 30)
    record = only_run(isolated_env / ".ao")
    expected = f"the process running it ({socket.gethostname()}, pid {process.pid}) ended without finishing it"
    assert (record.status, record.reason, record.pid) == ("interrupted", expected, process.pid)
    listing = subprocess.run([*ao_command(), "runs", "list"], capture_output=True, text=True, timeout=60)
    [row] = [line.split() for line in listing.stdout.splitlines() if line.startswith(record.run_id)]
    assert listing.returncode == 0 and row[2] == "interrupted"


def test_a_corrupt_row_does_not_break_ao_runs(isolated_env: Path) -> None:
    store = RunStore(isolated_env / ".ao", Redactor())
    good = store.create("review", {})
    store.finish(good, "succeeded", "", {}, {})
    with sqlite3.connect(store.path) as db:
        db.execute(
            "INSERT INTO runs (run_id, workflow, status, reason, inputs, result, usage, started, finished, host, "
            "pid, pid_start, boot_id) VALUES ('run_bad', 'review', 'weird', '', '{', '{}', '{}', 'x', 'y', NULL, 1, 2, 3)"
        )
    listing = subprocess.run([*ao_command(), "runs", "list", "--json"], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    statuses = {run["run_id"]: run["status"] for run in json.loads(listing.stdout)["runs"]}
    assert statuses == {good: "succeeded", "run_bad": "corrupt"}
    text = subprocess.run([*ao_command(), "runs", "list"], capture_output=True, text=True, timeout=60)
    assert text.returncode == 0 and "run_bad" in text.stdout and "corrupt" in text.stdout
    shown = subprocess.run([*ao_command(), "runs", "show", "run_bad"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 1 and "run 'run_bad'" in shown.stderr and "is corrupt" in shown.stderr
    assert "internal error" not in shown.stderr + text.stderr + listing.stderr


def test_a_profiles_save_killed_mid_write_leaves_no_temp_file_for_good(tmp_path: Path) -> None:
    state, written = tmp_path / "state", tmp_path / "temp-written"
    script = tmp_path / "stuck_save.py"
    script.write_text(STUCK_SAVE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(script), str(written), str(state)], env=env, text=True)
    wait_until(written.exists, 60, "the temp file")
    stop(process, signal.SIGKILL, 30)
    [left] = [p for p in state.iterdir() if p.name.endswith(".tmp")]
    assert left.name.startswith(".worker-profiles.json.") and left.stat().st_size > 800_000
    from store.test_profiles import make_profile

    from agent_orchestrator.store.profiles import ProfileStore

    ProfileStore(state).save(make_profile("litellm:qwen"))
    assert [p.name for p in state.iterdir() if p.name.endswith(".tmp")] == []


def test_sigterm_handling_lasts_only_as_long_as_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    from agent_orchestrator.cli import main, signals

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit):
        main(["runs", "list"])
    assert signal.getsignal(signal.SIGTERM) is before and signals.stop_reason() is None
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        signals.install()  # a parent that ignores SIGTERM for us meant it
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        signals.uninstall()
    finally:
        signal.signal(signal.SIGTERM, previous)
