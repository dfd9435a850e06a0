"""Run records: created, nodes timed, finished, artifacts paged, unknown ids explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_orchestrator.errors import NotFoundError, UsageError
from agent_orchestrator.policies.redaction import Redactor
from agent_orchestrator.queries.runs import get_artifact, list_runs
from agent_orchestrator.runtime import Runtime
from agent_orchestrator.store.runs import RunStore
from agent_orchestrator.workflows import recorder
from agent_orchestrator.workflows.recorder import RunContext, WorkflowFailed, record_run

pytestmark = pytest.mark.anyio


def test_run_round_trip_is_redacted(tmp_path: Path) -> None:
    store = RunStore(tmp_path, Redactor(["canary-run-secret"]))
    run_id = store.create("review", {"goal": "fix canary-run-secret"})
    store.add_node(run_id, "AnalyseDiff", 0.0, 12, "succeeded", "")
    ref = store.add_artifact(run_id, "diff", "x" * 10)
    store.finish(run_id, "succeeded", "", {"summary": "ok"}, {"requests": 1})
    record = store.get(run_id)
    assert record.status == "succeeded" and record.nodes[0].duration_ms == 12
    assert record.artifacts[0].artifact_id == ref.artifact_id and record.inputs == {"goal": "fix [REDACTED]"}


def test_unknown_run_says_how_to_find_runs(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="`list_runs`"):
        RunStore(tmp_path, Redactor()).get("run_missing")


async def test_record_run_keeps_partial_nodes_and_the_reason(runtime: Runtime) -> None:
    async def body(ctx: RunContext) -> None:
        async with ctx.node("First"):
            pass
        async with ctx.node("Second"):
            raise RuntimeError("endpoint went away")

    with pytest.raises(WorkflowFailed, match="endpoint went away") as failed:
        await record_run(runtime, "demo", {}, body, expected_nodes=2)
    record = runtime.runs.get(failed.value.run_id)
    assert record.status == "failed" and "endpoint went away" in record.reason
    assert [(n.name, n.status) for n in record.nodes] == [("First", "succeeded"), ("Second", "failed")]


async def test_progress_is_reported_at_every_node(runtime: Runtime) -> None:
    seen: list[str] = []

    async def progress(done: int, total: int, message: str) -> None:
        seen.append(message)

    async def body(ctx: RunContext) -> int:
        for name in ("A", "B"):
            async with ctx.node(name):
                pass
        return 7

    assert await record_run(runtime, "demo", {}, body, expected_nodes=2, progress=progress) == 7
    assert [m.split(":")[0] for m in seen] == ["A", "A", "B", "B"]
    assert list_runs(runtime).runs[0].status == "succeeded"


def test_artifacts_are_paged(runtime: Runtime) -> None:
    run_id = runtime.runs.create("demo", {})
    ref = runtime.runs.add_artifact(run_id, "big", "abcdefghij")
    first = get_artifact(runtime, run_id, ref.artifact_id, 0, 4)
    last = get_artifact(runtime, run_id, ref.artifact_id, 8, 4)
    assert (first.content, first.next_offset) == ("abcd", 4) and (last.content, last.next_offset) == ("ij", None)
    with pytest.raises(UsageError):
        get_artifact(runtime, run_id, ref.artifact_id, -1, 4)


async def test_an_exceeded_budget_ends_the_run_with_that_reason(runtime: Runtime) -> None:
    from pydantic_ai.exceptions import UsageLimitExceeded

    async def body(ctx: RunContext) -> None:
        async with ctx.node("AskLeader"):
            raise UsageLimitExceeded("The next request would exceed the request_limit of 6")

    with pytest.raises(WorkflowFailed) as failed:
        await record_run(runtime, "demo", {}, body, expected_nodes=1)
    record = runtime.runs.get(failed.value.run_id)
    assert record.status == "failed" and record.reason.startswith("budget exceeded")


async def test_a_cancelled_run_is_recorded_as_cancelled(runtime: Runtime) -> None:
    import anyio

    started = anyio.Event()

    async def body(ctx: RunContext) -> None:
        async with ctx.node("Slow"):
            started.set()
            await anyio.sleep(30)

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: record_run(runtime, "demo", {}, body, expected_nodes=1))
        await started.wait()
        group.cancel_scope.cancel()
    [run] = runtime.runs.list()
    assert run.status == "cancelled" and run.reason == "the run was cancelled"


async def test_a_keyboard_interrupt_ends_the_run_interrupted_and_propagates(runtime: Runtime) -> None:
    async def body(ctx: RunContext) -> None:
        async with ctx.node("First"):
            pass
        async with ctx.node("Second"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # not swallowed into a WorkflowFailed
        await record_run(runtime, "demo", {}, body, expected_nodes=2)
    [run] = runtime.runs.list()
    record = runtime.runs.get(run.run_id)
    assert record.status == "interrupted" and record.finished_at is not None
    assert [(n.name, n.status) for n in record.nodes] == [("First", "succeeded"), ("Second", "interrupted")]


async def test_a_run_cancelled_while_the_process_stops_says_why(runtime: Runtime) -> None:
    import anyio

    started = anyio.Event()

    async def body(ctx: RunContext) -> None:
        started.set()
        await anyio.sleep(30)

    recorder.note_stop("terminated by SIGTERM")
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: record_run(runtime, "demo", {}, body, expected_nodes=1))
            await started.wait()
            group.cancel_scope.cancel()
    finally:
        recorder.note_stop(None)
    [run] = runtime.runs.list()
    assert (run.status, run.reason) == ("interrupted", "terminated by SIGTERM")


async def test_runs_still_open_are_finished_with_the_reason(runtime: Runtime) -> None:
    import anyio

    started = anyio.Event()
    finished: list[str] = []

    async def body(ctx: RunContext) -> None:
        async with ctx.node("Only"):
            started.set()
            await anyio.sleep(30)

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: record_run(runtime, "demo", {}, body, expected_nodes=1))
        await started.wait()
        finished = recorder.finish_open_runs("terminated by SIGTERM")
        group.cancel_scope.cancel()
    [run] = runtime.runs.list()
    assert finished == [run.run_id]
    assert (run.status, run.reason) == ("interrupted", "terminated by SIGTERM")  # the later cancel changes nothing
    assert recorder.finish_open_runs("again") == []


def test_a_run_is_finished_once(tmp_path: Path) -> None:
    store = RunStore(tmp_path, Redactor())
    run_id = store.create("demo", {})
    assert store.finish(run_id, "succeeded", "", {}, {}) is True
    assert store.finish(run_id, "failed", "late", {}, {}) is False
    assert store.get(run_id).status == "succeeded"
